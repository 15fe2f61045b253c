"""Typed settings for the web app, read from `APP_*` environment variables and nowhere else."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppSettings(BaseSettings):
    """What the web app can be tuned by. Env prefix `APP_` (e.g. `APP_PORT`)."""

    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    host: str = Field("0.0.0.0", description="Interface the server listens on.")
    port: int = Field(7860, description="Port the server listens on (7860 on Spaces).")
    session_ttl_s: float = Field(2 * 3600, gt=0, description="A visitor's documents, chat and exports are "
                                 "deleted this long after their last use (and when the tab closes).")
    max_sessions: int = Field(500, ge=1, description="Visitors whose documents are held at once (each store keeps "
                              "files open); uploads by more are refused until some expire. Reading needs no store.")
    sessions_dir: Path = Field(Path("data/sessions"), description="Where visitors' private stores live; "
                               "emptied at start-up (stores left by a crashed process belong to nobody).")
    library_dir: Path | None = Field(None, description="Optional folder ingested at start-up into a read-only "
                                     "library every visitor's chat also searches.")
    library_store: Path = Field(Path("data/library"), description="Where the shared library's index lives.")
    model_concurrency: int = Field(4, ge=1, description="Chat, review and code requests running on the model at "
                                   "once (the local engine decodes them in one batch); the rest wait in the queue.")
    ingest_concurrency: int = Field(2, ge=1, description="Uploads processed at once (OCR and embedding are "
                                    "CPU-heavy).")
    max_queue: int = Field(64, ge=1, description="Requests waiting in the queue before new ones are refused.")
    explain_findings: bool = Field(True, description="Default of the contract tab's 'explain risky clauses "
                                   "with the model' switch.")
