"""Which search for the clauses no rule matched holds up on contracts it never saw: classifier vs likeness, cross-validated.

    python -m evals.clause_finders [--folds 5] [--json OUT]

Uses only what the app ships, never a held-out set: CUAD's example clauses (positives, grouped by contract)
and the dev contracts' sentences that are no clause (negatives, grouped by contract;
assistant/data/cuad_other_sentences.jsonl). Each fold holds out a share of the contracts of both; the
classifier is trained on the rest, the likeness search gets the rest's examples.

1. Sentences: at the same rate of false alarms on held-out no-clause sentences (the share a search puts in
   some category), the share of held-out examples each search names with their own category, and the
   classifier's threshold for that rate.
2. Contracts: the dev contracts reviewed as evals.contracts does with rules only, then, for each category
   the rules missed, the classifier (trained without that contract's fold) at each threshold over the
   contract's sentences: micro recall and precision, and the possible findings it adds, right and wrong.
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

from evals.contracts import load_annotations, score
from evals.report import emit

DATA = Path(__file__).resolve().parent / "data"
FALSE_ALARMS = (0.01, 0.02, 0.05, 0.10)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def folds_of(groups: Sequence[str], folds: int) -> np.ndarray:
    """Each item's fold: its group's (contract's) position in sorted order, modulo the number of folds."""
    order = {g: i % folds for i, g in enumerate(sorted(set(groups)))}
    return np.array([order[g] for g in groups])


def held_out_scores(examples, others, other_groups, folds: int, embedder) -> dict:
    """Per search, each held-out example's (right category?, top score) and each held-out other's top score."""
    from assistant.tasks.classifier import ClauseClassifier
    from assistant.tasks.similar import SimilarClauses

    ex_fold, ot_fold = folds_of([e.source for e in examples], folds), folds_of(other_groups, folds)
    out = {name: {"right": [], "top": [], "other_top": []} for name in ("classifier", "likeness")}
    for fold in range(folds):
        train = [e for e, f in zip(examples, ex_fold) if f != fold]
        test = [e for e, f in zip(examples, ex_fold) if f == fold]
        test_others = [t for t, f in zip(others, ot_fold) if f == fold]
        searches = {"classifier": ClauseClassifier(train, [t for t, f in zip(others, ot_fold) if f != fold]),
                    "likeness": SimilarClauses(embedder, train)}
        for name, search in searches.items():
            score = search.probabilities if name == "classifier" else search.scores
            names, matrix = _categories(score([e.text for e in test]))
            out[name]["top"] += matrix.max(axis=1).tolist()
            out[name]["right"] += [names[i] == e.category for i, e in zip(matrix.argmax(axis=1), test)]
            out[name]["other_top"] += _categories(score(test_others))[1].max(axis=1).tolist()
    return out


def _categories(scores: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """The categories' names and a (sentences, categories) matrix of their scores (the classifier's "none" left out)."""
    from assistant.tasks.classifier import NONE

    kept = {c: s for c, s in scores.items() if c != NONE}
    return list(kept), np.stack(list(kept.values()), axis=1)


def sentence_table(scores: dict) -> list[dict]:
    """Per false-alarm rate: each search's threshold and the share of held-out examples it names rightly."""
    rows = []
    for rate in FALSE_ALARMS:
        row = {"false_alarms": rate}
        for name, s in scores.items():
            threshold = float(np.quantile(s["other_top"], 1 - rate))
            named = np.array(s["right"]) & (np.array(s["top"]) >= threshold)
            row[name] = {"threshold": round(threshold, 3), "named": round(float(named.mean()), 3)}
        rows.append(row)
    return rows


def contract_table(examples, others, other_groups, folds: int) -> list[dict]:
    """Dev contracts: rules, then the fold's classifier for what they missed, per threshold."""
    from assistant.tasks.classifier import ClauseClassifier
    from assistant.tasks.similar import long_enough
    from evals.contracts import predict
    from knowledge.chunking import sentence_spans

    dev_sets = sorted({group.split("/")[0] for group in other_groups})  # the sets the negatives come from
    contracts = [(name, path) for name in dev_sets for path in sorted((DATA / name / "contracts").glob("*.txt"))]
    keys = [f"{n}/{p.stem}" for n, p in contracts]
    fold_of = dict(zip(keys, folds_of(keys, folds)))
    other_fold = np.array([fold_of.get(g, -1) for g in other_groups])
    classifiers = {f: ClauseClassifier(examples, [t for t, of in zip(others, other_fold) if of != f]) for f in range(folds)}
    tallies = {t: {"tp": 0, "fp": 0, "fn": 0, "added_right": 0, "added_wrong": 0} for t in THRESHOLDS}
    for name in dev_sets:
        gold = load_annotations(DATA / name / "annotations.jsonl")
        rules, _ = predict(DATA / name / "contracts", {r["contract_id"] for r in gold})
        for path in sorted((DATA / name / "contracts").glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            sentences = list(dict.fromkeys(s for s in (" ".join(text[a:b].split()) for a, b in sentence_spans(text))
                                           if long_enough(s)))  # as the review searches them
            rows = [r for r in gold if r["contract_id"] == path.stem]
            by_rules = {r["category"]: rules.get((path.stem, r["category"]), (None,))[0] for r in rows}  # quotes
            missed = [category for category, quotes in by_rules.items() if quotes is None]
            classifier = classifiers[fold_of[f"{name}/{path.stem}"]]
            for threshold in THRESHOLDS:
                classifier.threshold = threshold
                found = {m.category: (sentences[m.index],) for m in classifier.best(sentences, missed)}
                _tally(tallies[threshold], rows, {c: q or found.get(c) for c, q in by_rules.items()}, found)
    return [{"threshold": t, **_rates(s)} for t, s in tallies.items()]


def _tally(tally: dict, rows: list[dict], quotes: dict, added: dict) -> None:
    """One contract's rows scored as evals.contracts scores them: quotes (each category's, None: not found) for
    TP/FP/FN, the added (possible) findings alone for how many of them were right."""
    def keyed(by_category: dict) -> dict:
        return {(r["contract_id"], r["category"]): by_category.get(r["category"]) for r in rows}

    every, extra = score(keyed(quotes), rows).values(), score(keyed(added), rows).values()
    for field in ("tp", "fp", "fn"):
        tally[field] += sum(getattr(s, field) for s in every)
    tally["added_right"] += sum(s.tp for s in extra)
    tally["added_wrong"] += sum(s.fp for s in extra)


def _rates(t: dict) -> dict:
    recall = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else 0.0
    precision = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 0.0
    return {"recall": round(recall, 3), "precision": round(precision, 3), **t}


def format_markdown(report: dict) -> str:
    lines = [f"Held-out examples: {report['examples']} from {report['example_contracts']} contracts; held-out "
             f"no-clause sentences: {report['others']} from {report['other_contracts']} dev contracts; "
             f"{report['folds']} folds by contract.", "",
             "| false alarms | classifier threshold | classifier names | likeness threshold | likeness names |",
             "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['false_alarms']:.2f} | {r['classifier']['threshold']:.3f} | {r['classifier']['named']:.3f} | "
              f"{r['likeness']['threshold']:.3f} | {r['likeness']['named']:.3f} |" for r in report["sentences"]]
    lines += ["", "Dev contracts, rules then the classifier (cross-validated):", "",
              "| threshold | recall | precision | added right | added wrong |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['threshold']} | {r['recall']:.3f} | {r['precision']:.3f} | {r['added_right']} | "
              f"{r['added_wrong']} |" for r in report["contracts"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.clause_finders", description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    from assistant.tasks.classifier import OTHERS_FILE
    from assistant.tasks.similar import CATEGORIES, load_examples
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder

    examples = [e for e in load_examples() if e.category in CATEGORIES]
    rows = load_annotations(OTHERS_FILE)
    others, groups = [r["text"] for r in rows], [r["file"] for r in rows]
    with tempfile.TemporaryDirectory(prefix="clause-finders-") as tmp:
        embedder = load_embedder(KnowledgeSettings(data_dir=Path(tmp)))
        sentences = sentence_table(held_out_scores(examples, others, groups, args.folds, embedder))
    report = {"folds": args.folds, "examples": len(examples), "example_contracts": len({e.source for e in examples}),
              "others": len(others), "other_contracts": len(set(groups)), "sentences": sentences,
              "contracts": contract_table(examples, others, groups, args.folds)}
    emit(format_markdown(report), report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
