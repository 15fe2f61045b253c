"""Streaming generation: the Engine interface and LocalEngine, which batches concurrent requests on one model."""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant.answerability import Verdict, find_probe
from assistant.config import AssistantSettings
from assistant.events import Done, Event, FinishReason, GenerationParams, Notice, TextDelta, Usage
from assistant.info import ModelInfo
from assistant.reasoning import Message, ThinkSplitter, opens_reasoning, prepare_messages, reasoning_skip
from knowledge.threads import run_in_own_thread

if TYPE_CHECKING:
    from assistant.model import Batch, LoadedModel

logger = logging.getLogger(__name__)


class Engine(Protocol):
    """Anything that streams a chat completion as typed events."""

    info: ModelInfo

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None,
               cancel: threading.Event | None = None) -> Iterator[Event]:
        """Yield Notice/ReasoningDelta/TextDelta events, then exactly one Done.

        Args:
            messages: `{"role", "content"}` dicts, oldest first.
            params: sampling overrides.
            cancel: set it to stop generation; the stream then ends with Done("cancelled").
        """
        ...


# ---------------------------------------------------------------- pure helpers


@dataclass(frozen=True)
class Sampling:
    """Resolved per-request sampling values."""

    max_new_tokens: int
    temperature: float
    top_p: float
    stop_repetition: int = 0
    reasoning: bool = True
    answer_prefix: str = ""


def resolve_params(params: GenerationParams | None, settings: AssistantSettings) -> Sampling:
    """Fill unset request parameters from the settings."""
    params = params or GenerationParams()
    return Sampling(
        max_new_tokens=params.max_new_tokens if params.max_new_tokens is not None else settings.max_new_tokens,
        temperature=params.temperature if params.temperature is not None else settings.temperature,
        top_p=params.top_p if params.top_p is not None else settings.top_p,
        stop_repetition=(params.stop_repetition if params.stop_repetition is not None
                         else settings.stop_repetition),
        reasoning=params.reasoning,
        answer_prefix=params.answer_prefix,
    )


def fit_to_context(messages: list[Message], encode: Callable[[list[Message]], list[int]],
                   keep_tail: Callable[[str, int], str], budget: int) -> tuple[list[int], str | None]:
    """Trim a conversation until its prompt fits `budget` tokens.

    Oldest non-system turns go first; if the last message alone is still too long, its beginning is cut
    (in RAG prompts the question sits at the end).

    Args:
        messages: prepared messages.
        encode: messages -> prompt token ids (chat template applied).
        keep_tail: (text, n_tokens) -> the last n_tokens of text.
        budget: most prompt tokens allowed.

    Returns:
        (prompt ids, a warning for the user or None when nothing was cut).
    """
    messages = list(messages)
    ids, dropped, original = encode(messages), 0, None
    while len(ids) > budget and (droppable := [i for i, m in enumerate(messages[:-1]) if m["role"] != "system"]):
        original = original or len(ids)
        del messages[droppable[0]]
        dropped, ids = dropped + 1, encode(messages)
    cut = 0
    while len(ids) > budget and messages[-1]["content"]:
        original = original or len(ids)
        content = messages[-1]["content"]
        content_tokens = len(ids) - len(encode([*messages[:-1], {**messages[-1], "content": ""}]))
        shorter = keep_tail(content, max(content_tokens - (len(ids) - budget) - 1, 0))
        if len(shorter) >= len(content):
            break  # no progress possible: the hard cut below applies
        cut += len(content) - len(shorter)
        messages[-1] = {**messages[-1], "content": shorter}
        ids = encode(messages)
    if original is None:
        return ids, None
    parts = [f"dropped {dropped} earlier message(s)"] if dropped else []
    parts += [f"cut {cut} characters from the start of the last message"] if cut else []
    return ids[-budget:], (f"Input trimmed to fit the model's {budget}-token context "
                           f"({original} -> {min(len(ids), budget)} tokens): {', '.join(parts)}.")


