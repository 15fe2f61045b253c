"""Command-line interface: ingest with a progress bar and a line per file, search, list, delete."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from knowledge.config import KnowledgeSettings
from knowledge.errors import KnowledgeError
from knowledge.loading import SUPPORTED_SUFFIXES, supported_list
from knowledge.types import IngestResult

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="store directory (default: $KB_DATA_DIR or data/kb)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="add files or folders (recursively)")
    ingest.add_argument("paths", nargs="+", type=Path)
    search = commands.add_parser("search", help="hybrid search with file:page citations")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    commands.add_parser("list", help="list stored documents")
    delete = commands.add_parser("delete", help="delete documents by id or file name")
    delete.add_argument("documents", nargs="+")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    settings = KnowledgeSettings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    try:
        code = COMMANDS[args.command](args, settings)
        sys.stdout.flush()  # a reader that went away (`| head`) shows up here at the latest
        return code
    except KnowledgeError as exc:
        _err(f"error: {exc}")
        return 2
    except BrokenPipeError:
        return _stdout_closed()


def _stdout_closed() -> int:
    """Exit quietly when stdout's reader has gone (the Python docs' recipe for SIGPIPE).

    stdout is pointed at devnull so that the interpreter's flush at exit cannot fail again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 1


def _open(settings: KnowledgeSettings):
    from knowledge.embeddings import load_embedder
    from knowledge.kb import KnowledgeBase

    return KnowledgeBase(settings, load_embedder(settings))


def cmd_ingest(args, settings: KnowledgeSettings) -> int:
    files, empty = expand_paths(args.paths)
    for folder in empty:
        _err(f"error: no supported files in {folder} (supported: {supported_list()})")
    if not files:
        return 2  # nothing to ingest is an input error, like a missing argument
    failures = _ingest_files(_open(settings), files, settings)
    return 1 if failures or empty else 0


def _ingest_files(kb, files: list[Path], settings: KnowledgeSettings) -> int:
    """Ingest with a progress bar and a line per file; returns the number that failed."""
    from tqdm import tqdm

    failures = 0
    with tqdm(total=len(files), unit="file", file=sys.stderr, disable=None) as bar:
        for path in files:
            name = display_name(path)
            bar.set_description(name[:40])
            result = kb.ingest_file(path, name)
            failures += not result.ok
            tqdm.write(format_result(result), file=sys.stdout)
            bar.update(1)
    kb.persist()
    _out(f"{len(files) - failures} of {len(files)} file(s) ok; {len(kb.documents())} document(s) in {settings.data_dir}")
    return failures


def cmd_search(args, settings: KnowledgeSettings) -> int:
    results = _open(settings).search(args.query, args.k)
    if not results:
        _out("no results")
    for rank, result in enumerate(results, 1):
        snippet = " ".join(result.text.split())[:160]
        _out(f"{rank}. {result.chunk.citation}  score={result.score:.4f}\n   {snippet}")
    return 0


def cmd_list(args, settings: KnowledgeSettings) -> int:
    documents = _open(settings).documents()
    if not documents:
        _out("no documents")
    for doc in documents:
        _out(f"{doc.doc_id}\t{doc.name}\tpages={doc.pages}\tocr_pages={doc.ocr_pages}\tchunks={doc.chunks}")
    return 0


def cmd_delete(args, settings: KnowledgeSettings) -> int:
    kb = _open(settings)
    by_name = {doc.name: doc.doc_id for doc in kb.documents()}
    missing = 0
    for ref in args.documents:
        doc_id = int(ref) if ref.isascii() and ref.isdecimal() else by_name.get(ref)  # "²".isdigit() too
        if doc_id is not None and kb.delete(doc_id):
            _out(f"deleted {ref}")
        else:
            missing += 1
            _err(f"error: no document {ref!r}")
    return 1 if missing else 0


COMMANDS = {"ingest": cmd_ingest, "search": cmd_search, "list": cmd_list, "delete": cmd_delete}


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Files as given, folders expanded (recursively) to their supported files, sorted; and the folders without any."""
    files: list[Path] = []
    empty: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        files.extend(found)
        if not found:
            empty.append(path)
    return files, empty


def display_name(path: Path) -> str:
    """The file name as text: bytes that are not UTF-8 (b"caf\\xe9.txt") become U+FFFD, which the store can take."""
    return os.fsencode(path.name).decode("utf-8", "replace")


def format_result(result: IngestResult) -> str:
    """The per-file line: counts and seconds, or the error."""
    if result.status == "error":
        return f"FAIL  {result.error}"  # errors start with the file name
    line = (f"{'OK' if result.status == 'indexed' else 'SAME'}  {result.file_name}: pages={result.pages} "
            f"ocr_pages={result.ocr_pages} chunks={result.chunks} seconds={result.seconds:.2f}")
    return line + "".join(f"\n      warning: {w}" for w in result.warnings)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
