"""Plain dataclasses that cross the knowledge package's boundary (never FAISS ids or library objects)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """One page of a loaded document: its number (1-based), text, and whether OCR produced it."""

    number: int
    text: str
    ocr: bool = False
    error: str | None = None


@dataclass
class LoadedDocument:
    """A document's pages after text extraction/OCR, before chunking."""

    name: str
    pages: list[Page]
    kind: str

    @property
    def ocr_pages(self) -> int:
        return sum(1 for p in self.pages if p.ocr)


@dataclass(frozen=True)
class Chunk:
    """A span of one page of one document: the unit that is embedded, searched and cited."""

    doc_id: int
    file_name: str
    page: int
    ordinal: int
    text: str
    start_char: int
    end_char: int
    chunk_id: int | None = None

    @property
    def citation(self) -> str:
        """`file:page`, the form the CLI and prompts use."""
        return f"{self.file_name}:{self.page}"


@dataclass(frozen=True)
class SearchResult:
    """A retrieved chunk with its fused score and the evidence behind it."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def file_name(self) -> str:
        return self.chunk.file_name

    @property
    def page(self) -> int:
        return self.chunk.page


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document's row: what the Knowledge tab and `list` show."""

    doc_id: int
    name: str
    pages: int
    ocr_pages: int
    chunks: int
    size_bytes: int
    content_hash: str
    added_at: float


@dataclass
class IngestResult:
    """The outcome of ingesting one file: counts and timing, or the error. Never silently dropped."""

    file_name: str
    status: str  # "indexed" | "duplicate" | "error"
    pages: int = 0
    ocr_pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    error: str | None = None
    doc_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    error_code: str | None = None  # KnowledgeError.code: lets a UI say the error in another language
    error_values: dict = field(default_factory=dict)
    same_as: str | None = None  # a duplicate: the name of the stored document with the same bytes

    @property
    def ok(self) -> bool:
        return self.status != "error"