class LoopWatch:
    """Watches generated ids for a loop, at a fixed cost per id (a few vector operations over `max_period`).

    A loop: the last max(min_span, repeats x period) ids are one block of `period` ids over and over (a sentence
    a small model keeps writing). For every period it keeps how many ids in a row have equalled the id that
    many places before them; the tail of that run plus one period repeats with that period.

    Args:
        min_span: the fewest ids a loop spans; 0 finds none.
        repeats: the fewest copies of the block.
        max_period: the longest block looked for.
    """

    def __init__(self, min_span: int, repeats: int = 3, max_period: int = 256) -> None:
        self.min_span = min_span
        self._periods = np.arange(1, max_period + 1)
        self._needed = np.maximum(min_span, repeats * self._periods)  # ids a loop of each period must span
        self._runs = np.zeros(max_period, dtype=np.int64)
        self._recent = np.full(max_period, -1, dtype=np.int64)  # [p - 1]: the id p places back

    def push(self, token: int) -> int:
        """Add the next id; return the loop's period when the ids now end in a loop, else 0."""
        if not self.min_span:
            return 0
        self._runs = np.where(self._recent == token, self._runs + 1, 0)
        self._recent = np.roll(self._recent, 1)
        self._recent[0] = token
        looping = np.flatnonzero(self._runs + self._periods >= self._needed)
        return int(looping[0]) + 1 if looping.size else 0


_LOOP_MIN_CHARS = 16  # a shorter repeated tail is text ("1000"), not what a 64-token loop leaves
_BOUNDARY = re.compile(r"[.!?。！？]+(?=\s|$)|[。！？]+|\n")  # a sentence's or a line's end


def without_loop(text: str) -> str:
    """Text that ends in a loop (one block over and over) with the block once, cut at a sentence end if it can be.

    The loop is the suffix of three or more copies whose period leaves the most text out; the cut keeps everything
    before it and one whole copy, moved forward to the first sentence or line end within the next copy (the block's
    copies can start mid-sentence). Text with no repeated suffix comes back as it was, trailing space trimmed.
    Linear in the text's length.
    """
    text = text.rstrip()
    matched = _z_function(text[::-1])  # [p]: how many characters at the end equal the character p before them
    removed, period = 0, 0
    for p in range(1, len(text)):
        if matched[p] >= max(2 * p, _LOOP_MIN_CHARS) and matched[p] > removed:
            removed, period = matched[p], p
    if not removed:
        return text
    cut = len(text) - removed  # the end of the first copy
    if not _at_boundary(text, cut):
        cut = next((m.end() for m in _BOUNDARY.finditer(text, cut, cut + period) if _sentence_ends(text, m)), cut)
    return text[:cut].rstrip()


def _z_function(s: str) -> list[int]:
    """[i]: the length of the longest common prefix of s and s[i:] ([0] is len(s))."""
    n = len(s)
    z, left, right = [0] * n, 0, 0
    if n:
        z[0] = n
    for i in range(1, n):
        if i < right:
            z[i] = min(right - i, z[i - left])
        while i + z[i] < n and s[z[i]] == s[i + z[i]]:
            z[i] += 1
        if i + z[i] > right:
            left, right = i, i + z[i]
    return z


def _at_boundary(text: str, cut: int) -> bool:
    """Whether `cut` falls at a sentence's or a line's end."""
    before = text[:cut].rstrip(" \t")
    return not before or before[-1] in ".!?。！？\n" or text[cut:cut + 1] == "\n"


def _sentence_ends(text: str, match: re.Match) -> bool:
    """Whether a `_BOUNDARY` match ends a sentence: not an abbreviation's dot ("e.g. a wrench": lower case follows)."""
    following = text[match.end():].lstrip()[:1]
    return match.group()[-1] in "。！？\n" or not following.islower()


