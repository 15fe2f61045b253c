"""How every evaluation ends: the markdown table on stdout, the JSON report where --json asks for it."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def emit(markdown: str, data: dict, json_path: Path | None) -> None:
    sys.stdout.write(markdown.rstrip("\n") + "\n")
    if json_path is not None:
        Path(json_path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
