"""A deterministic hashing embedder for fault tests that are about storage, not embedding quality."""

from __future__ import annotations

import hashlib
import re

import numpy as np


class HashEmbedder:
    name, dim, multilingual = "hash-embedder-test", 64, False

    def embed_batch(self, texts):
        return np.vstack([self.embed_query(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text):
        vector = np.zeros(self.dim, np.float32)
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1
        return vector / (np.linalg.norm(vector) or 1.0)

    def token_offsets(self, texts):
        return [[m.span() for m in re.finditer(r"\S+", t)] for t in texts]
