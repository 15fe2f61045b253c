"""Builds the chat and code engines once per process (called from app.py's main, never at import)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from assistant.config import AssistantSettings
from assistant.generation import Engine

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The engines every session shares.

    Attributes:
        chat: chat and document-review engine.
        code: code-generation engine (the same object when one model serves both).
    """

    chat: Engine
    code: Engine

    def close(self) -> None:
        """Stop background threads of the engines."""
        for engine in {id(self.chat): self.chat, id(self.code): self.code}.values():
            getattr(engine, "close", lambda: None)()


def load_runtime(settings: AssistantSettings | None = None) -> Runtime:
    """Load the configured backend, including the warm-up generation.

    Args:
        settings: defaults to `AssistantSettings()` (environment).

    Returns:
        The shared Runtime.

    Raises:
        assistant.model.ModelUnavailable: no model (not even the offline fallback) could be loaded.
    """
    settings = settings or AssistantSettings()
    match settings.backend:
        case "local":
            runtime = build_local_runtime(settings)
        case "openai":
            runtime = build_openai_runtime(settings)
        case _:
            raise ValueError(f"unknown backend {settings.backend!r}")
    return with_word_filter(runtime, settings)


def with_word_filter(runtime: Runtime, settings: AssistantSettings) -> Runtime:
    """Wrap both engines in the operator's sensitive-word filter, when one is configured."""
    from assistant.safety import FilteredEngine, SensitiveWordFilter  # noqa: PLC0415

    words = SensitiveWordFilter.from_settings(settings.sensitive_words, settings.sensitive_words_file)
    if not words:
        return runtime
    logger.info("sensitive_word_filter enabled words=%d", len(words.words))
    chat = FilteredEngine(runtime.chat, words)
    code = chat if runtime.code is runtime.chat else FilteredEngine(runtime.code, words)
    return Runtime(chat=chat, code=code)


def build_local_runtime(settings: AssistantSettings) -> Runtime:
    """Transformers models in this process; a model configured twice, or one fallback, loads once."""
    from assistant.generation import LocalEngine  # noqa: PLC0415
    from assistant.model import load_model  # noqa: PLC0415 - torch loads only when a local model is wanted

    loaded: dict = {}
    chat_model = load_model(settings.chat_model, settings, loaded)
    code_model = load_model(settings.code_model, settings, loaded)
    chat = LocalEngine(chat_model, decoding_settings(chat_model.info, settings))
    code = chat if code_model is chat_model else LocalEngine(code_model, decoding_settings(code_model.info, settings))
    if code is chat and settings.code_model != settings.chat_model and chat.info.offline_fallback:
        logger.warning("code model %s unavailable too; it shares the offline fallback", settings.code_model)
    for engine in {id(chat): chat, id(code): code}.values():
        if settings.warmup:
            engine.warmup()
    return Runtime(chat=chat, code=code)


def decoding_settings(info, settings: AssistantSettings) -> AssistantSettings:
    """The settings a model's engine decodes with: an offline fallback decodes greedily unless a temperature was
    set. DeepSeek-R1 samples at 0.6 as DeepSeek recommends (greedy decoding makes it loop), but the small fallback
    is no reasoning model: sampled, it answered the same question right, empty ("The help desk extension is [1].")
    or wrong from one run to the next in a walkthrough, and the evaluations measure it greedy."""
    if info.offline_fallback and "temperature" not in settings.model_fields_set:
        logger.info("offline fallback decodes greedily (set ASSISTANT_TEMPERATURE to sample)")
        return settings.model_copy(update={"temperature": 0.0})
    return settings


def build_openai_runtime(settings: AssistantSettings) -> Runtime:
    """A remote OpenAI-compatible server for both tasks (optionally a different remote code model)."""
    from assistant.remote import OpenAIEngine  # noqa: PLC0415

    chat = OpenAIEngine.from_settings(settings, settings.openai_model)
    code_name = settings.openai_code_model or settings.openai_model
    code = chat if code_name == settings.openai_model else OpenAIEngine.from_settings(settings, code_name)
    return Runtime(chat=chat, code=code)

