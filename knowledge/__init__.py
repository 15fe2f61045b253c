"""Documents in, cited chunks out: loading, OCR, chunking, embeddings, FAISS store, hybrid retrieval."""

from knowledge.types import Chunk, DocumentInfo, IngestResult, SearchResult

__all__ = ["Chunk", "DocumentInfo", "IngestResult", "SearchResult"]
