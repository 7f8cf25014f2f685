"""`Settings`: how the server runs (the `talkinghead serve` flags), importable without the web stack."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Settings:
    """How the server runs; `talkinghead serve` flags map onto these."""

    data_dir: Path = Path("talkinghead-data")
    db_path: Path | None = None  # default: data_dir / "jobs.sqlite3"
    workers: int = 1
    max_queue: int = 8
    max_portrait_mb: float = 20.0
    max_audio_mb: float = 100.0
    max_live_sessions: int = 2
    token: str | None = None  # when set, every request but /healthz must carry it
    allowed_origins: list[str] = field(default_factory=list)  # other web origins allowed to call the API
    retention_s: float = 0.0  # delete finished jobs' files after this long (0: keep)

    @property
    def database(self) -> Path:
        return self.db_path or self.data_dir / "jobs.sqlite3"
