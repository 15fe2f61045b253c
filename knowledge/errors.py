"""Errors the knowledge package raises with a message fit to show a user."""


class KnowledgeError(Exception):
    """Base class: the message names the problem and, where possible, the fix."""


class LoadError(KnowledgeError):
    """A file could not be read into pages (corrupt, encrypted, too big, unsupported...)."""


class OcrUnavailableError(KnowledgeError):
    """Tesseract (or a language pack) is missing; the message says what to install."""


class StoreError(KnowledgeError):
    """The store could not be written (read-only or full disk) or is inconsistent."""