class Detokenizer:
    """Incremental detokenization: text deltas that stay correct across multi-token characters and spaces.

    Args:
        decode: token ids -> text.
    """

    def __init__(self, decode: Callable[[Sequence[int]], str]) -> None:
        self._decode = decode
        self._ids: list[int] = []
        self._prefix = 0
        self._read = 0

    def push(self, token: int) -> str:
        """Add one token; return the new text it completes (may be empty)."""
        self._ids.append(token)
        before = self._decode(self._ids[self._prefix:self._read])
        after = self._decode(self._ids[self._prefix:])
        if len(after) <= len(before) or after.endswith("\ufffd"):
            return ""  # an incomplete UTF-8 sequence: wait for the next token
        self._prefix, self._read = self._read, len(self._ids)
        return after[len(before):]


# ---------------------------------------------------------------- the batching engine


@dataclass(frozen=True)
class _End:
    reason: FinishReason
    error: str | None = None


@dataclass(eq=False)
class _Request:
    prompt: list[int]
    sampling: Sampling
    cancel: threading.Event
    out: queue.Queue = field(default_factory=queue.Queue)
    generated: int = 0
    batch_size: int = 1
    abandoned: bool = False  # the consumer stopped iterating

    def __post_init__(self) -> None:
        self.loops = LoopWatch(self.sampling.stop_repetition)

    @property
    def cancelled(self) -> bool:
        return self.abandoned or self.cancel.is_set()


