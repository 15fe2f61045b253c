"""OCR evaluation: character error rate on pages rendered from public text, as scanned or photographed.

    python -m evals.ocr --docs evals/data/cmrc2018/docs --docs evals/data/squad_v2/docs --limit 6 --json ocr.json

The first `--chars` characters of each document are drawn as an A4 page at 300 dpi (12 pt, DejaVu Sans for
English, WenQuanYi Zen Hei for Chinese), then turned into each condition: clean, a 100-dpi scan, a blurred
150-dpi scan, tilted 3°, a phone photo (150 dpi, a shadow across the page, low contrast, noise, JPEG),
inverted (light text on a dark page), sideways (turned 90° counter-clockwise) and upside down. Every page is
OCR'd by knowledge.ocr with the configured languages (chi_sim+eng), without and with the clean-up
(knowledge.imageprep, and for a page read with low confidence Tesseract's orientation detection). CER is the
edit distance between the text and the OCR output over the text's length, whitespace removed and NFKC-folded on
both sides.
"""

from __future__ import annotations

import argparse
import io
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from evals.report import emit

LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
DPI, POINTS = 300, 12
_CJK = "\u3000-\u9fff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+\s*")


@dataclass(frozen=True)
class Reading:
    """One page under one condition, OCR'd one way."""

    doc: str
    language: str
    condition: str
    prepared: bool
    cer: float
    seconds: float


def render_page(text: str, cjk: bool) -> Image.Image:
    """`text` drawn on a white A4 page at DPI, wrapped at the margins (one inch)."""
    width, height = int(8.27 * DPI), int(11.69 * DPI)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(CJK_FONT if cjk else LATIN_FONT, POINTS * DPI // 72)
    y, step = DPI, int(POINTS * DPI / 72 * 1.5)
    for line in _wrap(text, font, width - 2 * DPI):
        if y > height - DPI:
            break
        draw.text((DPI, y), line, font=font, fill=0)
        y += step
    return page


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for token in _TOKEN.findall(" ".join(text.split())):
        if line and font.getlength(line + token) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


def _shrink(page: Image.Image, factor: int) -> Image.Image:
    return page.resize((page.width // factor, page.height // factor), Image.LANCZOS)


def _photo(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """150 dpi, light falling off towards one corner, washed-out ink, sensor noise, a slight blur, JPEG at 60."""
    pixels = np.asarray(_shrink(page, 2), dtype=np.float32)
    rows, cols = np.mgrid[0:pixels.shape[0], 0:pixels.shape[1]]
    light = 0.45 + 0.55 * (cols / pixels.shape[1]) * (0.6 + 0.4 * rows / pixels.shape[0])
    pixels = (pixels * 0.7 + 40) * light + rng.normal(0, 8, pixels.shape)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))
    buffer = io.BytesIO()
    photo.convert("RGB").save(buffer, "JPEG", quality=60)
    return Image.open(buffer)


CONDITIONS: dict[str, Callable[[Image.Image, np.random.Generator], Image.Image]] = {
    "clean": lambda page, rng: page,
    "scan 100 dpi": lambda page, rng: _shrink(page, 3),
    "blurred 150 dpi": lambda page, rng: _shrink(page, 2).filter(ImageFilter.GaussianBlur(1.2)),
    "tilted 3°": lambda page, rng: page.rotate(3, resample=Image.BICUBIC, expand=True, fillcolor=255),
    "phone photo": _photo,
    "inverted": lambda page, rng: ImageOps.invert(page),
    "sideways": lambda page, rng: page.rotate(90, expand=True),
    "upside down": lambda page, rng: page.rotate(180),
}


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: Levenshtein distance / reference length, after NFKC and without whitespace."""
    ref, hyp = (re.sub(r"\s+", "", unicodedata.normalize("NFKC", s)) for s in (reference, hypothesis))
    previous = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, start=1):
        current = [i]
        for j, b in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1] / max(1, len(ref))


def read_pages(texts: dict[str, str], lang: str, conditions: list[str], seed: int = 0) -> list[Reading]:
    """OCR every text under every condition, without and with the clean-up."""
    from knowledge.ocr import ocr_image, resolve_languages

    lang, rng, readings = resolve_languages(lang), np.random.default_rng(seed), []
    for doc, text in texts.items():
        cjk = bool(re.search(f"[{_CJK}]", text))
        page = render_page(text, cjk)
        for condition in conditions:
            image = CONDITIONS[condition](page, rng)
            for prepared in (False, True):
                start = time.perf_counter()
                output = ocr_image(image, lang, prepare=prepared)
                readings.append(Reading(doc, "zh" if cjk else "en", condition, prepared, round(cer(text, output), 4),
                                        round(time.perf_counter() - start, 3)))
    return readings


def summarise(readings: list[Reading]) -> list[dict]:
    """Mean CER and seconds per page for each condition and language, without and with the clean-up."""
    rows = []
    for condition in dict.fromkeys(r.condition for r in readings):
        for language in sorted({r.language for r in readings}):
            cell = [r for r in readings if r.condition == condition and r.language == language]
            raw, prepared = ([r for r in cell if r.prepared is p] for p in (False, True))
            if raw and prepared:
                rows.append({"condition": condition, "language": language, "pages": len(raw),
                             "cer_raw": _mean(r.cer for r in raw), "cer_prepared": _mean(r.cer for r in prepared),
                             "s_raw": _mean(r.seconds for r in raw),
                             "s_prepared": _mean(r.seconds for r in prepared)})
    return rows


def _mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def markdown(rows: list[dict]) -> str:
    lines = ["| condition | language | pages | CER as is | CER cleaned up | s/page as is | s/page cleaned up |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['condition']} | {r['language']} | {r['pages']} | {r['cer_raw']:.3f} | {r['cer_prepared']:.3f} "
              f"| {r['s_raw']:.2f} | {r['s_prepared']:.2f} |" for r in rows]
    return "\n".join(lines)


def load_texts(folders: list[Path], limit: int, chars: int) -> dict[str, str]:
    """The first `chars` characters (whitespace collapsed) of the first `limit` .txt files of each folder."""
    texts = {}
    for folder in folders:
        for path in sorted(folder.glob("*.txt"))[:limit]:
            texts[path.stem] = " ".join(path.read_text(encoding="utf-8").split())[:chars]
    return texts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, action="append", required=True, help="a folder of .txt (repeatable)")
    parser.add_argument("--limit", type=int, default=6, help="documents per folder")
    parser.add_argument("--chars", type=int, default=350, help="characters of each document drawn on its page")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated, from: " +
                        ", ".join(CONDITIONS))
    parser.add_argument("--lang", default="chi_sim+eng", help="Tesseract languages")
    parser.add_argument("--json", type=Path, help="write the per-page readings and the table here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        parser.error(f"unknown condition(s) {unknown}; choose from {list(CONDITIONS)}")
    readings = read_pages(load_texts(args.docs, args.limit, args.chars), args.lang, conditions)
    rows = summarise(readings)
    emit(markdown(rows), {"rows": rows, "readings": [asdict(r) for r in readings], "lang": args.lang,
                          "chars": args.chars}, args.json)


if __name__ == "__main__":
    main()
