"""Make the dev sets: real slices of SQuAD v2 / CMRC 2018 / CUAD (primary) and synthetic gazetteers.

    python evals/data/make_devsets.py --real               # rebuild squad_v2/, cmrc2018/, cuad*/ and the clause examples from raw/
    python evals/data/make_devsets.py --check              # verify every committed set (answers/spans in their text)
    python evals/data/make_devsets.py                      # rebuild evals/data/squad_en and evals/data/zh (synthetic)
    python evals/data/make_devsets.py --squad dev-v2.0.json --cmrc cmrc2018_dev.json   # sampled whole-article slices

The real sets are built from the small files under raw/: verbatim slices of the public dev files in their
original JSON layout (SQuAD v2, CMRC 2018) and CUAD rows (contract file + gold spans per category): raw/cuad_*.json
for the CUAD dev set cuad/, raw/cuad_heldout/*.json for the held-out CUAD set cuad_heldout/ (never used for tuning).
Every gold answer must occur in its document and every CUAD span in its contract, compared after
normalisation (NFKC, case folding, all whitespace removed, as the evals compare); failures are dropped
and counted, and `--check` fails on any.

Output layout (what `python -m evals.retrieval` reads): OUT/docs/<doc_id>.txt and OUT/questions.jsonl with
one {"id", "question", "answers", "doc_id", "is_impossible"} object per line. Everything is seeded, so a
rerun reproduces the files byte for byte.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import shutil
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw"


def normalize(text: str) -> str:
    """NFKC, case-folded, all whitespace removed: the comparison `evals.retrieval` and `evals.contracts` use."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def occurs_in(needle: str, haystack: str) -> bool:
    """Whether a (non-empty) needle occurs in the haystack after normalisation."""
    n = normalize(needle)
    return bool(n) and n in normalize(haystack)


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: list[str]
    doc_id: str
    is_impossible: bool = False


def write_set(out: Path, docs: dict[str, str], items: list[Item]) -> None:
    """Replace OUT with the documents and questions."""
    if out.exists():
        shutil.rmtree(out)
    (out / "docs").mkdir(parents=True)
    for doc_id, text in docs.items():
        (out / "docs" / f"{doc_id}.txt").write_text(text.strip() + "\n", encoding="utf-8")
    lines = [json.dumps(item.__dict__, ensure_ascii=False) for item in items]
    (out / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{out}: {len(docs)} documents, {len(items)} questions "
          f"({sum(i.is_impossible for i in items)} impossible)")


# --- real data: SQuAD v2 dev and CMRC 2018 dev (when the files are at hand) -----------------------


def squad_slice(path: Path, articles: int, questions: int, seed: int) -> tuple[dict[str, str], list[Item]]:
    """One document per article (paragraphs joined by blank lines); questions sampled across them."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    chosen = random.Random(seed).sample(data, min(articles, len(data)))
    docs, items = {}, []
    for article in chosen:
        doc_id = _slug(article["title"])
        docs[doc_id] = "\n\n".join(p["context"] for p in article["paragraphs"])
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = sorted({a["text"] for a in qa["answers"]})
                items.append(Item(qa["id"], qa["question"], answers, doc_id, bool(qa.get("is_impossible"))))
    return docs, _sample_items(items, questions, seed)


def cmrc_slice(path: Path, titles: int, questions: int, seed: int) -> tuple[dict[str, str], list[Item]]:
    """One document per title (its contexts joined by blank lines)."""
    contexts = json.loads(path.read_text(encoding="utf-8"))
    by_title: dict[str, list[dict]] = defaultdict(list)
    for context in contexts:
        by_title[context["title"]].append(context)
    chosen = random.Random(seed).sample(sorted(by_title), min(titles, len(by_title)))
    docs, items = {}, []
    for number, title in enumerate(chosen):
        doc_id = f"cmrc_{number:03d}"
        docs[doc_id] = title + "\n\n" + "\n\n".join(c["context_text"] for c in by_title[title])
        for context in by_title[title]:
            for qa in context["qas"]:
                items.append(Item(qa["query_id"], qa["query_text"], sorted(set(qa["answers"])), doc_id))
    return docs, _sample_items(items, questions, seed)


def _sample_items(items: list[Item], count: int, seed: int) -> list[Item]:
    picked = random.Random(seed).sample(items, min(count, len(items)))
    return sorted(picked, key=lambda item: (item.doc_id, item.id))


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in title).strip("_").lower()[:60]


# --- real data, paragraph level: the committed primary sets ---------------------------------------
#
# One document per context (paragraph), taken in file order from the start of the file, so a slice is
# "the first N contexts". Answers are de-duplicated; an answer that does not occur in its context is
# dropped, and a question left with none is dropped (both counted).


@dataclass
class Dropped:
    answers: int = 0
    questions: int = 0


def _contexts(path: Path) -> list[tuple[str, str, str, list[dict]]]:
    """(title, paragraph id, context, qas) in file order, from a SQuAD-layout or CMRC-layout file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    if isinstance(data, dict):  # SQuAD layout (SQuAD v2, and CMRC 2018 as its authors publish it)
        for article in data["data"]:
            for number, paragraph in enumerate(article["paragraphs"]):
                pid = paragraph.get("id") or f"{article['title']}_{number}"
                rows.append((article["title"], pid, paragraph["context"], paragraph["qas"]))
    else:  # CMRC 2018 flat layout: [{"context_id", "title", "context_text", "qas": [{"query_id", ...}]}]
        for c in data:
            qas = [{"id": q["query_id"], "question": q["query_text"],
                    "answers": [{"text": a} for a in q["answers"]]} for q in c["qas"]]
            rows.append((c["title"], c["context_id"], c["context_text"], qas))
    return rows


