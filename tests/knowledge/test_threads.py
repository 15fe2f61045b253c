"""run_in_own_thread: the work runs on a thread that is gone afterwards; results and errors come back."""

from __future__ import annotations

import threading

import pytest

from knowledge.threads import run_in_own_thread


def test_runs_on_a_short_lived_thread_and_returns_the_result():
    seen = {}

    def work():
        seen["thread"] = threading.current_thread()
        return 42

    assert run_in_own_thread(work) == 42
    assert seen["thread"] is not threading.current_thread() and not seen["thread"].is_alive()


def test_the_work_s_exception_is_raised_on_the_caller_s_thread():
    def work():
        raise ValueError("bad page")

    with pytest.raises(ValueError, match="bad page"):
        run_in_own_thread(work)


def test_the_real_embedder_embeds_passages_off_the_calling_thread(embedder, monkeypatch):
    import numpy as np

    threads = []
    encode = embedder._encode

    def recording(texts):
        threads.append(threading.current_thread())
        return encode(texts)

    monkeypatch.setattr(embedder, "_encode", recording)
    vectors = embedder.embed_batch(["Normandy is a region in France.", "诺曼底位于法国。"])
    assert vectors.shape == (2, embedder.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert threads and threads[0] is not threading.current_thread()
    embedder.embed_query("where is Normandy")  # one query stays on the caller's thread, with one core
    assert threads[-1] is threading.current_thread()


def test_batch_embedding_gets_all_cores_even_while_a_query_holds_torch_at_one(embedder, monkeypatch):
    """A new thread inherits the last torch.set_num_threads in the process (a query's 1): embed_batch sets its own."""
    import torch

    seen = []
    encode = embedder._encode
    monkeypatch.setattr(embedder, "_encode", lambda texts: (seen.append(torch.get_num_threads()), encode(texts))[1])
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # what embed_query does for a few milliseconds on a visitor's thread
    try:
        embedder.embed_batch(["Normandy is a region in France."])
    finally:
        torch.set_num_threads(previous)
    assert seen == [embedder._cores] and embedder._cores == previous
