"""Loading real files: every supported format, and every kind of bad input gets a clear, named error."""

from __future__ import annotations

import pytest

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