def paragraph_set(path: Path, prefix: str, limit: int | None = None) -> tuple[dict[str, str], list[Item], Dropped]:
    """Documents = the first `limit` contexts of the file; questions = all of theirs (impossible ones kept)."""
    docs: dict[str, str] = {}
    items: list[Item] = []
    dropped = Dropped()
    for number, (_title, _pid, context, qas) in enumerate(_contexts(path)[:limit]):
        doc_id = f"{prefix}_{number:03d}"
        docs[doc_id] = context
        for qa in qas:
            impossible = bool(qa.get("is_impossible"))
            texts = list(dict.fromkeys(a["text"] for a in qa.get("answers") or []))
            kept = [t for t in texts if isinstance(t, str) and occurs_in(t, context)]  # CMRC has a stray number
            dropped.answers += len(texts) - len(kept)
            if not impossible and not kept:
                dropped.questions += 1
                continue
            items.append(Item(str(qa["id"]), qa["question"], [] if impossible else kept, doc_id, impossible))
    return docs, items, dropped


# --- CUAD: contracts and per-category gold spans ---------------------------------------------------

# CUAD column name -> our category name (assistant.tasks.clauses.CLAUSE_TYPES)
CUAD_CATEGORIES = {
    "Parties": "Parties", "Agreement Date": "Agreement Date", "Effective Date": "Effective Date",
    "Expiration Date": "Expiration Date", "Renewal Term": "Renewal Term",
    "Notice Period To Terminate Renewal": "Notice Period to Terminate Renewal", "Governing Law": "Governing Law",
    "Termination For Convenience": "Termination for Convenience", "Cap On Liability": "Cap on Liability",
    "Uncapped Liability": "Uncapped Liability", "Non-Compete": "Non-Compete", "Exclusivity": "Exclusivity",
    "Anti-Assignment": "Anti-Assignment", "Change Of Control": "Change of Control", "License Grant": "License Grant",
    "Ip Ownership Assignment": "IP Ownership Assignment", "Audit Rights": "Audit Rights", "Insurance": "Insurance",
    "Warranty Duration": "Warranty Duration", "Liquidated Damages": "Liquidated Damages",
}
OMITTED = "<omitted>"  # CUAD joins the pieces of a discontinuous span with this marker


def cuad_set(raw_dir: Path, contracts_dir: Path, pattern: str = "cuad_*.json") -> tuple[list[dict], list[str]]:
    """Annotation rows from raw_dir/pattern (one file per contract, spans per CUAD category), checked against the text.

    A span that CUAD wrote with `<omitted>` becomes one span per piece. A piece that does not occur in the
    contract (after normalisation) is dropped and reported; a category left with no span keeps
    has_clause true only if it had spans before (the report says so)."""
    rows, problems = [], []
    for raw in sorted(raw_dir.glob(pattern)):
        entry = json.loads(raw.read_text(encoding="utf-8"))
        cid = entry["contract_id"]
        text = (contracts_dir / f"{cid}.txt").read_text(encoding="utf-8")
        missing = set(CUAD_CATEGORIES) - set(entry["spans"])
        if missing:
            problems.append(f"{raw.name}: categories missing: {sorted(missing)}")
        for cuad_name, ours in CUAD_CATEGORIES.items():
            pieces = [p.strip() for span in entry["spans"].get(cuad_name, []) for p in span.split(OMITTED)]
            pieces = list(dict.fromkeys(p for p in pieces if p))
            kept = [p for p in pieces if occurs_in(p, text)]
            problems += [f"{cid} / {ours}: span not in contract: {p[:70]!r}" for p in pieces if p not in kept]
            rows.append({"contract_id": cid, "category": ours, "has_clause": bool(pieces),
                         "spans": [{"text": p} for p in kept]})
    return rows, problems


