"""Run multi-threaded torch work on a short-lived thread.

Why: torch's CPU kernels use OpenMP, and libgomp keeps a pool of worker threads for every thread that
has ever started a parallel region, for as long as that thread lives. Once the pools together hold
more threads than there are cores, libgomp stops spin-waiting between parallel regions and every
region pays a sleep/wake-up. Measured on 2 cores (BENCHMARKS.md, "Generation (CPU)"): the engine
decoded at 4.8 instead of 7-8.5 tokens/s after the main thread had run the model once. Long-lived
threads (the main thread, Gradio's worker pool) therefore hand such work to a thread that ends when
the work does, taking its OpenMP pool with it.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def run_in_own_thread(work: Callable[[], T], name: str = "torch-work", torch_threads: int | None = None) -> T:
    """Call `work()` on a new thread, wait for it and return its result (or raise its exception).

    Args:
        work: the function to run.
        name: the thread's name (logs, debuggers).
        torch_threads: torch intra-op threads for the new thread. Set it: a new thread starts with whatever
            count the last `torch.set_num_threads` left in the process, e.g. a query embedding's 1.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            if torch_threads:
                use_torch_threads(torch_threads)
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - re-raised on the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def torch_thread_count() -> int:
    """torch's intra-op thread count as the calling thread sees it (call at start-up: the process default)."""
    import torch  # noqa: PLC0415 - torch loads only with a model

    return torch.get_num_threads()


def use_torch_threads(count: int) -> None:
    """Give the calling thread `count` torch intra-op threads (torch keeps the count per thread)."""
    import torch  # noqa: PLC0415

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
