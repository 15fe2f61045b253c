"""Shared helpers for the benchmarks: machine description, markdown tables, timing, a throwaway knowledge base."""

from __future__ import annotations

import logging
import os
import platform
import random
import statistics
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

# Neutral filler vocabulary for generated pages and chunks (no meaning, realistic word lengths).
WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her she there been one all we their has would when if so no will more can said who about "
    "report contract payment delivery supplier customer invoice warranty liability period notice section clause "
    "agreement party parties services terms schedule annex obligation termination confidential information "
    "data system network server storage backup recovery policy access control user account review audit risk "
    "quality standard process procedure document record version approval budget cost revenue market product "
    "design development testing release support maintenance training safety health environment energy water "
    "building project team manager engineer analysis result method sample measurement temperature pressure"
).split()


def machine_info() -> dict[str, str]:
    """CPU model, cores usable by this process, RAM, and the library versions that matter."""
    info = {"cpu": _cpu_model(), "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                             else os.cpu_count()),
            "ram": f"{_ram_gib():.0f} GiB", "python": platform.python_version(), "os": platform.platform(terse=True)}
    for module in ("torch", "faiss", "sentence_transformers"):
        try:
            info[module] = __import__(module).__version__
        except Exception:  # absent or broken: the table just says so
            info[module] = "n/a"
    return info


def machine_line() -> str:
    info = machine_info()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python {info['python']}, "
            f"torch {info['torch']}, faiss {info['faiss']}, sentence-transformers {info['sentence_transformers']}; "
            f"load average (1/5/15 min) when the table was printed: {load}"
            + "".join(f"; {v}={os.environ[v]}" for v in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS") if v in os.environ))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def report(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], notes: Sequence[str] = ()) -> None:
    """Print a benchmark's result: title, machine, table, notes."""
    print(f"\n### {title}\n\n{machine_line()}\n\n{markdown_table(headers, rows)}")
    for note in notes:
        print(f"\n{note}")
    print(flush=True)


@contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as t: ...` then `t[0]` is the elapsed seconds."""
    box: list[float] = []
    started = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - started)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def sentences(rng: random.Random, words: int) -> str:
    """About `words` words of filler text in sentences of 8-20 words."""
    out, count = [], 0
    while count < words:
        n = rng.randint(8, 20)
        sentence = " ".join(rng.choice(WORDS) for _ in range(n))
        out.append(sentence[0].upper() + sentence[1:] + ".")
        count += n
    return " ".join(out)


def setup_offline() -> None:
    """Offline by default (an unreachable Hub costs ~75 s of retries per model load) and quiet logs."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")


def settings_for(data_dir: Path, **overrides):
    """KnowledgeSettings (env KB_* still applies) with a given data_dir and overrides."""
    from knowledge.config import KnowledgeSettings

    return KnowledgeSettings().model_copy(update={"data_dir": Path(data_dir), **overrides})


def load_embedder(settings):
    from knowledge.embeddings import load_embedder as load

    return load(settings)
