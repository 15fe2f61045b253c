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


def ocr_image(image: Image.Image, lang: str, timeout_s: float = 120.0, prepare: bool = True) -> str:
    """OCR one image (cleaned up first with `prepare`: see knowledge.imageprep); a page Tesseract fails on raises
    RuntimeError for that page only."""
    if prepare:
        image = prepare_page(image)
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    try:
        text = pytesseract.image_to_string(image, lang=lang, timeout=timeout_s)
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailableError("ocr_missing", hint=INSTALL_HINT) from exc
    except (pytesseract.TesseractError, RuntimeError, OSError) as exc:
        raise RuntimeError(f"OCR failed: {exc}") from exc
    return tidy_ocr_text(text)


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
