"""The CLI in real subprocesses: ingest with per-file lines, search with file:page, list, delete, persistence."""

from __future__ import annotations

import os
import subprocess
import sys

from tests import factory


def run(data_dir, *args, timeout=300):
    env = dict(os.environ, KB_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


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
