"""Run a validated batch: skip what is finished, render the rest on the pool or on Ray, report everything.

``DIR/report.jsonl`` gets one line per job of this run as it finishes (so an interrupted batch still says
what it did; a resumed run lists the finished outputs it kept as skipped). Outputs appear only when
complete (the renderer writes a temp file and renames it), so an output that exists is finished, and a
re-run with ``resume`` renders only what is missing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talkinghead.batch.jobs import DONE, FAILED, MAX_ATTEMPTS, SKIPPED, Job, JobResult, render_job
from talkinghead.errors import TalkingHeadError

REPORT = "report.jsonl"


@dataclass
class BatchSummary:
    """What a batch run did; ``results`` in the order jobs finished."""

    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = ""

    @property
    def counts(self) -> Counter:
        return Counter(result.status for result in self.results)

    @property
    def frames(self) -> int:
        return sum(result.frames for result in self.results if result.status == DONE)

    def table(self) -> str:
        """A short plain-text summary: counts, throughput, and every failure with its reason."""
        counts = self.counts
        minutes = self.seconds / 60
        rendered = counts[DONE]
        lines = [
            f"{'rendered':<10}{rendered:>6}",
            f"{'skipped':<10}{counts[SKIPPED]:>6}   (already finished)",
            f"{'failed':<10}{counts[FAILED]:>6}",
            f"{'total':<10}{len(self.results):>6}   in {self.seconds:.1f} s on {self.engine}",
        ]
        if rendered and self.seconds > 0:
            lines.append(f"throughput {rendered / minutes:.1f} videos/min, {self.frames / self.seconds:.1f} frames/s")
        failures = sorted((r for r in self.results if r.status == FAILED), key=lambda r: r.row)
        lines += [f"  row {r.row} {r.output}: {r.reason}" for r in failures]
        return "\n".join(lines)


def run_batch(jobs: list[Job], out_dir: str | Path, *, workers: int | None = None, ray: str | None = None,
              resume: bool = False, progress: bool = True, max_attempts: int = MAX_ATTEMPTS,
              work: Callable[[Job, str], JobResult] = render_job) -> BatchSummary:
    """Render ``jobs`` into ``out_dir`` on a local pool (default) or on Ray (``ray`` = address, auto, local).

    Without ``resume`` an existing output is an error (nothing is overwritten by surprise); with it,
    finished outputs are skipped. ``work`` renders one job; tests swap it for one that crashes its worker.
    """
    out = _prepare_folder(Path(out_dir))
    finished = [job for job in jobs if (out / job.output).exists()]
    if finished and not resume:
        raise TalkingHeadError(f"{len(finished)} output(s) already in {out} (such as {finished[0].output}); pass "
                               "--resume to keep them and render only the missing ones, or use an empty --out")
    finished_rows = {job.row for job in finished}
    todo = [job for job in jobs if job.row not in finished_rows]
    for job in todo:
        _clear_partials(out / job.output)
    workers = workers or os.cpu_count() or 1
    summary = BatchSummary(engine=f"Ray ({ray})" if ray else f"local pool of {min(workers, max(len(todo), 1))}")
    started = time.perf_counter()
    with (out / REPORT).open("w", encoding="utf-8") as report, \
            _ProgressBar(len(todo), progress) as bar:
        for job in finished:
            _record(summary, report, JobResult(job.row, job.output, SKIPPED, attempts=0))
        try:
            for result in _results(todo, str(out), workers, ray, max_attempts, work):
                _record(summary, report, result)
                bar.advance(result.status)
        finally:  # interrupted: workers were stopped mid-write; their temp files go too
            for job in todo:
                _clear_partials(out / job.output)
    summary.seconds = time.perf_counter() - started
    return summary


def _results(jobs: list[Job], out_dir: str, workers: int, ray: str | None, max_attempts: int,
             work: Callable[[Job, str], JobResult]) -> Iterator[JobResult]:
    if not jobs:
        return iter(())
    if ray:
        from talkinghead.batch.ray_runner import run_ray

        return run_ray(jobs, out_dir, ray, workers, max_attempts, work)
    from talkinghead.batch.pool import run_pool

    return run_pool(jobs, out_dir, workers, max_attempts, work)


def _prepare_folder(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise TalkingHeadError(f"--out {out} is a file; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TalkingHeadError(f"cannot create --out {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise TalkingHeadError(f"cannot write in --out {out} (no permission)")
    return out.resolve()


def _clear_partials(target: Path) -> None:
    """Make the output's folder; drop temp files left by a worker that was stopped while writing it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for partial in target.parent.glob(f".{target.name}.*.partial{target.suffix}"):
        partial.unlink(missing_ok=True)


def _record(summary: BatchSummary, report: Any, result: JobResult) -> None:
    summary.results.append(result)
    report.write(json.dumps(result.to_dict()) + "\n")
    report.flush()


class _ProgressBar:
    """Counts, rate and ETA on stderr (tqdm), one step per finished job."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar: Any = None
        self.counts: Counter = Counter()
        if enabled and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="video", file=sys.stderr, dynamic_ncols=True, desc="batch")

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def advance(self, status: str) -> None:
        self.counts[status] += 1
        if self.bar is not None:
            self.bar.set_postfix(done=self.counts[DONE], failed=self.counts[FAILED], refresh=False)
            self.bar.update(1)
