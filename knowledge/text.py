"""Text decoding that gets Chinese legacy encodings right (GB18030/GBK) instead of garbling them."""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(data: bytes) -> str:
    """Decode bytes: BOM, then strict UTF-8, then GB18030 (a superset of GBK/GB2312), then a guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or _CJK.search(text):
            return text
    return _guess(data)


def _guess(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        log.warning("text_decode_fallback encoding=latin-1")
        return data.decode("latin-1")
    log.info("text_decoded encoding=%s", best.encoding)
    return str(best)