class LocalEngine:
    """Streams from a resident transformers model, decoding concurrent requests together.

    A scheduler thread owns the model. Requests arriving within `batch_window_ms` of each other are
    prefilled as one batch; later ones are prefilled on arrival and merged into the running batch at the
    next step (continuous batching). Finished or cancelled requests leave the batch at once.

    Args:
        model: the loaded model.
        settings: defaults for sampling, context and batching.
    """

    def __init__(self, model: LoadedModel, settings: AssistantSettings) -> None:
        self.model = model
        self.info = model.info
        self._settings = settings
        self._inbox: queue.Queue[_Request | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.active_requests = 0
        self.largest_batch = 0
        rendered = model.render_prompt([{"role": "user", "content": "x"}])
        self.opens_reasoning = opens_reasoning(rendered)
        self.reasons = model.is_reasoning_model or self.opens_reasoning  # thinks before it answers (R1)
        # what closes the reasoning before it starts, for requests that want no reasoning (GenerationParams)
        self.skip_reasoning = reasoning_skip(rendered, model.is_reasoning_model)
        self.probe = (find_probe(model.info.name, model.hidden_size, model.layer_count)
                      if settings.answerability_probe else None)

    # -- public

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None,
               cancel: threading.Event | None = None) -> Iterator[Event]:
        """See `Engine.stream`. Earlier turns' reasoning is stripped; R1 models get no system turn."""
        sampling = resolve_params(params, self._settings)
        sampling, prompt, warning = self._prompt(messages, sampling)
        if warning:
            logger.warning("input trimmed %s", warning)
            yield Notice(warning)
        request = _Request(prompt, sampling, cancel or threading.Event())
        self._submit(request)
        try:
            yield from self._events(request)
        finally:
            request.abandoned = True

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        """The token ids `stream` would prefill for these messages with the default settings."""
        return self._prompt(messages, resolve_params(None, self._settings))[1]

    def answerability(self, messages: Sequence[Message], language: str) -> Verdict | None:
        """Whether the prompt's sources answer its question, by the model's answerability probe.

        None without a probe, or when the question's language (`en`, `zh`) is not one it was trained on.

        Reads the hidden state of the exact prompt `stream` would run: one partial forward pass, on a
        short-lived thread (a long-lived caller's OpenMP pool would slow the engine's decoding on CPU).
        """
        if self.probe is None or language not in self.probe.languages:
            return None
        prompt, layer = self.prompt_ids(messages), self.probe.layer
        hidden = run_in_own_thread(lambda: self.model.hidden_states(prompt, [layer])[layer], name="answerability",
                                   torch_threads=self.model.torch_threads)
        return Verdict(self.probe.probability(hidden.numpy()), self.probe.threshold)

    def warmup(self) -> None:
        """Generate two tokens so kernels and allocator are ready before the first user arrives."""
        started = time.perf_counter()
        for _ in self.stream([{"role": "user", "content": "Hello"}], GenerationParams(2, 0.0)):
            pass
        logger.info("warm-up done model=%s seconds=%.2f", self.info.label, time.perf_counter() - started)

    def close(self) -> None:
        """Stop the scheduler thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._inbox.put(None)
        if thread is not None:
            thread.join(timeout=30)

    # -- request side

    def _prompt(self, messages: Sequence[Message], sampling: Sampling) -> tuple[Sampling, list[int], str | None]:
        model = self.model
        max_new = min(sampling.max_new_tokens, model.context_length // 2)
        no_system = self.reasons
        # an empty <think> block: R1 answers at once (also before an answer's given start, which is no thinking)
        skip = "" if sampling.reasoning and not sampling.answer_prefix else self.skip_reasoning
        skip += sampling.answer_prefix
        # trimmed before the system rules are folded into a user turn (R1 models), so they are never dropped
        ids, warning = fit_to_context(list(messages), lambda m: model.encode(model.render_prompt(
                                          prepare_messages(m, no_system_prompt=no_system)) + skip),
                                      lambda text, n: model.decode(model.encode(text)[-n:]) if n else "",
                                      model.context_length - max_new)
        return replace(sampling, max_new_tokens=max_new), ids, warning

    def _events(self, request: _Request) -> Iterator[Event]:
        detokenizer = Detokenizer(self.model.decode)
        sampling = request.sampling
        splitter = ThinkSplitter(starts_in_reasoning=self.opens_reasoning and sampling.reasoning
                                 and not sampling.answer_prefix)
        if sampling.answer_prefix:
            yield TextDelta(sampling.answer_prefix)  # the answer as the model continued it
        received, end = 0, None
        while end is None:
            if request.cancel.is_set():
                end = _End("cancelled")
                break
            try:
                item = request.out.get(timeout=0.05)
            except queue.Empty:
                continue
            if isinstance(item, _End):
                end = item
                continue
            received += 1
            yield from splitter.feed(detokenizer.push(item))
        yield from splitter.finish()
        if end.error:
            yield Notice(f"Generation failed: {end.error}", level="error")
        yield Done(end.reason, Usage(len(request.prompt), received), request.batch_size)

    def _submit(self, request: _Request) -> None:
        # Under the lock the scheduler takes to retire when idle: a request is never left without a thread.
        with self._start_lock:
            self._inbox.put(request)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="local-engine", daemon=True)
                self._thread.start()

    def _retire_if_idle(self) -> bool:
        """End the scheduler thread if nothing is queued (its OpenMP pool goes with it; see knowledge.threads)."""
        with self._start_lock:
            if not self._inbox.empty():
                return False
            self._thread = None
            return True

    # -- scheduler side (one thread owns the model)

    def _run(self) -> None:
        self.model.bind_thread()
        batch: Batch | None = None
        rows: list[_Request] = []
        while True:
            arrivals = self._arrivals(block=not rows)
            if arrivals is None:
                return
            batch, rows = self._admit(batch, rows, arrivals)
            if rows:
                batch, rows = self._step(batch, rows)
            self.active_requests = len(rows)

    def _arrivals(self, block: bool) -> list[_Request] | None:
        """New requests: when idle, wait for one and then `batch_window_ms` for company; else take what's queued."""
        arrivals: list[_Request] = []
        if block:
            try:
                first = self._inbox.get(timeout=self._settings.engine_idle_s)
            except queue.Empty:
                return None if self._retire_if_idle() else []
            if first is None:
                return None
            arrivals.append(first)
            deadline = time.perf_counter() + self._settings.batch_window_ms / 1000
            while len(arrivals) < self._settings.max_batch_size and (left := deadline - time.perf_counter()) > 0:
                try:
                    item = self._inbox.get(timeout=left)
                except queue.Empty:
                    break
                if item is None:
                    return None
                arrivals.append(item)
            return arrivals
        return self._queued(arrivals)

    def _queued(self, arrivals: list[_Request]) -> list[_Request] | None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return arrivals
            if item is None:
                return None
            arrivals.append(item)

    def _admit(self, batch: Batch | None, rows: list[_Request],
               arrivals: list[_Request]) -> tuple[Batch | None, list[_Request]]:
        """Prefill arrivals (up to the batch limit; the rest wait) and merge them into the running batch."""
        live = [r for r in arrivals if not self._finish_if_cancelled(r)]
        room = self._settings.max_batch_size - len(rows)
        if not self.model.can_merge and rows:
            room = 0
        for waiting in reversed(live[max(room, 0):]):
            self._requeue(waiting)
        joining = live[:max(room, 0)]
        if not joining:
            return batch, rows
        try:
            new_batch, first = self.model.prefill([r.prompt for r in joining], [r.sampling.temperature for r in joining],
                                                  [r.sampling.top_p for r in joining])
        except Exception as error:  # a failed request must not kill the scheduler
            return self._fail(batch, rows, joining, error)
        merged = new_batch if batch is None else self.model.merge(batch, new_batch)
        if merged is None:  # this cache type cannot be merged: let the newcomers wait for the batch to drain
            self.model.can_merge = False
            for request in reversed(joining):
                self._requeue(request)
            return batch, rows
        rows = rows + joining
        return self._dispatch(merged, rows, [None] * (len(rows) - len(joining)) + first)

    def _requeue(self, request: _Request) -> None:
        # Put back at the front so waiting requests keep their order.
        with self._inbox.mutex:
            self._inbox.queue.appendleft(request)
            self._inbox.not_empty.notify()

    def _step(self, batch: Batch, rows: list[_Request]) -> tuple[Batch | None, list[_Request]]:
        keep = [i for i, r in enumerate(rows) if not self._finish_if_cancelled(r)]
        if len(keep) < len(rows):
            batch, rows = self._shrink(batch, rows, keep)
            if not rows:
                return None, []
        try:
            tokens = self.model.decode_step(batch)
        except Exception as error:
            return self._fail(None, [], rows, error)
        return self._dispatch(batch, rows, tokens)

    def _dispatch(self, batch: Batch, rows: list[_Request], tokens: list[int | None]) -> tuple[Batch | None, list[_Request]]:
        """Hand each row its token; finished rows leave the batch."""
        self.largest_batch = max(self.largest_batch, batch.size)
        keep = []
        for index, (request, token) in enumerate(zip(rows, tokens, strict=True)):
            request.batch_size = max(request.batch_size, batch.size)
            if token is None or not self._deliver(request, token):
                keep.append(index)
        return self._shrink(batch, rows, keep) if len(keep) < len(rows) else (batch, rows)

    def _deliver(self, request: _Request, token: int) -> bool:
        """Send one token; True when the request is finished."""
        if token in self.model.eos_ids:
            request.out.put(_End("stop"))
            return True
        request.generated += 1
        request.out.put(token)
        if period := request.loops.push(token):
            logger.info("generation stopped in a loop period=%d tokens=%d", period, request.generated)
            request.out.put(_End("repetition"))
            return True
        too_long = len(request.prompt) + request.generated >= self.model.context_length
        if request.generated >= request.sampling.max_new_tokens or too_long:
            request.out.put(_End("length"))
            return True
        return False

    def _shrink(self, batch: Batch, rows: list[_Request], keep: list[int]) -> tuple[Batch | None, list[_Request]]:
        if not keep:
            self.model.release()
            return None, []
        return self.model.select(batch, keep), [rows[i] for i in keep]

    @staticmethod
    def _finish_if_cancelled(request: _Request) -> bool:
        if request.cancelled:
            request.out.put(_End("cancelled"))
            return True
        return False

    def _fail(self, batch: Batch | None, rows: list[_Request], failed: list[_Request],
              error: Exception) -> tuple[Batch | None, list[_Request]]:
        logger.exception("generation failed requests=%d", len(failed))
        for request in failed:
            request.out.put(_End("error", f"{type(error).__name__}: {error}"))
        return batch, rows
