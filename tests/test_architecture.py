"""Imports point one way: app -> assistant -> knowledge; heavy libraries live in one module each."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {"knowledge": {"assistant", "app", "ui", "gradio"}, "assistant": {"app", "ui", "gradio"}, "ui": {"app"}}
OWNERS = {
    "faiss": {"knowledge/vectorstore.py"},
    "pypdf": {"knowledge/loading.py"},
    "pytesseract": {"knowledge/ocr.py"},
    "sentence_transformers": {"knowledge/embeddings.py"},
    "sklearn": {"assistant/tasks/classifier.py"},
}
UI_MODULES = {"app.py"} | {f"ui/{p.name}" for p in (ROOT / "ui").glob("*.py")}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_packages_import_one_way():
    for package, banned in FORBIDDEN.items():
        for path in sources(package):
            assert not imported_roots(path) & banned, f"{path.relative_to(ROOT)} imports {imported_roots(path) & banned}"


def test_heavy_libraries_live_in_one_module():
    for library, owners in OWNERS.items():
        users = {str(p.relative_to(ROOT)) for pkg in ("knowledge", "assistant") for p in sources(pkg)
                 if library in imported_roots(p)}
        assert users <= owners, f"{library} imported outside {owners}: {users - owners}"


def test_gradio_lives_in_app_and_ui_only():
    users = {str(p.relative_to(ROOT)) for pkg in ("knowledge", "assistant", "ui") for p in sources(pkg)
             if "gradio" in imported_roots(p)} | ({"app.py"} if "gradio" in imported_roots(ROOT / "app.py") else set())
    assert users <= UI_MODULES


def test_no_print_in_library_code():
    for package in ("knowledge", "assistant", "ui"):
        for path in sources(package):
            calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "print"]
            assert not calls, f"print() in {path.relative_to(ROOT)}"


def test_no_unused_imports_undefined_names_or_other_pyflakes_findings():
    """Dead imports and undefined names (pyflakes): the cheap lint, run on every package and the tests."""
    from pyflakes.api import checkPath
    from pyflakes.reporter import Reporter

    found: list[str] = []

    class Collect(Reporter):
        def __init__(self):
            pass

        def flake(self, message):
            found.append(str(message))

        def syntaxError(self, filename, msg, lineno, offset, text):
            found.append(f"{filename}:{lineno}: {msg}")

        def unexpectedError(self, filename, msg):
            found.append(f"{filename}: {msg}")

    paths = [ROOT / "app.py"] + [p for d in ("ui", "assistant", "knowledge", "bench", "evals", "tests", "examples")
                                 for p in sorted((ROOT / d).rglob("*.py"))]
    for path in paths:
        checkPath(str(path), Collect())
    assert not found, "\n".join(found)
