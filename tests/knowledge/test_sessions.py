"""Per-visitor stores: isolated, private, removed on drop and after the TTL, ids can't escape the root."""

import os
import stat
from pathlib import Path

from knowledge.sessions import SessionKnowledgeBases, session_key


def test_sessions_are_isolated_and_dropped(settings, embedder, docs, tmp_path):
    registry = SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions")
    alice, bob = registry.get("alice"), registry.get("../../bob")
    alice.ingest([docs["docx"]])
    assert [d.name for d in alice.documents()] == ["handbook.docx"]
    assert bob.documents() == [] and bob.search("paid leave") == []
    assert registry.get("alice") is alice
    assert all(p.parent == registry.root for p in registry.root.iterdir())
    registry.drop("alice")
    assert len(registry) == 1 and registry.get("alice").documents() == []


def test_idle_sessions_expire(settings, embedder, tmp_path):
    registry = SessionKnowledgeBases(settings, embedder, root=tmp_path / "s", ttl_s=0)
    registry.get("x")
    assert registry.expire() == 1 and len(registry) == 0 and not any(registry.root.iterdir())


def test_stores_left_by_a_dead_process_are_removed_at_start(settings, embedder, tmp_path):
    root = tmp_path / "sessions"
    stale = root / ("ab12" * 6)
    stale.mkdir(parents=True)
    (stale / "kb.sqlite3").write_bytes(b"someone's documents")
    (root / "operator-notes").mkdir()
    SessionKnowledgeBases(settings, embedder, root=root)
    assert [p.name for p in root.iterdir()] == ["operator-notes"]


def test_a_second_app_on_the_same_sessions_root_keeps_the_first_apps_live_stores(settings, embedder, docs, tmp_path):
    first = SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions")
    first.get("alice").ingest([docs["docx"]])
    exports = first.root / "_exports"
    for key in (session_key("alice"), session_key("gone")):
        (exports / key).mkdir(parents=True)
        (exports / key / "report.md").write_text("findings")
    SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions")  # its start-up clean-up runs here
    assert first.get("alice").documents() and (first.root / session_key("alice")).is_dir()
    assert (exports / session_key("alice") / "report.md").is_file()  # alice's reports stay downloadable
    assert not (exports / session_key("gone")).exists()  # a dead process's visitor: nobody can download them
    first.close_all()


def test_session_folders_and_their_files_are_private_to_the_apps_user(settings, embedder, docs, tmp_path):
    """Other uids (the code sandbox's run uid among them) can neither list nor read a visitor's store."""
    old = os.umask(0o022)  # a permissive umask: the folders must be private all the same
    try:
        registry = SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions")
        registry.get("alice").ingest([docs["docx"]])
        folder = registry.root / session_key("alice")
        assert mode(registry.root) == 0o700 and mode(folder) == 0o700
        os.umask(0o077)  # what app.main sets: the files written from then on are the owner's alone
        registry.get("bob").ingest([docs["docx"]])
        written = [p for p in (registry.root / session_key("bob")).rglob("*") if p.is_file()]
        assert written and all(mode(p) & 0o077 == 0 for p in written), {p.name: oct(mode(p)) for p in written}
        registry.close_all()
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reading_a_new_session_creates_nothing_and_stores_are_capped(settings, embedder, docs, tmp_path):
    """Every page load lists documents; an API client can invent session ids: neither may open a store."""
    import pytest

    from knowledge.errors import StoreError

    registry = SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions", max_stores=2)
    for visitor in ("a", "b", "c"):
        view = registry.view(visitor)
        assert view.documents() == [] and view.search("leave") == [] and view.chunks(1) == []
        assert view.delete(1) is False and view.clear() is None
    assert len(registry) == 0 and not any(registry.root.iterdir())
    registry.get("a").ingest([docs["docx"]])
    registry.get("b")
    with pytest.raises(StoreError, match="holding the documents of 2 visitors, its limit; try again later"):
        registry.get("c")
    assert registry.view("a").documents()[0].name == "handbook.docx"  # the others keep theirs
    registry.drop("b")
    assert registry.get("c").documents() == []
    registry.close_all()
