"""Loading real files: every supported format, and every kind of bad input gets a clear, named error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageDraw

from knowledge import ocr, render
from knowledge.errors import LoadError
from knowledge.loading import load_document
from tests import factory


def _text(doc) -> str:
    return "\n".join(p.text for p in doc.pages)


def test_text_pdf_pages_in_order_without_ocr(docs, settings):
    doc = load_document(docs["text_pdf"], settings)
    assert [p.number for p in doc.pages] == [1, 2, 3, 4]
    assert doc.ocr_pages == 0
    for page, fact in zip(doc.pages, factory.PAGE_FACTS):
        assert " ".join(fact.split()[:6]) in " ".join(page.text.split())


def test_scanned_pdf_pages_are_ocrd(docs, settings):
    doc = load_document(docs["scanned_pdf"], settings)
    assert doc.ocr_pages == 2
    assert "Invoice 7731" in doc.pages[0].text
    assert "lighthouse keeper" in doc.pages[1].text


def test_english_and_chinese_images(docs, settings):
    english = load_document(docs["english_png"], settings)
    chinese = load_document(docs["chinese_png"], settings)
    assert english.ocr_pages == 1 and "Northwind" in _text(english)
    assert "管辖法律" in _text(chinese) and "三十天" in _text(chinese)


def test_gbk_text_is_decoded_not_garbled(docs, settings):
    assert _text(load_document(docs["gbk_txt"], settings)) == factory.CHINESE_TEXT


def test_docx_pages_split_at_page_break_and_tables_kept(docs, settings):
    doc = load_document(docs["docx"], settings)
    assert len(doc.pages) == 2
    assert "Parking permit | issued by the front desk" in doc.pages[0].text
    assert "twenty-six days" in doc.pages[1].text


def test_markdown_utf8_and_form_feed_pages(tmp_path, settings):
    path = tmp_path / "notes.md"
    path.write_text("# Title\nfirst page\x0csecond page — ünïcode", encoding="utf-8")
    doc = load_document(path, settings)
    assert [p.text for p in doc.pages] == ["# Title\nfirst page", "second page — ünïcode"]


def test_pdf_with_empty_user_password_opens(docs, settings, tmp_path):
    path = factory.encrypted_pdf(tmp_path / "open.pdf", docs["text_pdf"], user_password="")
    assert len(load_document(path, settings).pages) == 4


BAD_INPUTS = {
    "corrupt.pdf": (lambda d, src: factory.corrupt_pdf(d / "corrupt.pdf"), "not a readable PDF"),
    "truncated.pdf": (lambda d, src: factory.truncated_pdf(d / "truncated.pdf", src), "not a readable PDF"),
    "locked.pdf": (lambda d, src: factory.encrypted_pdf(d / "locked.pdf", src, "secret"), "needs a password"),
    "empty.pdf": (lambda d, src: factory.empty_file(d / "empty.pdf"), "empty"),
    # a walkthrough's renamed program read "not a readable PDF (PdfStreamError: Stream has ended unexpectedly)"
    "setup.pdf": (lambda d, src: factory.renamed_binary(d / "setup.pdf"), "named .pdf, but its content is not a PDF"),
    "program.exe": (lambda d, src: factory.corrupt_pdf(d / "program.exe"), "unsupported file type .exe"),
    "bomb.png": (lambda d, src: factory.png_bomb(d / "bomb.png"), "decompression bomb"),
    "bomb.docx": (lambda d, src: factory.docx_zip_bomb(d / "bomb.docx"), "zip bomb"),
    "fake.png": (lambda d, src: factory.corrupt_pdf(d / "fake.png"), "not a readable image"),
    "fake.docx": (lambda d, src: factory.corrupt_pdf(d / "fake.docx"), "not a readable Word document"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_named_clear_error(name, docs, settings, tmp_path):
    make, expected = BAD_INPUTS[name]
    path = make(tmp_path, docs["text_pdf"])
    with pytest.raises(LoadError) as info:
        load_document(path, settings)
    assert str(info.value).startswith(f"{name}:")
    assert expected in str(info.value)


def test_file_over_size_limit_is_refused_before_reading(docs, settings):
    settings.max_file_mb = 0.001
    with pytest.raises(LoadError, match=r"report\.pdf: .* over the 0\.001 MB limit"):
        load_document(docs["text_pdf"], settings)


def test_pdf_over_page_limit_is_refused(docs, settings):
    settings.max_pages = 3
    with pytest.raises(LoadError, match="4 pages is over the 3-page limit"):
        load_document(docs["text_pdf"], settings)


def test_missing_tesseract_gives_install_hint(monkeypatch, docs, settings):
    import pytesseract

    from knowledge import ocr
    from knowledge.errors import OcrUnavailableError

    ocr.available_languages.cache_clear()
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    try:
        with pytest.raises(OcrUnavailableError, match="apt-get install tesseract-ocr"):
            load_document(docs["english_png"], settings)
    finally:
        ocr.available_languages.cache_clear()


def _tiff(path, sizes: list[tuple[int, int]]):
    """A group4 multi-page TIFF: tiny on disk whatever the frames declare."""
    first, *rest = [Image.new("1", size, 1) for size in sizes]
    first.save(path, save_all=True, append_images=rest, compression="group4")
    return path


def test_tiff_frame_over_pixel_limit_is_refused_whatever_the_first_frame(settings, tmp_path):
    """A 100x100 first frame used to hide three 4000x4000 ones, all decoded before any check."""
    settings.max_image_pixels = 1_000_000
    path = _tiff(tmp_path / "bomb.tif", [(100, 100)] + [(4000, 4000)] * 3)
    with pytest.raises(LoadError, match=r"bomb\.tif: .*over the 1,000,000-pixel limit; possible decompression bomb"):
        load_document(path, settings)


def test_a_long_tiff_is_read_a_few_frames_at_a_time(settings, tmp_path, monkeypatch):
    """Frames each under the limit are all read, however many pixels they hold together (a long scanned fax),
    and only `ocr_workers` of them are decoded at once."""
    settings.max_image_pixels, settings.ocr_workers = 1_000_000, 2
    path = _tiff(tmp_path / "many.tif", [(600, 600)] * 5)  # 1.8M pixels in all, 360k each
    batches = []
    real = ocr.ocr_images
    monkeypatch.setattr(ocr, "ocr_images", lambda images, *a, **k: batches.append(len(images)) or real(images, *a, **k))
    document = load_document(path, settings)
    assert [p.number for p in document.pages] == [1, 2, 3, 4, 5] and batches == [2, 2, 1]


def test_tiff_with_more_frames_than_the_page_limit_is_refused(settings, tmp_path):
    settings.max_pages = 2
    with pytest.raises(LoadError, match=r"pages\.tif: 3\+ pages is over the 2-page limit"):
        load_document(_tiff(tmp_path / "pages.tif", [(50, 50)] * 5), settings)
    settings.max_pages = 5
    assert len(load_document(tmp_path / "pages.tif", settings).pages) == 5


def test_text_over_page_limit_is_refused(settings, tmp_path):
    settings.max_pages = 2000
    path = tmp_path / "feeds.txt"
    path.write_text("a\x0c" * 10000, encoding="utf-8")
    with pytest.raises(LoadError, match=r"feeds\.txt: 10001 pages is over the 2000-page limit"):
        load_document(path, settings)


def test_docx_over_page_limit_is_refused(docs, settings):
    settings.max_pages = 1  # the handbook has two pages
    with pytest.raises(LoadError, match=r"handbook\.docx: 2 pages is over the 1-page limit"):
        load_document(docs["docx"], settings)


def _pdf_of_bars(path, count: int = 6):
    """Pages of 200x100 points, each with a black bar at its own place, so every render is distinct."""
    pages = [Image.new("L", (200, 100), 255) for _ in range(count)]
    for i, page in enumerate(pages):
        ImageDraw.Draw(page).rectangle([i * 30, 10, i * 30 + 20, 90], fill=0)
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=72)
    return path


def test_pdfium_renders_from_several_threads_at_once(tmp_path):
    data = _pdf_of_bars(tmp_path / "bars.pdf").read_bytes()
    numbers = [1, 2, 3, 4, 5, 6]
    expected = [image.tobytes() for image in render.render_pages(data, numbers, 72, 10**6)]
    assert len(set(expected)) == 6
    barrier = threading.Barrier(4)

    def work(order: list[int]) -> list[bytes]:
        barrier.wait(timeout=60)
        return [image.tobytes() for image in render.render_pages(data, order, 72, 10**6)]

    orders = [numbers, numbers[::-1], numbers[1::2] + numbers[::2], numbers]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, orders * 3))
    for order, images in zip(orders * 3, results):
        assert images == [expected[n - 1] for n in order]


def test_every_pdfium_call_holds_the_lock(tmp_path, monkeypatch):
    import pypdfium2 as pdfium

    held = []
    for cls, method in ((pdfium.PdfDocument, "__init__"), (pdfium.PdfDocument, "close"), (pdfium.PdfPage, "render"),
                        (pdfium.PdfPage, "close"), (pdfium.PdfBitmap, "close")):
        def spy(*args, _real=getattr(cls, method), _name=f"{cls.__name__}.{method}", **kwargs):
            held.append((_name, render._PDFIUM_LOCK.locked()))
            return _real(*args, **kwargs)
        monkeypatch.setattr(cls, method, spy)
    data = _pdf_of_bars(tmp_path / "bars.pdf", count=2).read_bytes()
    assert len(list(render.render_pages(data, [1, 2], 72, 10**6))) == 2
    assert {name for name, _ in held} == {"PdfDocument.__init__", "PdfDocument.close", "PdfPage.render",
                                          "PdfPage.close", "PdfBitmap.close"}
    assert all(locked for _, locked in held), held
