"""Load test: N simulated visitors (gradio_client, loopback only) each upload a document and ask about it.

    python -m bench.load                       # starts the app itself (offline, SmolLM2), N = 1, 8, 32
    python -m bench.load --url http://127.0.0.1:7860/ --visitors 8

Bounded: a fixed number of visitors and questions, each call with a timeout, the whole run with a deadline.
Reports p50/p99 latency per step, errors, whether every visitor saw only its own document, and how fast
the Knowledge tab answers (a document upload by a separate visitor) while the model is busy.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import percentile, report

QUESTIONS = ("What is the vault code of {name}?", "Which city is {name}'s office in?")
CITIES = ("Lisbon", "Osaka", "Quito", "Tallinn", "Hobart", "Accra", "Bergen", "Cusco")


@dataclass
class VisitorResult:
    ingest_s: float = 0.0
    ask_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leaked: bool = False
    own_source_seen: bool = False


def visitor(url: str, index: int, work: Path, questions: int, timeout_s: float) -> VisitorResult:
    """One visitor: its own Client (session), a document with its own secret, then questions about it."""
    from gradio_client import Client, handle_file

    result, name = VisitorResult(), f"visitor{index:03d}"
    document = work / f"{name}.txt"
    document.write_text(f"Internal memo for {name}. The vault code of {name} is {1000 + index * 7}. "
                        f"{name}'s office is in {CITIES[index % len(CITIES)]}.", encoding="utf-8")
    try:
        client = Client(url, verbose=False)
        started = time.perf_counter()
        client.submit([handle_file(str(document))], api_name="/ingest").result(timeout=timeout_s)
        result.ingest_s = time.perf_counter() - started
        for question in QUESTIONS[:questions]:
            started = time.perf_counter()
            _chat, sources, _confidence, _ = client.submit(question.format(name=name), api_name="/ask").result(
                timeout=timeout_s)
            result.ask_s.append(time.perf_counter() - started)
            result.own_source_seen |= f"{name}.txt" in sources
            result.leaked |= bool(set(re.findall(r"visitor\d{3}\.txt", sources)) - {f"{name}.txt"})
    except Exception as exc:  # every failure is counted, none stops the run
        result.errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
    return result


def knowledge_probe(url: str, work: Path, stop: threading.Event, timeout_s: float) -> list[float]:
    """While the visitors chat, a separate visitor keeps uploading a small file: how long does the tab take?"""
    from gradio_client import Client, handle_file

    client, latencies = Client(url, verbose=False), []
    probe = work / "probe.txt"
    while not stop.is_set():
        probe.write_text(f"Probe note {random.random()}: the kettle is in the kitchen.", encoding="utf-8")
        started = time.perf_counter()
        client.submit([handle_file(str(probe))], api_name="/ingest").result(timeout=timeout_s)
        latencies.append(time.perf_counter() - started)
        stop.wait(1.0)
    return latencies


def run_level(url: str, visitors: int, questions: int, timeout_s: float) -> list[object]:
    with tempfile.TemporaryDirectory(prefix="load-") as tmp, ThreadPoolExecutor(visitors + 1) as pool:
        work, stop = Path(tmp), threading.Event()
        probe = pool.submit(knowledge_probe, url, work, stop, timeout_s)
        started = time.perf_counter()
        results = list(pool.map(lambda i: visitor(url, i, work, questions, timeout_s), range(visitors)))
        wall = time.perf_counter() - started
        stop.set()
        probe_s = probe.result(timeout=timeout_s)
    return summarise(visitors, results, probe_s, wall)


def summarise(visitors: int, results: list[VisitorResult], probe_s: list[float], wall: float) -> list[object]:
    asks = [s for r in results for s in r.ask_s]
    ingests = [r.ingest_s for r in results if r.ingest_s]
    errors = sum(len(r.errors) for r in results)
    return [visitors, len(asks), errors, f"{percentile(ingests, 50):.2f} / {percentile(ingests, 99):.2f}",
            f"{percentile(asks, 50):.2f} / {percentile(asks, 99):.2f}",
            f"{percentile(probe_s, 50):.2f} / {percentile(probe_s, 99):.2f} ({len(probe_s)})",
            f"{len(asks) / wall:.2f}", sum(r.own_source_seen for r in results), sum(r.leaked for r in results),
            f"{wall:.0f}"]


HEADERS = ["visitors", "questions answered", "errors", "upload p50 / p99 (s)", "ask p50 / p99 (s)",
           "Knowledge tab upload while busy p50 / p99 (s) (n)", "answers/s", "visitors who saw their own doc",
           "visitors who saw another's doc", "wall (s)"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (loopback); default: start one")
    parser.add_argument("--visitors", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--questions", type=int, default=2, choices=(1, 2))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per call")
    args = parser.parse_args(argv)
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("load tests only target loopback addresses")
    if args.url:
        rows = [run_level(args.url, n, args.questions, args.timeout) for n in args.visitors]
    else:
        from bench.app_server import running_app

        with tempfile.TemporaryDirectory(prefix="load-app-") as tmp, running_app(Path(tmp)) as url:
            rows = [run_level(url, n, args.questions, args.timeout) for n in args.visitors]
    report("Load test (gradio_client visitors on loopback; offline SmolLM2-135M, 48 new tokens, greedy)",
           HEADERS, rows)


if __name__ == "__main__":
    main()
