"""OpenAI-compatible `/v1/chat/completions` server over the local engines: `python -m assistant.serve --port 8000`."""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from assistant.events import Done, Event, GenerationParams, ReasoningDelta, TextDelta
from assistant.generation import Engine

logger = logging.getLogger(__name__)


class ChatMessage(BaseModel):
    """One chat turn of the request."""

    role: str
    content: str


class ChatRequest(BaseModel):
    """The subset of the OpenAI chat-completions request this server honours."""

    model: str
    messages: list[ChatMessage]
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stream_options: dict[str, Any] | None = None


def create_app(engines: dict[str, Engine]) -> FastAPI:
    """Build the FastAPI app serving `engines` by model name.

    Args:
        engines: model name (as clients send it) -> engine.

    Returns:
        The app; run it with uvicorn.
    """
    app = FastAPI(title="DeepSeek Knowledge Assistant model server")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "local"} for name in engines]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: ChatRequest) -> Any:
        engine = engines.get(request.model) or _single(engines, request.model)
        messages = [m.model_dump() for m in request.messages]
        params = GenerationParams(request.max_tokens, request.temperature, request.top_p)
        if request.stream:
            usage = bool((request.stream_options or {}).get("include_usage"))
            return StreamingResponse(_sse(engine, messages, params, request.model, usage),
                                     media_type="text/event-stream")
        return JSONResponse(await anyio.to_thread.run_sync(_complete, engine, messages, params, request.model))

    return app


def _single(engines: dict[str, Engine], name: str) -> Engine:
    if len(engines) == 1:
        return next(iter(engines.values()))
    raise HTTPException(404, f"unknown model {name!r}; serving {sorted(engines)}")


async def _sse(engine: Engine, messages: list[dict[str, str]], params: GenerationParams, model: str,
               include_usage: bool) -> AsyncIterator[str]:
    """Stream engine events as chat.completion.chunk events; a client disconnect cancels generation."""
    cancel = threading.Event()
    events = engine.stream(messages, params, cancel)
    chunk_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    try:
        yield _data(_chunk(chunk_id, created, model, {"role": "assistant", "content": ""}))
        while (event := await anyio.to_thread.run_sync(next, events, None)) is not None:
            for payload in _payloads(event, chunk_id, created, model, include_usage):
                yield _data(payload)
        yield "data: [DONE]\n\n"
    finally:
        cancel.set()  # also reached when the client goes away (the task is cancelled)


# A loop the engine cut short is, to an OpenAI client, an answer that did not end by itself (its text keeps the
# copies the stream already sent): OpenAI's word for that is "length"
_OPENAI_FINISH = {"repetition": "length"}


def _payloads(event: Event, chunk_id: str, created: int, model: str, include_usage: bool) -> Iterator[dict]:
    match event:
        case TextDelta(text=text):
            yield _chunk(chunk_id, created, model, {"content": text})
        case ReasoningDelta(text=text):
            yield _chunk(chunk_id, created, model, {"reasoning_content": text})
        case Done(finish_reason=reason, usage=usage):
            yield _chunk(chunk_id, created, model, {}, finish_reason=_OPENAI_FINISH.get(reason, reason))
            if include_usage:
                yield {**_chunk(chunk_id, created, model, {}), "choices": [], "usage": _usage(usage)}
        case _:
            logger.info("notice not sent to remote client event=%s", event)


def _complete(engine: Engine, messages: list[dict[str, str]], params: GenerationParams, model: str) -> dict:
    text, reasoning, done = [], [], None
    for event in engine.stream(messages, params):
        match event:
            case TextDelta():
                text.append(event.text)
            case ReasoningDelta():
                reasoning.append(event.text)
            case Done():
                done = event
    message = {"role": "assistant", "content": "".join(text)}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    finish = _OPENAI_FINISH.get(done.finish_reason, done.finish_reason)
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": _usage(done.usage)}


def _chunk(chunk_id: str, created: int, model: str, delta: dict, finish_reason: str | None = None) -> dict:
    return {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


def _usage(usage: Any) -> dict[str, int]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}


def _data(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def main(argv: list[str] | None = None) -> None:
    """Load the configured models (ASSISTANT_* environment) and serve them on HOST:PORT."""
    import uvicorn  # noqa: PLC0415

    from assistant.config import AssistantSettings  # noqa: PLC0415
    from assistant.runtime import build_local_runtime  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = AssistantSettings()
    runtime = build_local_runtime(settings)
    engines = {settings.chat_model: runtime.chat, settings.code_model: runtime.code}
    logger.info("serving models=%s host=%s port=%d", list(engines), args.host, args.port)
    uvicorn.run(create_app(engines), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
