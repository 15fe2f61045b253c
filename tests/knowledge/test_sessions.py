"""Per-visitor stores: isolated, removed on drop and after the TTL, ids can't escape the root."""

from knowledge.sessions import SessionKnowledgeBases


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
