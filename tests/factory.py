"""Real test documents made on the fly: text and scanned PDFs, page images, docx, GBK text, and bad inputs."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

# One distinctive fact per page, so a search can be checked to land on the right page.
PAGE_FACTS = [
    "The warehouse in Rotterdam stores exactly 4,200 pallets of coffee beans.",
    "Marie Curie won the Nobel Prize in Physics in 1903 and in Chemistry in 1911.",
    "The termination notice period for this lease is ninety days in writing.",
    "Photosynthesis converts sunlight, water and carbon dioxide into glucose and oxygen.",
]
FILLER = "This paragraph continues the report with general remarks of no particular importance. "

SCANNED_FACTS = [
    "Invoice 7731 was paid by bank transfer on the fifth of March.",
    "The lighthouse keeper logged a storm with waves of eleven metres.",
]
CHINESE_TEXT = "本合同的管辖法律为中华人民共和国法律。\n任何一方可以提前三十天书面通知终止本合同。"
ENGLISH_IMAGE_TEXT = "The quarterly revenue of Northwind grew by seventeen percent."


def text_pdf(path: Path, facts: list[str] = PAGE_FACTS, filler_repeats: int = 6) -> Path:
    """A multi-page PDF with a real text layer: one fact per page amid filler."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for fact in facts:
        pdf.add_page()
        pdf.multi_cell(0, 6, FILLER * filler_repeats + fact + " " + FILLER * filler_repeats)
    pdf.output(str(path))
    return path


def page_image(lines: list[str], font_path: str = LATIN_FONT, size: tuple[int, int] = (1700, 2200),
               font_size: int = 40) -> Image.Image:
    """A white page with black text, like a 200-dpi scan of a printed page."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_path, font_size)
    y = 150
    for line in lines:
        draw.text((120, y), line, fill=0, font=font)
        y += int(font_size * 1.8)
    return image


def wrap(text: str, width: int = 60) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + [line]


def scanned_pdf(path: Path, facts: list[str] = SCANNED_FACTS) -> Path:
    """A PDF whose pages are only images (no text layer), one fact per page."""
    pages = [page_image(wrap(fact)).convert("RGB") for fact in facts]
    pages[0].save(path, "PDF", resolution=200.0, save_all=True, append_images=pages[1:])
    return path


def english_png(path: Path) -> Path:
    page_image(wrap(ENGLISH_IMAGE_TEXT), size=(1600, 500)).save(path)
    return path


def chinese_png(path: Path) -> Path:
    page_image(CHINESE_TEXT.split("\n"), CJK_FONT, size=(1600, 500), font_size=48).save(path)
    return path


def docx_file(path: Path) -> Path:
    """Two pages separated by a hard page break, plus a table."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    document = Document()
    document.add_paragraph("Employee handbook. The cafeteria opens at half past seven.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Parking permit"
    table.rows[0].cells[1].text = "issued by the front desk"
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_paragraph("Holiday policy: employees receive twenty-six days of paid leave.")
    document.save(str(path))
    return path


def gbk_text(path: Path) -> Path:
    path.write_bytes(CHINESE_TEXT.encode("gbk"))
    return path


# --- bad inputs ------------------------------------------------------------------------------------


def corrupt_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    return path


def renamed_binary(path: Path) -> Path:
    """A Windows program's opening bytes under another name."""
    path.write_bytes(b"MZ\x90\x00\x03" + bytes(range(256)) * 8)
    return path


def truncated_pdf(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def encrypted_pdf(path: Path, source: Path, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    writer.write(path)
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def png_bomb(path: Path, side: int = 30_000) -> Path:
    """A valid 1-bit PNG that declares side x side pixels but is only a few hundred kB on disk."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def docx_zip_bomb(path: Path, unpacked_mb: int = 300) -> Path:
    """A .docx-named zip whose one member inflates to hundreds of MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\x00" * (1 << 20)
            for _ in range(unpacked_mb):
                member.write(block)
    path.write_bytes(buffer.getvalue())
    return path


# --- contracts -------------------------------------------------------------------------------------

CONTRACT_PAGES = [
    'DISTRIBUTION AGREEMENT. This Distribution Agreement (the "Agreement") is made and entered into as of '
    'March 3, 2021 by and between Acme Corp., a Delaware corporation ("Supplier"), and Beta Ltd. ("Distributor"). '
    "This Agreement shall continue for an initial term of three (3) years. Thereafter it shall automatically renew "
    "for successive one-year periods unless either party gives notice of non-renewal at least ninety (90) days "
    "prior to the end of the then-current term.",
    "Supplier appoints Distributor as its exclusive distributor in the Territory. In no event shall either "
    "party's aggregate liability exceed the fees paid in the twelve months preceding the claim. The foregoing "
    "limitation shall not apply to breaches of confidentiality or indemnification obligations.",
    "This Agreement shall be governed by the laws of the State of New York. Neither party may assign this "
    "Agreement without the prior written consent of the other party. Distributor shall pay liquidated damages "
    "of one percent of the order value for each day of delay.",
]

CHINESE_CONTRACT = (
    "采购合同\n甲方：北京星河科技有限公司\n乙方：上海远航贸易有限公司\n"
    "第一条 本合同自双方签字盖章之日起生效，有效期为两年。\n"
    "第二条 乙方在合同期内及期满后两年内不得从事与甲方业务相同或类似的竞争业务。\n"
    "第三条 任何一方违约，应向对方支付合同总额百分之十的违约金。\n"
    "第四条 本合同适用中华人民共和国法律。\n"
)


def chinese_pdf(path: Path, text: str) -> Path:
    """A text PDF of Chinese lines, each wrapped at the page's width as a word processor does (mid-sentence)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("wqy", fname=CJK_FONT)
    pdf.set_font("wqy", size=12)
    pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def contract_pdf(path: Path) -> Path:
    return text_pdf(path, facts=CONTRACT_PAGES, filler_repeats=0)


def scanned_contract_pdf(path: Path) -> Path:
    pages = [page_image(wrap(text)).convert("RGB") for text in CONTRACT_PAGES]
    pages[0].save(path, "PDF", resolution=200.0, save_all=True, append_images=pages[1:])
    return path
