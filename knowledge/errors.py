"""Errors the knowledge package raises with a message fit to show a user."""


class KnowledgeError(Exception):
    """Base class: the message names the problem and, where possible, the fix.

    Args:
        message: the English message.
        code: a stable name for the problem ("encrypted", "too_big"...), so a UI can say it in another
            language; None for problems without a translation.
        values: what the message mentions (file name, sizes...), for that translation.
    """

    def __init__(self, message: str, code: str | None = None, **values) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


class LoadError(KnowledgeError):
    """A file could not be read into pages (corrupt, encrypted, too big, unsupported...)."""


class OcrUnavailableError(KnowledgeError):
    """Tesseract (or a language pack) is missing; the message says what to install."""


class StoreError(KnowledgeError):
    """The store could not be written (read-only or full disk) or is inconsistent."""
