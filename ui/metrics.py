"""Request latency, tokens/s, GPU memory and queue length: Prometheus text at /metrics and a summary in the page."""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import gradio as gr

from ui.i18n import t
from ui.messages import request_language, say

PREFIX = "dka"


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def gpu_memory_bytes() -> int:
    """CUDA memory allocated by this process; 0 without a GPU. Reads torch only if the model already loaded it."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return 0
    return int(sum(torch.cuda.memory_allocated(i) for i in range(torch.cuda.device_count())))


@dataclass
class Generation:
    """Timing of one request's model output, filled in by the handler while it streams."""

    first_token: float | None = None
    tokens: int = 0
    seconds: float = 0.0

    def token(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()

    def done(self, completion_tokens: int) -> None:
        self.tokens += completion_tokens
        if self.first_token is not None:
            self.seconds += time.perf_counter() - self.first_token
            self.first_token = None


@dataclass
class Metrics:
    """Rolling windows of the last `window` requests per event, plus counters; thread-safe.

    Args:
        window: how many recent latencies and generation rates the quantiles cover.
        queue_length: callable giving requests waiting in the web server's queue.
        active_generations: callable giving requests the model is decoding now.
    """

    window: int = 1000
    queue_length: Callable[[], int] = lambda: 0
    active_generations: Callable[[], int] = lambda: 0
    _latency: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _requests: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _rates: deque = field(default_factory=deque)
    _tokens_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def track(self, event: str):
        """Time a request; yields a Generation the handler reports model tokens on."""
        started, generation, outcome = time.perf_counter(), Generation(), "error"
        try:
            yield generation
            outcome = "ok"
        except GeneratorExit:
            outcome = "cancelled"
            raise
        finally:
            self.observe(event, time.perf_counter() - started, outcome, generation)

    def observe(self, event: str, seconds: float, outcome: str = "ok", generation: Generation | None = None) -> None:
        with self._lock:
            latencies = self._latency[event]
            latencies.append(seconds)
            if len(latencies) > self.window:
                latencies.popleft()
            self._requests[(event, outcome)] += 1
            if generation and generation.tokens:
                self._tokens_total += generation.tokens
                if generation.seconds > 0:
                    self._rates.append(generation.tokens / generation.seconds)
                    if len(self._rates) > self.window:
                        self._rates.popleft()

    def snapshot(self) -> dict:
        """Current values: per-event p50/p99/count, tokens/s p50, GPU memory, queue length."""
        with self._lock:
            events = {name: {"p50": _quantile(list(v), 0.5), "p99": _quantile(list(v), 0.99), "count": len(v)}
                      for name, v in self._latency.items() if v}
            rates = list(self._rates)
            requests = dict(self._requests)
            tokens = self._tokens_total
        return {"events": events, "requests": requests, "tokens_total": tokens,
                "tokens_per_s": _quantile(rates, 0.5) if rates else 0.0, "gpu_memory_bytes": gpu_memory_bytes(),
                "queue_length": _safe(self.queue_length), "active_generations": _safe(self.active_generations)}

    def exposition(self) -> str:
        """Prometheus text exposition format 0.0.4."""
        snap = self.snapshot()
        lines = [f"# HELP {PREFIX}_request_latency_seconds Handler latency over the last {self.window} requests.",
                 f"# TYPE {PREFIX}_request_latency_seconds summary"]
        with self._lock:
            windows = {name: list(v) for name, v in self._latency.items() if v}
        for name, values in sorted(windows.items()):
            for q in (0.5, 0.99):
                lines.append(f'{PREFIX}_request_latency_seconds{{event="{name}",quantile="{q}"}} '
                             f"{_quantile(values, q):.6f}")
            lines.append(f'{PREFIX}_request_latency_seconds_sum{{event="{name}"}} {sum(values):.6f}')
            lines.append(f'{PREFIX}_request_latency_seconds_count{{event="{name}"}} {len(values)}')
        lines += [f"# HELP {PREFIX}_requests_total Requests handled, by event and outcome.",
                  f"# TYPE {PREFIX}_requests_total counter"]
        lines += [f'{PREFIX}_requests_total{{event="{e}",outcome="{o}"}} {n}'
                  for (e, o), n in sorted(snap["requests"].items())]
        lines += _gauge("generated_tokens_total", "Tokens generated by the model.", snap["tokens_total"], "counter")
        lines += _gauge("tokens_per_second", "Median decode rate of recent requests.", snap["tokens_per_s"])
        lines += _gauge("gpu_memory_allocated_bytes", "CUDA memory allocated (0 on CPU).", snap["gpu_memory_bytes"])
        lines += _gauge("queue_length", "Requests waiting in the web queue.", snap["queue_length"])
        lines += _gauge("active_generations", "Requests the model is decoding now.", snap["active_generations"])
        return "\n".join(lines) + "\n"


def _gauge(name: str, help_text: str, value: float, kind: str = "gauge") -> list[str]:
    return [f"# HELP {PREFIX}_{name} {help_text}", f"# TYPE {PREFIX}_{name} {kind}", f"{PREFIX}_{name} {value:g}"]


def _safe(read: Callable[[], int]) -> int:
    try:
        return int(read())
    except Exception:  # a metric must never break the page or the scrape
        return 0


EVENT_NAMES_ZH = {"chat": "对话", "code": "代码", "review": "审阅", "ingest": "添加文档"}


def summary_markdown(snapshot: dict, lang: str = "en") -> str:
    """The page's one-paragraph summary of `Metrics.snapshot()`, in the visitor's language."""
    names = EVENT_NAMES_ZH if lang == "zh" else {}
    latency = " · ".join(say(lang, "metrics.latency", event=names.get(name, name), p50=f"{v['p50']:.2f}",
                             p99=f"{v['p99']:.2f}", count=v["count"])
                         for name, v in sorted(snapshot["events"].items())) or say(lang, "metrics.none")
    gpu = snapshot["gpu_memory_bytes"]
    return say(lang, "metrics.summary", latency=latency, rate=f"{snapshot['tokens_per_s']:.1f}",
               tokens=snapshot["tokens_total"], gpu=f"{gpu / 2**30:.2f} GiB" if gpu else say(lang, "metrics.cpu"),
               queued=snapshot["queue_length"], active=snapshot["active_generations"])


def build_metrics(services) -> None:
    """A collapsed panel with the summary, filled when opened and refreshed every 10 s while open in a browser."""
    with gr.Accordion(t("metrics.title"), open=False) as panel:
        summary = gr.Markdown("", elem_id="metrics-summary")
        refresh = gr.Button(t("metrics.refresh"), size="sm")
    timer = gr.Timer(10)

    def current(request: gr.Request):
        return summary_markdown(services.metrics.snapshot(), request_language(request))

    for trigger in (panel.expand, refresh.click, timer.tick):
        trigger(current, None, summary, queue=False, api_visibility="private", show_progress="hidden")
