"""The CLI in real subprocesses: ingest with per-file lines, search with file:page, list, delete, persistence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import factory

ROOT = Path(__file__).resolve().parents[2]
# The CLI with the hash embedder: for tests about the command line, not about embedding quality.
WITH_HASH_EMBEDDER = """import sys
import knowledge.embeddings
from tests.knowledge.hash_embedder import HashEmbedder
knowledge.embeddings.load_embedder = lambda settings: HashEmbedder()
from knowledge.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run(data_dir, *args, timeout=300):
    env = dict(os.environ, KB_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def run_fast(data_dir, *args, **popen):
    env = dict(os.environ, KB_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", PYTHONIOENCODING="utf-8")
    popen.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-c", WITH_HASH_EMBEDDER, *args], text=True, encoding="utf-8",
                          env=env, cwd=ROOT, timeout=120, **popen)


def test_cli_round_trip_across_processes(docs, tmp_path):
    store = tmp_path / "store"
    bad = factory.empty_file(tmp_path / "blank.pdf")
    ingest = run(store, "ingest", str(docs["text_pdf"]), str(bad), str(docs["gbk_txt"]))
    assert ingest.returncode == 1  # one file failed; the others went in
    lines = ingest.stdout.splitlines()
    assert any(line.startswith("OK  report.pdf: pages=4 ocr_pages=0 chunks=") for line in lines)
    assert "FAIL  blank.pdf: the file is empty (0 bytes)" in lines
    assert "2 of 3 file(s) ok" in ingest.stdout

    search = run(store, "search", "Marie Curie Nobel Prize Chemistry", "-k", "2")
    assert search.returncode == 0 and search.stdout.splitlines()[0].startswith("1. report.pdf:2")

    listing = run(store, "list")
    assert "report.pdf\tpages=4" in listing.stdout and "contract_gbk.txt" in listing.stdout

    removed = run(store, "delete", "report.pdf", "no-such.pdf")
    assert "deleted report.pdf" in removed.stdout and "no document 'no-such.pdf'" in removed.stderr
    assert "report.pdf" not in run(store, "list").stdout


def test_cli_ingests_folders_recursively(docs, tmp_path):
    folder = tmp_path / "in" / "nested"
    folder.mkdir(parents=True)
    (folder / "a.md").write_text("Alpha centauri is the closest star system.", encoding="utf-8")
    (folder / "skip.bin").write_bytes(b"\x00\x01")
    out = run(tmp_path / "store", "ingest", str(tmp_path / "in"))
    assert out.returncode == 0 and "OK  a.md: pages=1" in out.stdout and "skip.bin" not in out.stdout


def test_cli_ingests_a_file_whose_name_is_not_utf8(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    try:
        with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as handle:  # Latin-1, not UTF-8
            handle.write(b"Espresso and croissants.")
    except (OSError, UnicodeError):
        pytest.skip("this file system only takes UTF-8 names")
    out = run_fast(tmp_path / "store", "ingest", str(folder))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK  caf\ufffd.txt: pages=1" in out.stdout and "Traceback" not in out.stderr
    assert "caf\ufffd.txt\tpages=1" in run_fast(tmp_path / "store", "list").stdout


def test_cli_delete_refuses_digits_that_are_not_ascii(tmp_path):
    out = run_fast(tmp_path / "store", "delete", "\u00b2", "\u0661")  # "²".isdigit(), "١".isdecimal()
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "error: no document '\u00b2'" in out.stderr and "error: no document '\u0661'" in out.stderr


def test_cli_exits_quietly_when_stdout_is_closed(tmp_path):
    """`python -m knowledge list | head -0`: the reader is gone before the first line is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = run_fast(tmp_path / "store", "list", capture_output=False, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert out.returncode == 1 and out.stderr == ""


def test_cli_refuses_a_folder_without_supported_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.xyz").write_text("not a supported type")
    out = run(tmp_path / "store", "ingest", str(empty))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(f"error: no supported files in {empty} (supported: .bmp, .docx,")

    good = tmp_path / "star.txt"
    good.write_text("Alpha centauri is the closest star system.")
    mixed = run_fast(tmp_path / "store", "ingest", str(empty), str(good))  # the other files still go in
    assert mixed.returncode == 1 and "OK  star.txt" in mixed.stdout and "no supported files" in mixed.stderr
