"""Read files into pages: PDF text with pypdf (OCR for pages without a text layer), images, text, docx."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError
from pypdf import PdfReader

from knowledge import ocr, render
from knowledge.config import KnowledgeSettings
from knowledge.errors import LoadError, OcrUnavailableError
from knowledge.text import decode_text
from knowledge.types import LoadedDocument, Page

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
SUPPORTED_SUFFIXES = {".pdf", ".docx", *IMAGE_SUFFIXES, *TEXT_SUFFIXES}


def load_document(path: Path, settings: KnowledgeSettings, name: str | None = None) -> LoadedDocument:
    """Read one file into pages.

    Args:
        path: the file on disk.
        settings: limits and OCR options.
        name: the name to report (the upload's original name); defaults to the file name.

    Raises:
        LoadError: the file is empty, too big, of an unsupported type, corrupt or encrypted.
        OcrUnavailableError: the file needs OCR and Tesseract is missing.
    """
    name = name or path.name
    check_file(path, settings, name)
    data = _read_bytes(path, name)
    match path.suffix.lower():
        case ".pdf":
            return _load_pdf(data, name, settings)
        case ".docx":
            return _load_docx(data, name, settings)
        case s if s in IMAGE_SUFFIXES:
            return _load_image(data, name, settings)
        case _:
            return _load_text(data, name, settings)


def supported_list() -> str:
    return ", ".join(sorted(SUPPORTED_SUFFIXES))


def check_file(path: Path, settings: KnowledgeSettings, name: str | None = None) -> None:
    """What can be refused without reading a byte: the type, not a regular file, empty, over the size limit.

    Raises:
        LoadError: the reason, for the visitor.
    """
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError("unsupported", name=name, suffix=suffix or "(none)", supported=supported_list())
    try:
        info = path.stat()
    except OSError as exc:
        raise LoadError("unreadable", name=name, detail=exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(info.st_mode):
        raise LoadError("unreadable", name=name, detail="not a regular file")
    if info.st_size == 0:
        raise LoadError("empty", name=name)
    if info.st_size > settings.max_file_mb * 1024 * 1024:
        raise LoadError("too_big", name=name, size=f"{info.st_size / 2**20:.1f}", limit=f"{settings.max_file_mb:g}")


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LoadError("unreadable", name=name, detail=exc.strerror or str(exc)) from exc


# --- PDF -------------------------------------------------------------------------------------------


def _load_pdf(data: bytes, name: str, settings: KnowledgeSettings) -> LoadedDocument:
    reader = _open_pdf(data, name)
    count = _page_count(reader, name)
    _check_page_count(count, name, settings)
    texts = [_extract_page(reader, i, name) for i in range(count)]
    needs_ocr = [i + 1 for i, t in enumerate(texts) if _visible_chars(t) < settings.min_text_chars]
    pages = [Page(number=i + 1, text=t) for i, t in enumerate(texts)]
    if needs_ocr:
        pages = _ocr_pdf_pages(data, pages, needs_ocr, name, settings)
    return LoadedDocument(name=name, pages=pages, kind="pdf")


def _open_pdf(data: bytes, name: str) -> PdfReader:
    if b"%PDF-" not in data[:1024]:  # every PDF says so at its start; pypdf's own error would be about streams
        raise LoadError("not_pdf", name=name)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("encrypted", name=name)
        return reader
    except LoadError:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, DependencyError, ValueError...)
        raise LoadError("bad_pdf", name=name, detail=_describe(exc)) from exc


def _page_count(reader: PdfReader, name: str) -> int:
    try:
        return len(reader.pages)
    except Exception as exc:
        raise LoadError("damaged_pdf", name=name, detail=_describe(exc)) from exc


def _extract_page(reader: PdfReader, index: int, name: str) -> str:
    """Text layer of one page; a page pypdf cannot parse is left empty (and so gets OCR'd)."""
    try:
        return reader.pages[index].extract_text() or ""
    except Exception as exc:
        log.warning("pdf_page_extract_failed file=%r page=%d error=%r", name, index + 1, exc)
        return ""


def _ocr_pdf_pages(
    data: bytes, pages: list[Page], numbers: list[int], name: str, settings: KnowledgeSettings
) -> list[Page]:
    try:
        images = render.render_pages(data, numbers, settings.ocr_dpi, settings.max_image_pixels)
        results = ocr.ocr_images(images, settings.ocr_lang, settings.ocr_workers, settings.ocr_timeout_s,
                                 settings.ocr_prepare)
    except OcrUnavailableError:
        raise
    except Exception as exc:  # pdfium could not open or render what pypdf parsed
        log.warning("pdf_render_failed file=%r error=%r", name, exc)
        results = [exc] * len(numbers)
    by_number = dict(zip(numbers, results))
    return [_merge_ocr(page, by_number.get(page.number)) for page in pages]


def _merge_ocr(page: Page, result: str | Exception | None) -> Page:
    if result is None:
        return page
    if isinstance(result, Exception):
        return Page(number=page.number, text=page.text, ocr=False, error=_describe(result))
    text = result if _visible_chars(result) >= _visible_chars(page.text) else page.text
    return Page(number=page.number, text=text, ocr=True)


# --- images ----------------------------------------------------------------------------------------


def _load_image(data: bytes, name: str, settings: KnowledgeSettings) -> LoadedDocument:
    image = _open_image(data, name, settings)
    results: list[str | Exception] = []
    # A few frames at a time: a 300-page scanned TIFF is fine, as long as no frame alone is a bomb.
    for batch in _frame_batches(image, name, max(settings.ocr_workers, 1)):
        results += ocr.ocr_images(batch, settings.ocr_lang, settings.ocr_workers, settings.ocr_timeout_s,
                                  settings.ocr_prepare)
    pages = [_ocr_page(i + 1, r) for i, r in enumerate(results)]
    return LoadedDocument(name=name, pages=pages, kind="image")


def _open_image(data: bytes, name: str, settings: KnowledgeSettings) -> Image.Image:
    """Open an image (a TIFF can hold many frames) once every frame's declared size passed the limits."""
    with _image_errors(name):
        image = Image.open(io.BytesIO(data))
        _check_frames(image, name, settings)
        return image


def _frame_batches(image: Image.Image, name: str, size: int) -> Iterator[list[Image.Image]]:
    """The frames decoded to upright RGB, `size` at a time (only one batch is in memory)."""
    batch: list[Image.Image] = []
    with _image_errors(name):
        for frame in ImageSequence.Iterator(image):
            batch.append(ImageOps.exif_transpose(frame.convert("RGB")))
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


@contextlib.contextmanager
def _image_errors(name: str) -> Iterator[None]:
    """Pillow's errors as the LoadError a visitor reads."""
    try:
        yield
    except LoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise LoadError("image_bomb", name=name, detail=_describe(exc)) from exc
    except UnidentifiedImageError as exc:
        raise LoadError("bad_image", name=name, detail=_describe(exc)) from exc
    except Exception as exc:  # truncated streams raise OSError/SyntaxError/ValueError
        raise LoadError("bad_image", name=name, detail=f"damaged: {_describe(exc)}") from exc


def _check_frames(image: Image.Image, name: str, settings: KnowledgeSettings) -> None:
    """Refuse more frames than max_pages, or a frame over max_image_pixels, before decoding any of them.

    Seeking a TIFF reads only the next frame's header (an animated PNG or WebP decodes the frame before,
    which has passed the check). Frames are counted only up to one past the limit: Pillow's n_frames
    reads every header, in time that grows faster than their number.
    """
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index == settings.max_pages:
            raise LoadError("too_many_pages", name=name, count=f"{index + 1}+", limit=settings.max_pages)
        width, height = frame.size
        if width * height > settings.max_image_pixels:
            where = "" if index == 0 else f"frame {index + 1}: "
            raise LoadError("image_bomb", name=name,
                            detail=f"{where}{width}x{height}, over the {settings.max_image_pixels:,}-pixel limit")
    image.seek(0)


def _ocr_page(number: int, result: str | Exception) -> Page:
    if isinstance(result, Exception):
        return Page(number=number, text="", ocr=False, error=_describe(result))
    return Page(number=number, text=result, ocr=True)


# --- text and docx ---------------------------------------------------------------------------------


def _load_text(data: bytes, name: str, settings: KnowledgeSettings) -> LoadedDocument:
    text = decode_text(data)
    if "\x00" in text:
        raise LoadError("binary", name=name)
    # A form feed is the plain-text page break.
    _check_page_count(text.count("\x0c") + 1, name, settings)
    pages = [Page(number=i + 1, text=part) for i, part in enumerate(text.split("\x0c"))]
    return LoadedDocument(name=name, pages=pages, kind="text")


def _load_docx(data: bytes, name: str, settings: KnowledgeSettings) -> LoadedDocument:
    _check_zip(data, name, settings)
    from knowledge.docx_text import docx_pages

    try:
        texts = docx_pages(data)
    except Exception as exc:
        raise LoadError("bad_docx", name=name, detail=_describe(exc)) from exc
    _check_page_count(len(texts), name, settings)
    pages = [Page(number=i + 1, text=t) for i, t in enumerate(texts)]
    return LoadedDocument(name=name, pages=pages, kind="docx")


def _check_zip(data: bytes, name: str, settings: KnowledgeSettings) -> None:
    """Refuse zip bombs before anything unpacks them: sum the declared sizes and the ratio."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise LoadError("bad_docx", name=name, detail="not a zip archive") from exc
    unpacked = sum(i.file_size for i in infos)
    if unpacked > settings.max_unzipped_mb * 2**20 or unpacked > 200 * max(len(data), 1):
        raise LoadError("zip_bomb", name=name, unpacked=f"{unpacked / 2**20:.0f}", packed=f"{len(data) / 2**20:.2f}")


# --- helpers ---------------------------------------------------------------------------------------


def _check_page_count(count: int, name: str, settings: KnowledgeSettings) -> None:
    """Every format is held to the same page limit (PDF pages, image frames, form feeds, docx page breaks)."""
    if count > settings.max_pages:
        raise LoadError("too_many_pages", name=name, count=count, limit=settings.max_pages)


_SPACE = re.compile(r"\s+")


def _visible_chars(text: str) -> int:
    return len(_SPACE.sub("", text))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    return f"{kind}: {text[:200]}" if text else kind
