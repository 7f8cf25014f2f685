"""Batch rendering: a manifest of jobs in, videos and a report out, on a local pool or a Ray cluster.

    jobs = read_manifest("jobs.csv")          # every bad row reported at once, before any rendering
    summary = run_batch(jobs, "out/", ray="local")
    print(summary.table())
"""

from __future__ import annotations

from talkinghead.batch.jobs import DONE, FAILED, SKIPPED, Job, JobResult, render_job
from talkinghead.batch.manifest import ManifestError, RowProblem, read_manifest
from talkinghead.batch.runner import MAX_ATTEMPTS, REPORT, BatchSummary, run_batch

__all__ = ["DONE", "FAILED", "MAX_ATTEMPTS", "REPORT", "SKIPPED", "BatchSummary", "Job", "JobResult",
           "ManifestError", "RowProblem", "read_manifest", "render_job", "run_batch"]
