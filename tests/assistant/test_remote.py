"""OpenAIEngine against a real OpenAI-compatible server (`python -m assistant.serve`) on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.events import Done, GenerationParams, Notice, TextDelta
from assistant.offline import OFFLINE_MODELS, _package_file
from assistant.remote import OpenAIEngine
from tests.assistant.conftest import CACHE_DIR

ROOT = Path(__file__).resolve().parents[2]
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    spec = OFFLINE_MODELS["smollm2-135m"]
    model = str(_package_file(*spec.parts[0], spec))
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ASSISTANT_CHAT_MODEL": model, "ASSISTANT_CODE_MODEL": model,
           "ASSISTANT_CACHE_DIR": CACHE_DIR, "ASSISTANT_WARMUP": "false", "ASSISTANT_MAX_CONTEXT_TOKENS": "2048"}
    process = subprocess.Popen([sys.executable, "-m", "assistant.serve", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert process.poll() is None, process.stdout.read()
        yield base_url, model
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def remote(server, small_settings):
    base_url, model = server
    engine = OpenAIEngine(base_url, model, small_settings, api_key="test-key")
    yield engine
    engine.close()


def test_lists_the_served_model(server):
    base_url, model = server
    assert httpx.get(f"{base_url}/models").json()["data"][0]["id"] == model


def test_remote_stream_matches_the_local_engine(remote, engine):
    events = list(remote.stream(QUESTION, GenerationParams(temperature=0.0)))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    local = [e.text for e in engine.stream(QUESTION, GenerationParams(temperature=0.0)) if isinstance(e, TextDelta)]
    assert len(deltas) >= 3 and "".join(deltas) == "".join(local)
    done = events[-1]
    assert isinstance(done, Done) and done.finish_reason == "stop" and done.usage.completion_tokens > 0


def test_remote_cancel_ends_the_stream(remote):
    cancel = threading.Event()
    story = [{"role": "user", "content": "Write a long story about a dragon."}]
    seen = 0
    for event in remote.stream(story, GenerationParams(max_new_tokens=200), cancel):
        if isinstance(event, TextDelta):
            seen += 1
            if seen == 2:
                cancel.set()
        done = event
    assert done.finish_reason == "cancelled" and seen <= 3


def test_non_streaming_completion(server):
    base_url, model = server
    body = {"model": model, "messages": QUESTION, "max_tokens": 16, "temperature": 0}
    reply = httpx.post(f"{base_url}/chat/completions", json=body, timeout=60).json()
    assert "Paris" in reply["choices"][0]["message"]["content"]


def test_a_loop_the_server_cut_short_reads_as_length_to_openai_clients(server):
    base_url, model = server
    loop = [{"role": "user", "content": "Repeat after me: la la la la la la la la la la la la"}]  # SmolLM2 loops
    body = {"model": model, "messages": loop, "max_tokens": 300, "temperature": 0}
    reply = httpx.post(f"{base_url}/chat/completions", json=body, timeout=60).json()
    assert reply["choices"][0]["finish_reason"] == "length" and reply["usage"]["completion_tokens"] < 150


def test_unreachable_server_gives_a_notice_not_a_traceback(small_settings):
    engine = OpenAIEngine(f"http://127.0.0.1:{free_port()}/v1", "m", small_settings, timeout_s=2)
    events = list(engine.stream(QUESTION))
    assert isinstance(events[0], Notice) and events[0].level == "error"
    assert events[-1] == Done("error", events[-1].usage)
