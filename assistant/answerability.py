"""Answerability probe: a linear read-out of the model's own hidden state that flags questions its sources do not answer.

Small models answer a question the passages do not answer from a passage that merely resembles it (SQuAD 2.0's
trap questions: a changed date, name or relation). Asked "does the passage answer this?", they cannot tell
(BENCHMARKS.md, evals.answerability). Their hidden state at the end of the chat prompt still carries the
signal: a logistic regression on one layer's vector, trained per model by `python -m evals.probe` on public
data, separates the two far better than the model's own reply.

A probe belongs to one model (its hidden states mean nothing to another): `assistant/data/probes/<slug>.json`,
found by the model's configured name. Without a probe for the model, chat behaves as before. Runtime needs
numpy only.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

PROBES_DIR = Path(__file__).parent / "data" / "probes"


@dataclass(frozen=True)
class Probe:
    """Logistic regression on standardised hidden states: P(the sources do not answer the question).

    Attributes:
        model: the model name it was trained for (ModelInfo.name).
        layer: hidden-state index read (0 = embeddings, n = output of decoder layer n).
        mean, scale: standardisation of the vector.
        coef, intercept: the regression.
        threshold: refuse when the probability reaches this (chosen at training, see `trained`).
        trained: how and on what it was trained, with its cross-validated figures.
        languages: the question languages it was trained on (`en`, `zh`); other questions are not judged.
    """

    model: str
    layer: int
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    trained: dict = field(default_factory=dict)
    languages: tuple[str, ...] = ("en",)

    @property
    def hidden_size(self) -> int:
        return len(self.coef)

    def probability(self, hidden: np.ndarray) -> float:
        """P(unanswerable) for one hidden-state vector of this probe's layer."""
        z = (np.asarray(hidden, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        logit = float(z @ np.asarray(self.coef)) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(min(logit, 60.0), -60.0)))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        values = asdict(self)
        for name in ("mean", "scale", "coef"):
            values[name] = [round(float(v), 6) for v in values[name]]
        path.write_text(json.dumps(values) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Probe:
        values = json.loads(path.read_text(encoding="utf-8"))
        for name in ("mean", "scale", "coef"):
            values[name] = tuple(values[name])
        values["languages"] = tuple(values.get("languages", ("en",)))
        probe = cls(**values)
        if not len(probe.mean) == len(probe.scale) == len(probe.coef):
            raise ValueError(f"{path}: mean, scale and coef differ in length")
        return probe


@dataclass(frozen=True)
class Verdict:
    """The probe's reading of one prompt: P(its sources do not answer its question) and the refusal threshold."""

    probability: float
    threshold: float

    @property
    def refuse(self) -> bool:
        return self.probability >= self.threshold


def slug(model_name: str) -> str:
    """File-name form of a model name: `deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B` -> `deepseek-ai--deepseek-r1-distill-qwen-1.5b`."""
    return re.sub(r"[^a-z0-9._-]+", "-", model_name.lower().replace("/", "--")).strip("-.")


def probe_path(model_name: str, directory: Path | None = None) -> Path:
    """Where the probe for this model lives (`directory` defaults to PROBES_DIR)."""
    return (directory or PROBES_DIR) / f"{slug(model_name)}.json"


def find_probe(model_name: str, hidden_size: int, layers: int, directory: Path | None = None) -> Probe | None:
    """The probe trained for this model, or None (none trained, or it does not fit the model's shapes)."""
    path = probe_path(model_name, directory)
    if not path.is_file():
        return None
    try:
        probe = Probe.load(path)
    except (OSError, ValueError, TypeError, KeyError) as error:
        logger.warning("answerability probe unreadable path=%s error=%s", path, error)
        return None
    if probe.hidden_size != hidden_size or not 0 < probe.layer <= layers:
        logger.warning("answerability probe does not fit model=%s probe_hidden=%d model_hidden=%d layer=%d layers=%d",
                       model_name, probe.hidden_size, hidden_size, probe.layer, layers)
        return None
    logger.info("answerability probe loaded model=%s layer=%d threshold=%.3f", model_name, probe.layer, probe.threshold)
    return probe
