"""Train the loaded chat model's answerability probe (assistant/answerability.py) on SQuAD 2.0-style questions.

    python -m evals.probe --docs evals/data/squad_v2_rhine/docs --questions evals/data/squad_v2_rhine/questions.jsonl

For every question, the chat pipeline's own retrieval, relevance gate and prompt over a store of the documents
(questions the gate already refuses are skipped), then the model's hidden state at the prompt's last token at
several layers (cached in --features: reruns skip the model). Grouped 5-fold cross-validation (folds by
document) picks the layer and regularisation with the best ROC AUC. The threshold is the lowest probability
that refuses at most --max-false-refusal of the answerable questions out of fold (the model's own refusals
come on top). The probe is then fit on all questions and written to assistant/data/probes/<model>.json, its
cross-validated figures inside. Train on data you never evaluate on: squad_v2_rhine is not squad_v2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evals.report import emit
from evals.retrieval import document_paths, load_questions

logger = logging.getLogger(__name__)

CS = (0.001, 0.01, 0.1)


def default_layers(count: int) -> list[int]:
    """Every other layer from a fifth to two thirds of the depth (the middle layers carry the signal)."""
    return list(range(max(1, count // 5), (2 * count) // 3 + 1, 2))


def collect(engine, docs: Path, questions_file: Path, layers: Sequence[int], limit: int | None = None) -> dict:
    """Hidden states of each question's answer prompt; rows the relevance gate refuses are left out."""
    from assistant.tasks.chat import ChatOptions, build_messages, language, select_sources
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder
    from knowledge.kb import KnowledgeBase

    questions, options = load_questions(questions_file)[:limit], ChatOptions()
    features, labels, groups, gated, languages = [], [], [], 0, set()
    with tempfile.TemporaryDirectory(prefix="probe-") as tmp:
        settings = KnowledgeSettings(data_dir=Path(tmp))
        kb = KnowledgeBase(settings, load_embedder(settings))
        try:
            kb.ingest(document_paths(docs))
            for number, q in enumerate(questions, start=1):
                sources = select_sources(kb.search(q.question, options.k), q.question, options)
                if not sources:
                    gated += 1
                    continue
                found = engine.model.hidden_states(engine.prompt_ids(build_messages(q.question, sources)), layers)
                features.append(np.stack([found[n].numpy() for n in layers]))
                labels.append(int(q.is_impossible))
                languages.add(language(q.question))
                groups.append(q.doc_id)
                logger.info("question %d/%d", number, len(questions))
        finally:
            kb.close()
    return {"x": np.stack(features).astype(np.float32), "y": np.array(labels), "groups": np.array(groups),
            "layers": np.array(list(layers)), "gated": gated, "languages": np.array(sorted(languages))}


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, c: float) -> np.ndarray:
    """P(unanswerable) for every row from a model fit on the other folds (folds by document)."""
    from sklearn.model_selection import GroupKFold

    predicted = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=min(5, len(set(groups)))).split(x, y, groups):
        predicted[test] = fit(x[train], y[train], c).predict_proba(x[test])[:, 1]
    return predicted


def fit(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000)).fit(x, y)


def threshold_for(answerable: np.ndarray, max_false_refusal: float) -> float:
    """Lowest probability at which at most `max_false_refusal` of the answerable scores reach it."""
    for candidate in np.unique(answerable):
        if np.mean(answerable >= candidate) <= max_false_refusal:
            return float(candidate)
    return float(answerable.max()) + 1e-6


def train(data: dict, max_false_refusal: float) -> tuple[dict, list[dict]]:
    """Choose layer and C by grouped CV AUC; return the chosen setting's figures and the whole table."""
    from sklearn.metrics import roc_auc_score

    x, y, groups = data["x"], data["y"], data["groups"]
    table = []
    for index, layer in enumerate(data["layers"]):
        for c in CS:
            predicted = out_of_fold(x[:, index], y, groups, c)
            table.append({"layer": int(layer), "C": c, "auc": round(float(roc_auc_score(y, predicted)), 4),
                          "_predicted": predicted})
    best = max(table, key=lambda row: row["auc"])
    predicted = best.pop("_predicted")
    for row in table:
        row.pop("_predicted", None)
    threshold = threshold_for(predicted[y == 0], max_false_refusal)
    best.update(threshold=round(threshold, 6), questions=int(len(y)), unanswerable=int(y.sum()),
                cv_refusal_unanswerable=round(float(np.mean(predicted[y == 1] >= threshold)), 4),
                cv_false_refusal=round(float(np.mean(predicted[y == 0] >= threshold)), 4))
    return best, table


def build_probe(data: dict, chosen: dict, model_name: str, source: str):
    from assistant.answerability import Probe

    index = list(data["layers"]).index(chosen["layer"])
    pipeline = fit(data["x"][:, index], data["y"], chosen["C"])
    scaler, regression = pipeline[0], pipeline[1]
    return Probe(model=model_name, layer=chosen["layer"], mean=tuple(map(float, scaler.mean_)),
                 scale=tuple(map(float, scaler.scale_)), coef=tuple(map(float, regression.coef_[0])),
                 intercept=float(regression.intercept_[0]), threshold=chosen["threshold"],
                 trained={"data": source, "gated_out": int(data["gated"]), **chosen},
                 languages=tuple(str(lang) for lang in data["languages"]))


def format_markdown(chosen: dict, table: list[dict], model: str) -> str:
    lines = [f"{model}: {chosen['questions']} questions ({chosen['unanswerable']} unanswerable); chosen layer "
             f"{chosen['layer']}, C {chosen['C']}, CV AUC {chosen['auc']:.3f}; threshold {chosen['threshold']:.3f}: "
             f"refuses {chosen['cv_refusal_unanswerable']:.2f} of unanswerable, {chosen['cv_false_refusal']:.2f} "
             "of answerable (out of fold)", "", "| layer | C | CV AUC |", "|---:|---:|---:|"]
    lines += [f"| {row['layer']} | {row['C']} | {row['auc']:.3f} |" for row in table]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.probe", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--features", type=Path, help="cache of the hidden states (.npz): read if present, else written")
    parser.add_argument("--max-false-refusal", type=float, default=0.1)
    parser.add_argument("--out", type=Path, help="probe file (default: assistant/data/probes/<model>.json)")
    parser.add_argument("--json", type=Path, help="write the CV table here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    logger.setLevel(logging.INFO)
    from assistant.answerability import probe_path
    from assistant.config import AssistantSettings
    from assistant.runtime import load_runtime

    runtime = load_runtime(AssistantSettings(warmup=False, answerability_probe=False))
    try:
        engine = runtime.chat
        if args.features and args.features.is_file():
            data = dict(np.load(args.features))
        else:
            data = collect(engine, args.docs, args.questions, default_layers(engine.model.layer_count), args.limit)
            if args.features:
                np.savez(args.features, **data)
        chosen, table = train(data, args.max_false_refusal)
        source = f"{args.questions} (first {args.limit})" if args.limit else str(args.questions)
        probe = build_probe(data, chosen, engine.info.name, source)
        out = args.out or probe_path(engine.info.name)
        probe.save(out)
    finally:
        runtime.close()
    emit(format_markdown(chosen, table, engine.info.label), {"chosen": chosen, "table": table, "probe": str(out)},
         args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
