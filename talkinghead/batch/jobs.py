"""One batch job and its outcome, and the function a worker runs for it (the same for the pool and Ray)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from talkinghead.errors import TalkingHeadError

DONE, FAILED, SKIPPED = "done", "failed", "skipped"
MAX_ATTEMPTS = 2  # the one retry policy of batch runs and server jobs: a job whose worker dies is tried once more


@dataclass(frozen=True)
class Job:
    """One manifest row, validated: what to render and where (``output`` is relative to the batch folder)."""

    row: int
    line: int
    portrait: Path
    audio: Path | None
    output: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobResult:
    """What became of one job; one line of ``report.jsonl``.

    ``attempts`` counts the workers the job went to (more than one when a worker crashed under it); None
    where the engine does not tell (Ray retries crashed tasks itself).
    """

    row: int
    output: str
    status: str
    reason: str = ""
    attempts: int | None = 1
    frames: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def render_job(job: Job, out_dir: str) -> JobResult:
    """Render one job into ``out_dir`` (atomically: temp file, then rename); bad input becomes a failed result.

    Never raises for a problem with the job, so one bad input cannot stop a batch; only a crash of the
    worker process itself escapes, and the runners retry those.
    """
    from talkinghead.batch.pool import report_analysis, report_progress
    from talkinghead.pipeline import render
    from talkinghead.progress import reporting_analysis

    started = time.perf_counter()
    try:
        with reporting_analysis(report_analysis):
            result = render(job.portrait, job.audio, Path(out_dir) / job.output, overwrite=True,
                            progress=report_progress, **job.options)
    except TalkingHeadError as exc:
        return JobResult(job.row, job.output, FAILED, str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # a bug: record it with the job and go on with the others
        return JobResult(job.row, job.output, FAILED, f"internal error: {type(exc).__name__}: {exc}",
                         seconds=time.perf_counter() - started)
    return JobResult(job.row, job.output, DONE, frames=result.n_frames, seconds=result.seconds)


def crashed(job: Job, attempts: int | None, detail: str) -> JobResult:
    """The result for a job whose worker died every time it was tried."""
    tries = f"{attempts} time(s)" if attempts else "on every retry"
    return JobResult(job.row, job.output, FAILED, f"worker crashed {tries} ({detail})", attempts=attempts)
