"""One contract battery for every FAISS index kind (flat and IVF)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge.vectorstore import FaissStore

DIM = 16


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=["flat", "ivf"])
def store(request):
    s = FaissStore(DIM, approx_threshold=10**9, nprobe=64, use_gpu=False)
    s.add(np.arange(1000, 3000), unit_vectors(2000))
    if request.param == "ivf":
        s.build_approximate()
    assert s.kind == request.param
    return s


def test_finds_each_vector_itself(store):
    vectors = unit_vectors(2000)
    scores, ids = store.search(vectors[[5, 500, 1999]], 1)
    assert ids[:, 0].tolist() == [1005, 1500, 2999]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_delete_removes_only_those_ids(store):
    assert store.delete(np.array([1005, 1006, 424242])) == 2
    assert len(store) == 1998
    _, ids = store.search(unit_vectors(2000)[5], 3)
    assert 1005 not in ids[0]


def test_save_load_round_trip(store, tmp_path):
    path = tmp_path / "index.faiss"
    store.save(path)
    other = FaissStore(DIM, use_gpu=False)
    other.load(path)
    assert other.kind == store.kind and len(other) == len(store)
    query = unit_vectors(1, seed=9)
    assert np.array_equal(other.search(query, 10)[1], store.search(query, 10)[1])
    assert not list(tmp_path.glob("*.tmp"))


def test_export_returns_every_vector(store):
    ids, vectors = store.export()
    order = np.argsort(ids)
    assert np.array_equal(ids[order], np.arange(1000, 3000))
    assert np.allclose(vectors[order], unit_vectors(2000))


def test_switches_to_ivf_past_threshold():
    s = FaissStore(DIM, approx_threshold=1500, use_gpu=False)
    s.add(np.arange(1000), unit_vectors(1000))
    assert s.kind == "flat"
    s.add(np.arange(1000, 2000), unit_vectors(1000, seed=1))
    assert s.kind == "ivf" and len(s) == 2000


def test_dimension_mismatch_on_load_is_an_error(store, tmp_path):
    store.save(tmp_path / "i.faiss")
    with pytest.raises(ValueError, match="dimension"):
        FaissStore(DIM + 1, use_gpu=False).load(tmp_path / "i.faiss")


def test_ocr_thread_limit_reaches_tesseract_only_and_ivf_training_does_not_hang():
    """Regression: knowledge.ocr once set OMP_THREAD_LIMIT=1 process-wide; imported before faiss,
    FAISS's bundled OpenBLAS then waited forever in IVF training (and torch ran on one core)."""
    script = (
        "import os, knowledge.ocr, pytesseract, faiss, numpy as np\n"
        "from knowledge.vectorstore import FaissStore\n"
        "assert 'OMP_THREAD_LIMIT' not in os.environ\n"
        "assert pytesseract.pytesseract.environ['OMP_THREAD_LIMIT'] == '1'\n"
        "faiss.omp_set_num_threads(2)\n"
        "store = FaissStore(64, 1000, 8, False)\n"
        "v = np.random.default_rng(0).standard_normal((2000, 64)).astype('float32')\n"
        "store.add(np.arange(2000), v / np.linalg.norm(v, axis=1, keepdims=True))\n"
        "assert store.kind == 'ivf'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    # A hang is the failure being tested; the timeout only turns it into a failed test.
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=120, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
