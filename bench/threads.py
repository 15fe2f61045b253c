"""Decode speed beside a long-lived thread that has embedded documents: on that thread vs on a thread of its own.

    python -m bench.threads                 # the packaged offline model (Qwen2.5-Coder-0.5B), 6 rounds
    python -m bench.threads --offline-model smollm2-135m --rounds 3

Why (knowledge.threads): libgomp keeps an OpenMP pool for every live thread that has run a parallel
region; once the pools hold more threads than there are cores, every parallel region pays a sleep and
wake-up. The app's long-lived threads (the main thread, Gradio's workers) embed documents. Each round
decodes on a fresh thread three times, interleaved so machine drift hits all three alike:
  - alone: no other thread has run torch work;
  - embedded on the caller (the old way): a live thread ran `_encode` itself and keeps its pool;
  - embedded via `embed_batch` (the shipped way): the same live thread, but `embed_batch` ran the work
    on a short-lived thread, whose pool ended with it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time

from bench.common import setup_offline
from knowledge.threads import run_in_own_thread

PASSAGES = ["The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
            "a region in France. They were descended from Norse raiders and pirates. " * 4] * 32
PROMPT = "Explain the history of the Normans in Normandy and their relationship with France. " * 3


def decode_rate(model, steps: int) -> float:
    """Greedy decode steps per second for one 50-token prompt, measured after 4 untimed steps."""
    batch, _ = model.prefill([model.encode(PROMPT)], [0.0], [1.0])
    for _ in range(4):
        model.decode_step(batch)
    started = time.perf_counter()
    for _ in range(steps):
        model.decode_step(batch)
    return steps / (time.perf_counter() - started)


def beside_live_thread(embed, model, steps: int) -> float:
    """Decode rate while another thread that has just run `embed()` stays alive (as Gradio's workers do)."""
    embedded, release = threading.Event(), threading.Event()

    def worker() -> None:
        embed()
        embedded.set()
        release.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    embedded.wait()
    try:
        return run_in_own_thread(lambda: decode_rate(model, steps))
    finally:
        release.set()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.splitlines()[0])
    parser.add_argument("--offline-model", default="qwen2.5-coder-0.5b", choices=["qwen2.5-coder-0.5b", "smollm2-135m"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=32)
    args = parser.parse_args(argv)
    setup_offline()
    from assistant.config import AssistantSettings
    from assistant.model import load_offline_fallback
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder

    model = load_offline_fallback(AssistantSettings(offline_model=args.offline_model, device="cpu",
                                                    quantization="none"), "benchmark")
    embedder = load_embedder(KnowledgeSettings())
    modes = {
        "alone": lambda: run_in_own_thread(lambda: decode_rate(model, args.steps)),
        "embedded on the caller (before)": lambda: beside_live_thread(
            lambda: embedder._encode(PASSAGES), model, args.steps),
        "embedded via embed_batch (now)": lambda: beside_live_thread(
            lambda: embedder.embed_batch(PASSAGES), model, args.steps),
    }
    rates: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(args.rounds):
        for name, measure in modes.items():
            rates[name].append(measure())
    alone = statistics.median(rates["alone"])
    print(f"CPU, {model.info.label}, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
          f"{args.steps} greedy decode steps, median of {args.rounds} interleaved rounds\n")
    print("| decoding thread beside | decode tok/s (median) | min-max | vs alone |\n|---|---:|---:|---:|")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {min(values):.2f}-{max(values):.2f} | {median / alone:.2f}x |")


if __name__ == "__main__":
    main()
