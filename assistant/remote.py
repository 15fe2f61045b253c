"""OpenAIEngine: streams from any OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp, DeepSeek API)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from assistant.config import AssistantSettings
from assistant.events import Done, Event, FinishReason, GenerationParams, Notice, ReasoningDelta, Usage
from assistant.generation import resolve_params
from assistant.info import ModelInfo
from assistant.reasoning import Message, ThinkSplitter, prepare_messages

logger = logging.getLogger(__name__)

_FINISH: dict[str | None, FinishReason] = {"stop": "stop", "length": "length", None: "stop"}


class OpenAIEngine:
    """Engine backed by a remote `/chat/completions` endpoint with SSE streaming.

    Reasoning arrives as `delta.reasoning_content` (DeepSeek API, vLLM) or `delta.reasoning`, or inline as
    `<think>...</think>` in the content (llama.cpp, TGI); all three become ReasoningDelta events.

    Args:
        base_url: e.g. `http://127.0.0.1:8000/v1` or `https://api.deepseek.com/v1`.
        model: model name the server knows.
        settings: sampling defaults.
        api_key: bearer token, if the server wants one.
        timeout_s: connect/read timeout.
    """

    def __init__(self, base_url: str, model: str, settings: AssistantSettings, api_key: str | None = None,
                 timeout_s: float = 120.0) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._settings = settings
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=10.0))
        host = httpx.URL(base_url).host
        self.info = ModelInfo(name=model, label=f"{model} @ {host}", device="remote", quantization="server-side",
                              dtype="-", footprint_bytes=0)

    @classmethod
    def from_settings(cls, settings: AssistantSettings, model: str) -> OpenAIEngine:
        """Build from `ASSISTANT_OPENAI_*` settings (the API key comes from the environment)."""
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return cls(settings.openai_base_url, model, settings, key, settings.openai_timeout_s)

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None,
               cancel: threading.Event | None = None) -> Iterator[Event]:
        """See `Engine.stream`. Cancelling closes the HTTP stream, which makes the server stop generating."""
        cancel = cancel or threading.Event()
        try:
            with self._client.stream("POST", self._url, json=self._body(messages, params)) as response:
                if response.status_code >= 400:
                    yield from self._http_error(response)
                    return
                yield from self._events(response, cancel)
        except httpx.HTTPError as error:
            logger.warning("remote generation failed url=%s error=%s", self._url, error)
            yield Notice(f"The model server at {self._url} failed: {type(error).__name__}: {error}", "error")
            yield Done("error", Usage(0, 0))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def _body(self, messages: Sequence[Message], params: GenerationParams | None) -> dict[str, Any]:
        sampling = resolve_params(params, self._settings)
        return {
            "model": self._model,
            "messages": prepare_messages(messages, no_system_prompt=False),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": sampling.max_new_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
        }

    def _events(self, response: httpx.Response, cancel: threading.Event) -> Iterator[Event]:
        splitter = ThinkSplitter()
        finish: FinishReason = "stop"
        usage, chunks = Usage(0, 0), 0
        for chunk in _sse_chunks(response):
            if cancel.is_set():
                finish = "cancelled"
                break
            usage = _usage(chunk) or usage
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning:
                    yield ReasoningDelta(reasoning)
                if delta.get("content"):
                    chunks += 1
                    yield from splitter.feed(delta["content"])
                if choice.get("finish_reason"):
                    finish = _FINISH.get(choice["finish_reason"], "stop")
        yield from splitter.finish()
        yield Done(finish, usage if usage.completion_tokens else Usage(usage.prompt_tokens, chunks))

    def _http_error(self, response: httpx.Response) -> Iterator[Event]:
        detail = response.read().decode("utf-8", "replace")[:500]
        logger.warning("remote generation refused url=%s status=%d body=%s", self._url, response.status_code, detail)
        yield Notice(f"The model server answered HTTP {response.status_code}: {detail}", "error")
        yield Done("error", Usage(0, 0))


def _sse_chunks(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent-event stream, up to `data: [DONE]`."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


def _usage(chunk: dict[str, Any]) -> Usage | None:
    usage = chunk.get("usage")
    if not usage:
        return None
    return Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))
