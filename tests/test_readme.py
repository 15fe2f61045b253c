"""The README stays true: Space header, the two commands, and every setting in the configuration table."""

from pathlib import Path

from knowledge.config import KnowledgeSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_space_header_and_commands():
    assert README.startswith("---\n") and "\nsdk: gradio\n" in README and "\napp_file: app.py\n" in README
    assert "make apt run" in README and "make apt test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make apt test" in ci


def test_every_setting_is_documented():
    from assistant.config import AssistantSettings
    from ui.config import AppSettings

    for prefix, settings in (("KB_", KnowledgeSettings), ("ASSISTANT_", AssistantSettings), ("APP_", AppSettings)):
        for name in settings.model_fields:
            assert f"`{prefix}{name.upper()}`" in README, name


def test_screenshots_exist():
    for name in ("chat", "knowledge", "contracts", "code"):
        assert f"assets/screenshot-{name}.png" in README
        assert (Path(__file__).resolve().parents[1] / "assets" / f"screenshot-{name}.png").stat().st_size > 10_000
