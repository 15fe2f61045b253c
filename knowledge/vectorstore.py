"""FAISS inner-product index keyed by chunk id: exact flat by default, IVF above a size, GPU mirror when present."""

from __future__ import annotations

import logging
import math
import os
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)


# Up to this many query rows a search runs single-threaded (see _one_omp_thread).
SINGLE_THREAD_QUERIES = 8


class FaissStore:
    """Vectors are L2-normalised upstream, so inner product is cosine similarity.

    The CPU index is the master copy (add/delete/save); a GPU copy, when CUDA and a GPU build of
    FAISS are present, serves searches and is rebuilt after changes.
    """

    def __init__(self, dim: int, approx_threshold: int = 200_000, nprobe: int = 32, use_gpu: bool = True):
        self.dim = dim
        self.approx_threshold = approx_threshold
        self.nprobe = nprobe
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._gpu = _gpu_resources() if use_gpu else None
        self._gpu_index = None

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        return "ivf" if self.is_approximate else "flat"

    @property
    def is_approximate(self) -> bool:
        return isinstance(faiss.downcast_index(self._index), faiss.IndexIVF)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given int64 ids; switches to IVF once past the threshold."""
        if len(ids) == 0:
            return
        self._index.add_with_ids(_f32(vectors), np.asarray(ids, dtype=np.int64))
        self._gpu_index = None
        if not self.is_approximate and len(self) > self.approx_threshold:
            self.build_approximate()

    def delete(self, ids: np.ndarray) -> int:
        """Remove ids; returns how many were removed."""
        if len(ids) == 0:
            return 0
        removed = self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))
        self._gpu_index = None
        return int(removed)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row; missing slots have id -1."""
        k = max(1, min(k, len(self))) if len(self) else 1
        queries = _f32(np.atleast_2d(queries))
        if len(queries) > SINGLE_THREAD_QUERIES:
            return self._searcher().search(queries, k)
        with _one_omp_thread():
            return self._searcher().search(queries, k)

    def build_approximate(self) -> None:
        """Rebuild as IVF-Flat (inner product) trained on the current vectors."""
        ids, vectors = self.export()
        nlist = int(min(max(16, 4 * math.sqrt(len(ids))), max(1, len(ids) // 39)))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        # 64 training vectors per list is inside FAISS's advised 30-256 and 4x faster to train than 256.
        sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: nlist * 64]]
        index.train(sample)
        index.add_with_ids(vectors, ids)
        index.nprobe = self.nprobe
        self._index, self._gpu_index = index, None
        log.info("faiss_index_rebuilt kind=ivf vectors=%d nlist=%d", len(ids), nlist)

    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """All (ids, vectors) currently stored."""
        index = faiss.downcast_index(self._index)
        if isinstance(index, faiss.IndexIVF):
            return _ivf_contents(index, self.dim)
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids, index.index.reconstruct_n(0, index.ntotal) if len(ids) else np.zeros((0, self.dim), np.float32)

    def save(self, path: Path) -> None:
        """Write atomically: a temp file renamed over the target."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def load(self, path: Path) -> None:
        index = faiss.read_index(str(path))
        if index.d != self.dim:
            raise ValueError(f"index dimension {index.d} != embedder dimension {self.dim}")
        if isinstance(faiss.downcast_index(index), faiss.IndexIVF):
            faiss.downcast_index(index).nprobe = self.nprobe
        self._index, self._gpu_index = index, None

    def _searcher(self):
        if self._gpu is None:
            return self._index
        if self._gpu_index is None:
            self._gpu_index = faiss.index_cpu_to_gpu(self._gpu, 0, self._index)
        return self._gpu_index


def _ivf_contents(index, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids and raw vectors of an IVF-Flat index, read list by list (its codes are the float32 vectors)."""
    invlists = index.invlists
    ids, vectors = [np.zeros(0, np.int64)], [np.zeros((0, dim), np.float32)]
    for i in range(index.nlist):
        size = invlists.list_size(i)
        if size:
            ids.append(faiss.rev_swig_ptr(invlists.get_ids(i), size).copy().astype(np.int64))
            codes = faiss.rev_swig_ptr(invlists.get_codes(i), size * index.code_size).copy()
            vectors.append(codes.view(np.float32).reshape(size, dim))
    return np.concatenate(ids), np.vstack(vectors)


@contextmanager
def _one_omp_thread():
    """Run FAISS on the calling thread only (OpenMP thread counts are per calling thread).

    FAISS ships its own OpenMP runtime beside torch's: for a single query, waking FAISS's worker
    pool costs more than it saves, and its spinning workers fight torch's for the cores (measured
    on 2 cores: kb.search 566 ms -> 33 ms at 18k chunks).
    """
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def _gpu_resources():
    """GPU resources when this FAISS build has CUDA support and a GPU is visible, else None."""
    if not hasattr(faiss, "StandardGpuResources"):
        return None
    try:
        if faiss.get_num_gpus() < 1:
            return None
        log.info("faiss_gpu enabled=true gpus=%d", faiss.get_num_gpus())
        return faiss.StandardGpuResources()
    except Exception as exc:  # a GPU build without a usable driver
        log.warning("faiss_gpu_unavailable error=%r", exc)
        return None


def _f32(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)
