"""Start the real app (`python app.py`) on a free loopback port, offline, for browser tests and the load bench."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]

# Offline, tiny SmolLM2 fallback, greedy, short answers: fast enough for tests on 2 CPU cores.
SMALL_MODEL_ENV = {
    "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False", "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false",
    "ASSISTANT_OFFLINE_MODEL": "smollm2-135m", "ASSISTANT_MAX_NEW_TOKENS": "48", "ASSISTANT_TEMPERATURE": "0",
    "ASSISTANT_WARMUP": "false",
}


class AppFailed(RuntimeError):
    """The app exited or did not answer in time; the message holds the end of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_app(work: Path, extra_env: dict[str, str] | None = None, timeout_s: float = 180) -> Iterator[str]:
    """Run the app until the block ends; yields its URL (`http://127.0.0.1:PORT/`)."""
    port = free_port()
    env = {**os.environ, **SMALL_MODEL_ENV, "APP_HOST": "127.0.0.1", "APP_PORT": str(port),
           "GRADIO_TEMP_DIR": str(work / "gradio"), **(extra_env or {})}
    log = work / "app.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=work, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, process, log, timeout_s)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AppFailed(f"the app exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "metrics", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AppFailed(f"the app did not start in {timeout_s} s:\n{log.read_text()[-4000:]}")
