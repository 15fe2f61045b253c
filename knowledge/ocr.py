"""Tesseract OCR through pytesseract, pages in parallel (each call is its own tesseract process)."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import pytesseract
from PIL import Image

from knowledge.errors import OcrUnavailableError
from knowledge.imageprep import prepare_page

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install Tesseract with English and Chinese data: `apt-get install tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-chi-sim` (on a Hugging Face Space: list them in packages.txt)."
)



class _TesseractEnvironment(Mapping):
    """The live process environment plus OMP_THREAD_LIMIT=1, for the tesseract child processes only.

    Tesseract's own OpenMP threads fight our page-level parallelism on few cores. Setting the variable
    in os.environ instead would reach every OpenMP runtime loaded after this module: torch's would
    run on one core, and FAISS's bundled OpenBLAS hangs forever in IVF training under a thread limit
    of 1 (its worker waits for a second thread that is never started).
    """

    _EXTRA = {"OMP_THREAD_LIMIT": "1"}  # an operator's own value in os.environ wins

    def __getitem__(self, key: str) -> str:
        return os.environ[key] if key in os.environ else self._EXTRA[key]

    def __iter__(self):
        return iter(os.environ.keys() | self._EXTRA.keys())

    def __len__(self) -> int:
        return len(os.environ.keys() | self._EXTRA.keys())


pytesseract.pytesseract.environ = _TesseractEnvironment()  # pytesseract passes this as Popen(env=...)


@functools.lru_cache(maxsize=1)
def available_languages() -> frozenset[str]:
    """Languages the installed Tesseract can read.

    Raises:
        OcrUnavailableError: the tesseract binary is missing.
    """
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, FileNotFoundError) as exc:
        raise OcrUnavailableError("ocr_missing", hint=INSTALL_HINT) from exc


def resolve_languages(requested: str) -> str:
    """Keep the requested languages Tesseract has; warn about the rest.

    Raises:
        OcrUnavailableError: none of the requested languages is installed.
    """
    have = available_languages()
    wanted = [lang for lang in requested.split("+") if lang]
    usable = [lang for lang in wanted if lang in have]
    missing = sorted(set(wanted) - set(usable))
    if missing:
        log.warning("ocr_languages_missing missing=%s installed=%s hint=%r", missing, sorted(have), INSTALL_HINT)
    if not usable:
        raise OcrUnavailableError("ocr_languages", languages=repr(requested), hint=INSTALL_HINT)
    return "+".join(usable)


# Tesseract's mean word confidence on upright pages of evals.ocr was 84-96; on pages turned 90° or 180° 20-50.
LOW_CONFIDENCE = 60.0


def ocr_image(image: Image.Image, lang: str, timeout_s: float = 120.0, prepare: bool = True) -> str:
    """OCR one image; a page Tesseract fails on raises RuntimeError for that page only.

    With `prepare`, the page is cleaned up first (knowledge.imageprep), and a page read with low confidence is
    checked for being sideways or upside down (Tesseract's orientation detection) and read again turned upright;
    the better-read of the two is kept.
    """
    page = prepare_page(image) if prepare else image if image.mode in ("RGB", "L") else image.convert("RGB")
    try:
        text, confidence = _read(page, lang, timeout_s)
        # no words at all is low confidence too: a sideways page often reads as nothing
        if prepare and confidence < LOW_CONFIDENCE and (turn := orientation(page, timeout_s)):
            # the page as given is turned and cleaned up afresh: a sideways page's clean-up (its line height and
            # skew measured across its lines) shrank and tilted it wrongly, and turning that copy kept the harm
            again, better = _read(prepare_page(image.transpose(_UPRIGHT[turn])), lang, timeout_s)
            log.info("ocr_turned rotate=%d confidence=%.0f->%.0f", turn, confidence, better)
            text = again if better > confidence else text
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailableError("ocr_missing", hint=INSTALL_HINT) from exc
    except (pytesseract.TesseractError, RuntimeError, OSError) as exc:
        raise RuntimeError(f"OCR failed: {exc}") from exc
    return tidy_ocr_text(text)


def _read(image: Image.Image, lang: str, timeout_s: float) -> tuple[str, float]:
    """The page's text (lines in order, a blank line between paragraphs) and its mean word confidence (0-100;
    -1 with no words), from one Tesseract run."""
    data = pytesseract.image_to_data(image, lang=lang, timeout=timeout_s, output_type=pytesseract.Output.DICT)
    paragraphs: dict[tuple, dict[int, list[str]]] = {}
    confidences = []
    for word, conf, block, par, line in zip(data["text"], data["conf"], data["block_num"], data["par_num"],
                                            data["line_num"]):
        if word.strip():
            paragraphs.setdefault((block, par), {}).setdefault(line, []).append(word)
            confidences.append(float(conf))
    text = "\n\n".join("\n".join(" ".join(words) for words in lines.values()) for lines in paragraphs.values())
    return text, (sum(confidences) / len(confidences) if confidences else -1.0)


# OSD's clockwise turn that makes a page upright -> the transpose that does it (PIL's ROTATE_n is counter-clockwise)
_UPRIGHT = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


def orientation(image: Image.Image, timeout_s: float) -> int:
    """The clockwise turn (90, 180 or 270) that makes a page upright by Tesseract's orientation detection; 0 when it
    is upright, or its orientation cannot be told (too little text, no `osd` language data)."""
    try:
        found = pytesseract.image_to_osd(image, config="--psm 0", timeout=timeout_s,
                                         output_type=pytesseract.Output.DICT)
    except (pytesseract.TesseractError, RuntimeError) as exc:
        log.info("ocr_orientation_unknown error=%r", str(exc)[:200])
        return 0
    rotate = int(found.get("rotate", 0)) % 360
    return rotate if rotate in _UPRIGHT and float(found.get("orientation_conf", 0)) >= 1.0 else 0


def tidy_ocr_text(text: str) -> str:
    """Drop the spaces Tesseract puts between CJK characters and trailing form feeds."""
    text = re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[\u3000-\u9fff\uff00-\uffef])", "", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.replace("\x0c", "").strip()


def ocr_images(
    images: Iterable[Image.Image], lang: str, workers: int, timeout_s: float = 120.0, prepare: bool = True
) -> list[str | Exception]:
    """OCR images in parallel, in order. A failed page yields its exception instead of text.

    `images` may be a lazy generator (rendered PDF pages): at most two pages per worker are held
    in memory at once. Threads suffice: the work happens in tesseract subprocesses, so the GIL is
    not in the way.
    """
    lang = resolve_languages(lang)
    workers = max(1, workers)
    results: list[str | Exception] = []
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for image in images:
            pending.append(pool.submit(ocr_image, image, lang, timeout_s, prepare))
            if len(pending) >= 2 * workers:
                results.append(_result_or_error(pending.popleft()))
        results.extend(_result_or_error(f) for f in pending)
    return results


def _result_or_error(future) -> str | Exception:
    try:
        return future.result()
    except OcrUnavailableError:
        raise
    except Exception as exc:  # one bad page must not sink the document
        log.warning("ocr_page_failed error=%r", exc)
        return exc