def write_cuad(out: Path, raw_dir: Path = RAW, pattern: str = "cuad_*.json") -> list[str]:
    rows, problems = cuad_set(raw_dir, out / "contracts", pattern)
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    (out / "annotations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    contracts = len({r["contract_id"] for r in rows})
    print(f"{out}: {contracts} contracts, {len(rows)} annotations "
          f"({sum(r['has_clause'] for r in rows)} with the clause), {len(problems)} problems")
    return problems


# squad_v2_rhine trains answerability probes (evals.probe); it is never evaluated on
REAL_SETS = (("squad_v2", "squad_v2_dev_slice.json", "squad"), ("cmrc2018", "cmrc2018_dev_slice.json", "cmrc"),
             ("squad_v2_rhine", "squad_v2_rhine.json", "rhine"))
# CUAD sets: (folder, raw subfolder, raw file pattern); the contract texts are committed in FOLDER/contracts/
CUAD_SETS = (("cuad", ".", "cuad_*.json"), ("cuad_heldout", "cuad_heldout", "*.json"),
             ("cuad_dev2", "cuad_dev2", "*.json"), ("cuad_heldout2", "cuad_heldout2", "*.json"),
             ("cuad_heldout3", "cuad_heldout3", "*.json"), ("cuad_dev3", "cuad_dev3", "*.json"),
             ("cuad_heldout4", "cuad_heldout4", "*.json"), ("cuad_heldout5", "cuad_heldout5", "*.json"))


# Questions asked of a set whose answers are in another article: (set, raw file of the other article, its prefix)
OFF_COLLECTION = ("squad_v2", "squad_v2_rhine.json", "rhine")
OFF_COLLECTION_FILE = "off_collection.jsonl"


def off_collection_items(set_dir: Path, raw: Path, prefix: str) -> tuple[list[Item], int]:
    """The other article's answerable questions, each marked unanswerable for this set's documents.

    A question is kept only when none of its gold answers occurs in any of this set's documents, so no
    reading of them can answer it; returns (kept, dropped). `doc_id` names the other article's paragraph."""
    collection = normalize(" ".join(p.read_text(encoding="utf-8") for p in sorted((set_dir / "docs").iterdir())))
    _docs, items, _ = paragraph_set(raw, prefix)
    answerable = [i for i in items if not i.is_impossible]
    kept = [Item(f"off-{i.id}", i.question, [], i.doc_id, True) for i in answerable
            if not any(normalize(a) in collection for a in i.answers)]
    return kept, len(answerable) - len(kept)


def write_off_collection(out: Path = HERE, raw_dir: Path = RAW) -> None:
    name, raw_name, prefix = OFF_COLLECTION
    items, dropped = off_collection_items(out / name, raw_dir / raw_name, prefix)
    (out / name / OFF_COLLECTION_FILE).write_text(_jsonl([i.__dict__ for i in items]), encoding="utf-8")
    print(f"{out / name / OFF_COLLECTION_FILE}: {len(items)} questions from {raw_name} "
          f"({dropped} dropped: a gold answer occurs in {name}/docs)")


def check_off_collection(root: Path = HERE, raw_dir: Path = RAW) -> list[str]:
    name, raw_name, prefix = OFF_COLLECTION
    committed = root / name / OFF_COLLECTION_FILE
    rebuilt = _jsonl([i.__dict__ for i in off_collection_items(root / name, raw_dir / raw_name, prefix)[0]])
    return [] if committed.read_text(encoding="utf-8") == rebuilt else [f"{committed}: differs from its rebuild"]


def build_real(out: Path = HERE, raw_dir: Path = RAW) -> int:
    problems = 0
    for name, raw_name, prefix in REAL_SETS:
        if not (raw_dir / raw_name).exists():
            print(f"{raw_dir / raw_name}: missing, {name} not built")
            continue
        docs, items, dropped = paragraph_set(raw_dir / raw_name, prefix)
        write_set(out / name, docs, items)
        print(f"  dropped: {dropped.answers} answers not in their context, {dropped.questions} questions left without one")
    write_off_collection(out, raw_dir)
    for name, raw_sub, pattern in CUAD_SETS:
        if (out / name / "contracts").is_dir():
            for problem in write_cuad(out / name, raw_dir / raw_sub, pattern):
                print("  " + problem)
                problems += 1
    write_clause_examples(raw_dir)
    write_other_sentences()
    return problems


# --- checks on the committed files (also used by tests/test_devsets.py) ----------------------------


def check_questions(set_dir: Path) -> list[str]:
    """Every line parses, its document exists, every answer occurs in it, impossible ones have none."""
    problems = []
    lines = (set_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
            doc = set_dir / "docs" / f"{row['doc_id']}.txt"
            if not doc.is_file():
                problems.append(f"{set_dir.name}:{number}: no document {doc.name}")
                continue
            text = doc.read_text(encoding="utf-8")
            if row["is_impossible"] and row["answers"]:
                problems.append(f"{set_dir.name}:{number}: impossible question with answers")
            if not row["is_impossible"] and not row["answers"]:
                problems.append(f"{set_dir.name}:{number}: answerable question without answers")
            problems += [f"{set_dir.name}:{number}: answer not in {doc.name}: {a!r}"
                         for a in row["answers"] if not occurs_in(a, text)]
            assert isinstance(row["id"], str) and isinstance(row["question"], str) and row["question"]
        except (ValueError, KeyError, AssertionError) as exc:
            problems.append(f"{set_dir.name}:{number}: bad line ({exc!r})")
    return problems


def check_cuad(cuad_dir: Path, categories: set[str] | None = None) -> list[str]:
    """Every annotation names a contract file and a known category; every span occurs in the contract."""
    categories = categories or set(CUAD_CATEGORIES.values())
    problems = []
    for number, line in enumerate((cuad_dir / "annotations.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        row, where = json.loads(line), f"{cuad_dir.name}:{number}"
        path = cuad_dir / "contracts" / f"{row['contract_id']}.txt"
        if not path.is_file():
            problems.append(f"{where}: no contract {path.name}")
            continue
        if row["category"] not in categories:
            problems.append(f"{where}: unknown category {row['category']!r}")
        if not isinstance(row["has_clause"], bool) or (row["spans"] and not row["has_clause"]):
            problems.append(f"{where}: has_clause inconsistent with spans")
        text = path.read_text(encoding="utf-8")
        problems += [f"{where}: span not in {path.name}: {s['text'][:60]!r}"
                     for s in row["spans"] if not occurs_in(s["text"], text)]
    return problems


# --- contract review's likeness examples -----------------------------------------------------------------
#
# raw/cuad_examples/part_*.jsonl: CUAD gold spans of 17 clause categories, transcribed from master_clauses.csv
# rows (one {"file", "category", "text"} per span). The app's file keeps those of contracts no CUAD set here
# uses, whitespace collapsed, soft hyphens removed, at least 40 characters, each (category, text) once.

EXAMPLES = HERE.parents[1] / "assistant" / "data" / "cuad_clause_examples.jsonl"
MIN_EXAMPLE_CHARS = 40
MAX_EXAMPLE_CHARS = 600
MAX_EXAMPLES_PER_ROW = 3  # per category and contract


def evaluated_cuad_files(raw_dir: Path = RAW) -> set[str]:
    """CUAD file names (lower case) of every contract in a CUAD set here: none may lend an example."""
    files = [p for _name, sub, pattern in CUAD_SETS for p in (raw_dir / sub).glob(pattern)]
    return {json.loads(p.read_text(encoding="utf-8"))["cuad_filename"].lower() for p in files}


def clause_examples(raw_dir: Path = RAW) -> tuple[list[dict], dict[str, int]]:
    """The examples file's rows, and how many raw lines were left out and why.

    Each raw part lists a row's spans in order; at most the first MAX_EXAMPLES_PER_ROW of a category and
    row are kept, each cut to MAX_EXAMPLE_CHARS (parts 1-7 were transcribed that way, parts 8 on in full).
    """
    excluded, rows, seen = evaluated_cuad_files(raw_dir), [], set()
    too_many = f"beyond the first {MAX_EXAMPLES_PER_ROW}"
    dropped = {"evaluated contract": 0, too_many: 0, "short": 0, "duplicate": 0}
    per_row: collections.Counter = collections.Counter()
    for path in _example_parts(raw_dir):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            text = " ".join(row["text"].replace("\u00ad", "").split())[:MAX_EXAMPLE_CHARS].rstrip()
            key, place = (row["category"], text), (path.name, row["file"], row["category"])
            per_row[place] += 1
            reason = ("evaluated contract" if row["file"].lower() in excluded else
                      too_many if per_row[place] > MAX_EXAMPLES_PER_ROW else
                      "short" if len(text) < MIN_EXAMPLE_CHARS else "duplicate" if key in seen else None)
            if reason:
                dropped[reason] += 1
                continue
            seen.add(key)
            rows.append({"category": row["category"], "text": text, "file": row["file"]})
    return rows, dropped


def _example_parts(raw_dir: Path) -> list[Path]:
    """raw/cuad_examples/part_N.jsonl in the order of N."""
    return sorted((raw_dir / "cuad_examples").glob("part_*.jsonl"), key=lambda p: int(p.stem.split("_")[1]))


def write_clause_examples(raw_dir: Path = RAW, out: Path = EXAMPLES) -> None:
    rows, dropped = clause_examples(raw_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{out}: {len(rows)} examples from {len({r['file'] for r in rows})} contracts; left out: {dropped}")


def check_clause_examples(raw_dir: Path = RAW, committed: Path = EXAMPLES) -> list[str]:
    rows, _ = clause_examples(raw_dir)
    built = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return [] if committed.read_text(encoding="utf-8") == built else [f"{committed}: differs from its rebuild from raw"]


# --- contract review's classifier: sentences that are no clause ----------------------------------------------
#
# The classifier's negatives: every sentence (as the review splits and keeps them, each once) of
# the CUAD dev contracts that overlaps no gold span of the 17 clause categories. Dev sets only: never held-out.

OTHER_SENTENCES = HERE.parents[1] / "assistant" / "data" / "cuad_other_sentences.jsonl"
DEV_CUAD_SETS = ("cuad", "cuad_dev2", "cuad_dev3")


def other_sentences(root: Path = HERE) -> list[dict]:
    """{"text", "file"} per sentence of the dev contracts that is none of the clause categories."""
    sys.path.insert(0, str(HERE.parents[1]))  # run as a script: the repository's packages
    from assistant.tasks.similar import CATEGORIES, long_enough
    from evals.contracts import load_annotations, overlaps
    from knowledge.chunking import sentence_spans

    rows, seen = [], set()
    for name in DEV_CUAD_SETS:
        gold = load_annotations(root / name / "annotations.jsonl")
        for path in sorted((root / name / "contracts").glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            spans = [s["text"] for r in gold if r["contract_id"] == path.stem and r["category"] in CATEGORIES
                     for s in r["spans"]]
            for start, end in sentence_spans(text):
                sentence = " ".join(text[start:end].split())
                if long_enough(sentence) and sentence not in seen and not overlaps(sentence, spans):
                    seen.add(sentence)
                    rows.append({"text": sentence, "file": f"{name}/{path.stem}"})
    return rows


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write_other_sentences(out: Path = OTHER_SENTENCES) -> None:
    rows = other_sentences()
    out.write_text(_jsonl(rows), encoding="utf-8")
    print(f"{out}: {len(rows)} sentences from {len({r['file'] for r in rows})} dev contracts")


def check_other_sentences(committed: Path = OTHER_SENTENCES) -> list[str]:
    same = committed.read_text(encoding="utf-8") == _jsonl(other_sentences())
    return [] if same else [f"{committed}: differs from its rebuild from the dev sets"]


def check_all(root: Path = HERE) -> list[str]:
    problems = check_clause_examples() + check_other_sentences() + check_off_collection() if root == HERE else []
    for name in ("squad_v2", "cmrc2018", "squad_v2_rhine", "squad_en", "zh"):
        if (root / name / "questions.jsonl").exists():
            problems += check_questions(root / name)
    for name, _raw_sub, _pattern in CUAD_SETS:
        if (root / name / "annotations.jsonl").exists():
            problems += check_cuad(root / name)
    return problems


# --- synthetic gazetteers ------------------------------------------------------------------------
#
# Each document is an encyclopedia-style article about an invented town: the same kinds of facts in
# every article (so the retriever must find the right town, not just the right kind of sentence),
# stated with varied templates among filler sentences, and asked about with paraphrased questions.


@dataclass(frozen=True)
class Fact:
    key: str
    statements: tuple[str, ...]  # templates with {town} and {value}
    questions: tuple[str, ...]


EN_FACTS = (
    Fact("founded", ("{town} was founded in {value} by a group of river traders.",
                     "The first charter of {town} dates from {value}."),
         ("In what year was {town} founded?", "When did {town} receive its first charter?")),
    Fact("founder", ("Local tradition names {value} as the founder of {town}.",
                     "{town} grew around the mill built by {value}."),
         ("Who is regarded as the founder of {town}?", "Whose mill did {town} grow around?")),
    Fact("river", ("{town} lies on the banks of the {value} River.",
                   "The {value} River divides {town} into an old and a new quarter."),
         ("Which river flows through {town}?", "On which river is {town} built?")),
    Fact("population", ("At the last census {town} had {value} inhabitants.",
                        "Roughly {value} people live in {town} today."),
         ("What is the population of {town}?", "How many people live in {town}?")),
    Fact("elevation", ("The town centre of {town} sits {value} metres above sea level.",),
         ("How high above sea level is {town}?", "What is the elevation of {town}'s centre?")),
    Fact("industry", ("The economy of {town} has long depended on {value}.",
                      "Most jobs in {town} are in {value}."),
         ("What industry does the economy of {town} rely on?", "Which sector employs most people in {town}?")),
    Fact("festival", ("Every {month}, {town} holds the {value}, which draws visitors from the whole region.",),
         ("What festival is held in {town} every year?", "Which annual festival takes place in {town}?")),
    Fact("museum", ("The {value} in {town} keeps the archive of the old guilds.",
                    "Visitors to {town} often start at the {value}."),
         ("Which museum in {town} holds the guild archive?", "What is the name of the main museum in {town}?")),
    Fact("twin", ("Since 1987 {town} has been twinned with {value}.",),
         ("Which town is {town} twinned with?", "What is the twin town of {town}?")),
    Fact("railway", ("{town} is a stop on the {value}, opened in the nineteenth century.",),
         ("Which railway line serves {town}?", "What railway line stops at {town}?")),
    Fact("dish", ("The best-known local dish of {town} is {value}.",
                  "No visit to {town} is complete without a plate of {value}."),
         ("What is the traditional dish of {town}?", "Which local food is {town} known for?")),
    Fact("mayor", ("The current mayor of {town}, {value}, was elected on a promise to restore the harbour.",),
         ("Who is the mayor of {town}?", "Who currently leads the town council of {town}?")),
    Fact("stadium", ("Football matches in {town} are played at the {value}, which seats {seats} spectators.",),
         ("Where are football matches played in {town}?", "What is the name of the stadium in {town}?")),
    Fact("university", ("Higher education in {town} is provided by the {value}, founded as a school of mining.",),
         ("Which university is located in {town}?", "What institution provides higher education in {town}?")),
)

EN_FILLER = (
    "The climate is mild, with wet winters and warm, dry summers.",
    "Several footpaths connect the old quarter with the surrounding hills.",
    "The market square is lined with merchants' houses from the early modern period.",
    "In the twentieth century the town expanded along the main road towards the coast.",
    "A weekly market is held on Saturdays, selling produce from nearby farms.",
    "The parish church was rebuilt twice after fires destroyed the wooden nave.",
    "The municipal library moved into the former customs house after its restoration.",
    "Local schools teach a short course on the history of the region.",
    "Tourism has grown steadily since the restoration of the harbour walls.",
    "A ring road completed in the 1990s keeps heavy traffic out of the centre.",
    "The surrounding countryside is known for orchards and small vineyards.",
    "Several bridges cross the river, the oldest of them built of local sandstone.",
    "The town hall houses a collection of maps drawn by local surveyors.",
    "Cycling routes follow the old towpaths along the water.",
    "The regional newspaper has been printed in the town since the last century.",
    "A botanical garden on the edge of town was laid out by a retired sea captain.",
    "Public transport consists mainly of buses that link the town with neighbouring villages.",
    "Each district elects representatives to the town council every four years.",
)

EN_EVENTS = (
    "a flood damaged the lower streets", "the old granary was turned into a concert hall",
    "the first electric street lamps were lit", "a new hospital wing opened", "the harbour was dredged",
    "a fire destroyed part of the tannery district", "the grammar school admitted its first girls",
    "the town walls were partly demolished", "a cholera outbreak closed the markets for a month",
    "the council bought the castle grounds as a public park", "a tram line was proposed but never built",
    "the covered market was rebuilt in iron and glass", "the last windmill stopped turning",
    "a local choir won a national competition", "the telephone exchange opened in the post office",
)
EN_COMPARE = "Unlike neighbouring {other}, whose {what} is {value}, the town kept its own traditions."

EN_SYLLABLES = ("al", "bar", "cor", "den", "el", "fen", "gar", "hol", "is", "kel", "lor", "mar", "nor", "os",
                "pel", "quin", "ros", "sel", "tor", "ul", "val", "wen", "yar", "zen")
EN_SUFFIXES = ("ford", "wick", "by", "haven", "stead", "mouth", "bridge", "field", "holm", "dale")
EN_GIVEN = ("Agnes", "Bertram", "Clara", "Dorian", "Edith", "Felix", "Greta", "Hugo", "Ines", "Jasper",
            "Katrin", "Leopold", "Marta", "Nils", "Olga", "Piet", "Rosa", "Silas", "Thea", "Viktor")
EN_INDUSTRIES = ("salt mining", "shipbuilding", "wool weaving", "glassmaking", "cheese making", "timber trade",
                 "paper milling", "clockmaking", "boat repair", "copper smelting", "brewing", "pottery")
EN_DISHES = ("smoked eel pie", "barley dumplings", "apple and onion stew", "fried river perch", "rye honey cake",
             "plum brandy cake", "mutton and turnip broth", "crab fritters", "walnut bread", "buttermilk soup")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _en_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = "".join(rng.sample(EN_SYLLABLES, 2)).capitalize() + rng.choice(EN_SUFFIXES)
        if name not in used:
            used.add(name)
            return name


def _en_values(rng: random.Random, town: str, used: set[str]) -> dict[str, str]:
    person = lambda: f"{rng.choice(EN_GIVEN)} {_en_name(rng, used)[:-2].rstrip('aeiou')}er"  # noqa: E731
    return {
        "founded": str(rng.randint(1050, 1850)), "founder": person(),
        "river": "".join(rng.sample(EN_SYLLABLES, 2)).capitalize() + "e",
        "population": f"{rng.randint(3, 480)},{rng.randint(0, 999):03d}", "elevation": str(rng.randint(4, 1400)),
        "industry": rng.choice(EN_INDUSTRIES), "festival": f"{_en_name(rng, used)} Lantern Fair",
        "museum": f"{person().split()[1]} House Museum", "twin": _en_name(rng, used),
        "railway": f"{_en_name(rng, used)} Valley Line", "dish": rng.choice(EN_DISHES), "mayor": person(),
        "stadium": f"{_en_name(rng, used)} Park", "university": f"University of {town} and {_en_name(rng, used)}",
    }


ZH_FACTS = (
    Fact("founded", ("{town}始建于{value}年，最初是河运商人的聚居地。", "{town}的第一份建城文书可追溯到{value}年。"),
         ("{town}是哪一年建立的？", "{town}的建城文书是哪一年的？")),
    Fact("founder", ("当地传说认为{value}是{town}的创建者。", "{town}是围绕{value}修建的磨坊逐渐发展起来的。"),
         ("谁被认为是{town}的创建者？", "{town}是围绕谁的磨坊发展起来的？")),
    Fact("river", ("{town}坐落在{value}河畔。", "{value}河把{town}分为老城和新城两部分。"),
         ("流经{town}的是哪条河？", "{town}建在哪条河边？")),
    Fact("population", ("根据最近一次人口普查，{town}共有{value}名居民。", "如今约有{value}人生活在{town}。"),
         ("{town}有多少人口？", "{town}现在住着多少人？")),
    Fact("elevation", ("{town}市中心海拔{value}米。",), ("{town}的海拔是多少？", "{town}市中心高出海平面多少米？")),
    Fact("industry", ("{town}的经济长期依赖{value}。", "{town}的大多数就业岗位集中在{value}行业。"),
         ("{town}的经济依靠什么产业？", "{town}的主要产业是什么？")),
    Fact("festival", ("每年{month}，{town}都会举办{value}，吸引周边地区的游客。",),
         ("{town}每年举办什么节庆活动？", "{town}一年一度的节日叫什么？")),
    Fact("museum", ("{town}的{value}保存着旧行会的档案。", "游客到{town}通常先参观{value}。"),
         ("{town}哪座博物馆保存着行会档案？", "{town}最主要的博物馆叫什么名字？")),
    Fact("twin", ("自1987年起，{town}与{value}结为友好城市。",),
         ("{town}的友好城市是哪里？", "{town}与哪座城市结为友好城市？")),
    Fact("railway", ("{town}是{value}上的一个车站，这条铁路建于十九世纪。",),
         ("哪条铁路经过{town}？", "{town}位于哪条铁路线上？")),
    Fact("dish", ("{town}最有名的地方菜是{value}。", "来{town}一定要尝一尝{value}。"),
         ("{town}的传统名菜是什么？", "{town}以哪道地方美食闻名？")),
    Fact("mayor", ("{town}现任市长{value}以修复港口的承诺当选。",),
         ("{town}的市长是谁？", "现在是谁领导{town}市议会？")),
    Fact("stadium", ("{town}的足球比赛在{value}进行，该球场可容纳{seats}名观众。",),
         ("{town}的足球比赛在哪里举行？", "{town}的体育场叫什么名字？")),
    Fact("university", ("{town}的高等教育由{value}提供，其前身是一所矿业学校。",),
         ("{town}有哪所大学？", "哪所学校为{town}提供高等教育？")),
)

ZH_FILLER = (
    "这里气候温和，冬季多雨，夏季温暖干燥。", "几条步道把老城区和周围的山丘连在一起。",
    "集市广场两旁是近代早期的商人住宅。", "二十世纪时，城镇沿着通往海岸的公路不断扩展。",
    "每逢周六都有集市，出售附近农场的农产品。", "教区教堂曾两次毁于火灾，后来又重新修建。",
    "市立图书馆在旧海关大楼修复后迁入其中。", "当地学校开设一门介绍本地区历史的短期课程。",
    "自从港口城墙修复以来，旅游业稳步增长。", "二十世纪九十年代建成的环路让重型车辆绕开了市中心。",
    "周边乡村以果园和小型葡萄园著称。", "几座桥梁横跨河面，其中最古老的一座用本地砂岩建成。",
    "市政厅收藏着当地测绘员绘制的地图。", "自行车道沿着古老的纤道延伸。",
    "地区报纸从上个世纪起就在这里印刷。", "城边的植物园由一位退休的船长设计。",
    "公共交通主要依靠连接周边村庄的公共汽车。", "各个街区每四年选举一次市议会代表。",
)

ZH_EVENTS = (
    "一场洪水冲毁了低洼的街道", "旧粮仓被改建为音乐厅", "第一批电路灯亮起", "医院新楼落成启用", "港口进行了疏浚",
    "一场大火烧毁了部分制革区", "文法学校开始招收女生", "部分城墙被拆除", "霍乱流行导致集市关闭一个月",
    "市议会买下城堡旧址改作公园", "有轨电车线路的计划最终搁浅", "有顶集市用钢铁和玻璃重建", "最后一座风车停止转动",
    "当地合唱团在全国比赛中获奖", "电话交换所在邮局内开通",
)
ZH_COMPARE = "与相邻的{other}不同（那里的{what}是{value}），本镇保留了自己的传统。"

ZH_PLACE_A = "青白云石金银松柳梅兰竹桂枫桃杏清明安宁永丰长乐华阳新平东西南北"
ZH_PLACE_B = "溪岭川湾港桥原山湖泉州浦塘林坪"
ZH_SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁"
               "邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖"
               "邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文")
ZH_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文斌宇浩凯鹏飞"
ZH_INDUSTRIES = ("盐矿开采", "造船", "羊毛纺织", "玻璃制造", "奶酪加工", "木材贸易", "造纸", "钟表制造",
                 "陶瓷烧制", "铜矿冶炼", "酿酒", "茶叶种植")
ZH_DISHES = ("熏鳗鱼馅饼", "大麦团子", "苹果洋葱炖菜", "香煎河鲈", "黑麦蜂蜜糕", "李子酒蛋糕", "羊肉萝卜汤",
             "蟹肉煎饼", "核桃面包", "酸奶汤")
ZH_MONTHS = tuple(f"{m}月" for m in "一二三四五六七八九十") + ("十一月", "十二月")


def _zh_place(rng: random.Random, used: set[str], suffix: str = "") -> str:
    while True:
        name = "".join(rng.sample(ZH_PLACE_A, 2)) + rng.choice(ZH_PLACE_B) + suffix
        if name not in used:
            used.add(name)
            return name


def _zh_values(rng: random.Random, town: str, used: set[str]) -> dict[str, str]:
    person = lambda: rng.choice(ZH_SURNAMES) + "".join(rng.sample(ZH_GIVEN, 2))  # noqa: E731
    return {
        "founded": str(rng.randint(1050, 1850)), "founder": person(), "river": _zh_place(rng, used)[:2],
        "population": str(rng.randint(3000, 480000)), "elevation": str(rng.randint(4, 1400)),
        "industry": rng.choice(ZH_INDUSTRIES), "festival": f"{_zh_place(rng, used)}灯会",
        "museum": f"{person()}故居博物馆", "twin": _zh_place(rng, used, "市"), "railway": f"{_zh_place(rng, used)}铁路",
        "dish": rng.choice(ZH_DISHES), "mayor": person(), "stadium": f"{_zh_place(rng, used)}体育场",
        "university": f"{town[:2]}{_zh_place(rng, used)[:2]}大学",
    }


@dataclass(frozen=True)
class Language:
    code: str
    facts: tuple[Fact, ...]
    filler: tuple[str, ...]
    town: object
    values: object
    months: tuple[str, ...]
    joiner: str
    title: str
    events: tuple[str, ...]
    event: str  # template with {year} and {event}
    compare: str  # template with {other}, {what}, {value}
    labels: dict


EN = Language(
    code="en", facts=EN_FACTS, filler=EN_FILLER, town=_en_name, values=_en_values, months=MONTHS, joiner=" ",
    title="{town}\n\n{town} is a small town in the fictional province of Westmark.", events=EN_EVENTS,
    event="In {year}, {event}.", compare=EN_COMPARE,
    labels={"industry": "main industry", "dish": "best-known dish", "river": "river", "founded": "founding year",
            "mayor": "mayor"},
)
ZH = Language(
    code="zh", facts=ZH_FACTS, filler=ZH_FILLER, town=lambda rng, used: _zh_place(rng, used, "镇"),
    values=_zh_values, months=ZH_MONTHS, joiner="", title="{town}\n\n{town}是虚构的西岭省的一座小镇。",
    events=ZH_EVENTS, event="{year}年，{event}。", compare=ZH_COMPARE,
    labels={"industry": "主要产业", "dish": "名菜", "river": "河流", "founded": "建城年份", "mayor": "市长"},
)


def synthetic_set(lang: Language, documents: int, per_doc: int, impossible: int,
                  seed: int) -> tuple[dict[str, str], list[Item]]:
    """Articles of ~13 paragraphs each; `per_doc` questions per article plus `impossible` unanswerable ones."""
    rng = random.Random(seed)
    used: set[str] = set()
    towns = [lang.town(rng, used) for _ in range(documents)]
    values = [lang.values(rng, town, used) for town in towns]
    docs, items, omitted = {}, [], []
    for number, town in enumerate(towns):
        doc_id = f"{lang.code}_{number:03d}"
        stated = rng.sample(lang.facts, len(lang.facts) - 2)  # two facts per article are never stated
        others = [(towns[i], values[i]) for i in rng.sample([i for i in range(documents) if i != number], 3)]
        docs[doc_id] = _article(lang, rng, town, values[number], stated, others)
        for fact in rng.sample(stated, per_doc):
            items.append(Item(f"{doc_id}_q{len(items):04d}", rng.choice(fact.questions).format(town=town),
                              [values[number][fact.key]], doc_id))
        omitted += [(doc_id, town, fact) for fact in lang.facts if fact not in stated]
    for doc_id, town, fact in rng.sample(omitted, impossible):
        items.append(Item(f"{doc_id}_imp{len(items):04d}", rng.choice(fact.questions).format(town=town), [],
                          doc_id, True))
    return docs, items


def _article(lang: Language, rng: random.Random, town: str, values: dict[str, str], stated: list[Fact],
             others: list[tuple[str, dict[str, str]]]) -> str:
    """One fact per paragraph among filler, plus sentences about other towns (true facts of theirs)."""
    deck = rng.sample(lang.filler, len(lang.filler)) * 3
    paragraphs = []
    for fact in stated:
        template = rng.choice(fact.statements)
        sentences = [template.format(town=town, value=values[fact.key], month=rng.choice(lang.months),
                                     seats=_seats(rng, lang))]
        sentences += [deck.pop() for _ in range(rng.randint(2, 4))]
        sentences += [lang.event.format(year=rng.randint(1700, 1990), event=e) for e in rng.sample(lang.events, 2)]
        rng.shuffle(sentences)
        paragraphs.append(lang.joiner.join(sentences))
    for other, other_values in others:
        key = rng.choice(sorted(lang.labels))
        position = rng.randrange(len(paragraphs))
        paragraphs[position] += lang.joiner + lang.compare.format(other=other, what=lang.labels[key],
                                                                  value=other_values[key])
    return "\n\n".join([lang.title.format(town=town)] + paragraphs)


def _seats(rng: random.Random, lang: Language) -> str:
    return f"{rng.randint(2, 40)}{'' if lang.code == 'zh' else ','}{rng.randint(0, 999):03d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--squad", type=Path, help="SQuAD v2 dev JSON (dev-v2.0.json): build squad_en from it")
    parser.add_argument("--cmrc", type=Path, help="CMRC 2018 dev JSON (cmrc2018_dev.json): build zh from it")
    parser.add_argument("--documents", type=int, default=30)
    parser.add_argument("--questions", type=int, default=300, help="questions per real-data slice")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--real", action="store_true",
                        help="rebuild squad_v2/, cmrc2018/, the cuad*/ sets and the app's CUAD clause examples from raw/")
    parser.add_argument("--check", action="store_true", help="check the committed sets; exit 1 on any problem")
    args = parser.parse_args()
    if args.check:
        problems = check_all(args.out)
        print("\n".join(problems) or "all sets OK")
        sys.exit(1 if problems else 0)
    if args.real:
        sys.exit(1 if build_real(args.out) else 0)
    if args.squad:
        write_set(args.out / "squad_en", *squad_slice(args.squad, args.documents, args.questions, args.seed))
    else:
        write_set(args.out / "squad_en", *synthetic_set(EN, args.documents, 8, 30, args.seed))
    if args.cmrc:
        write_set(args.out / "zh", *cmrc_slice(args.cmrc, args.documents, args.questions, args.seed))
    else:
        write_set(args.out / "zh", *synthetic_set(ZH, args.documents, 8, 30, args.seed + 1))


if __name__ == "__main__":
    main()
