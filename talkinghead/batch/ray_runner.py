"""The Ray runner: each job is one Ray task, on a cluster (``address``) or a local Ray (``"local"``).

Ray is imported only here and only when asked for, so the rest of talkinghead works without it. Inputs
are read from their paths and outputs written into the batch folder, so on a cluster every node must see
the same paths (a shared file system). A task whose worker process dies is retried by Ray itself
(``max_retries``); a job whose input is bad fails once, as a result, and is not retried.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from talkinghead.batch.jobs import FAILED, Job, JobResult, crashed, render_job
from talkinghead.errors import TalkingHeadError

LOCAL = "local"
INSTALL_HINT = "install ray: make setup-ray"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise TalkingHeadError(f"--ray needs the ray package; {INSTALL_HINT}") from None
    return ray


def connect(address: str, workers: int | None) -> bool:
    """Join the Ray cluster at ``address`` (or start a local one); True when this call started Ray."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address == LOCAL:
        # A private Ray on loopback only, sized like the local pool; no dashboard, no auth token files, no
        # usage reports sent anywhere.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                 _node_ip_address="127.0.0.1", logging_level=logging.WARNING, log_to_driver=False)
    else:
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise TalkingHeadError(f"cannot connect to the Ray cluster at {address}: {exc}") from None
    return True


def run_ray(jobs: list[Job], out_dir: str, address: str, workers: int | None, max_attempts: int,
            work: Callable[[Job, str], JobResult] = render_job) -> Iterator[JobResult]:
    """Yield each job's result as its Ray task finishes."""
    ray = import_ray()
    started_here = connect(address, workers)
    running: dict[Any, Job] = {}
    try:
        task = ray.remote(num_cpus=1, max_retries=max_attempts - 1, retry_exceptions=False)(work)
        running.update({task.remote(job, out_dir): job for job in jobs})
        while running:
            # Whatever finished within a second (not just one): cheap even with thousands of tasks in flight.
            finished, _ = ray.wait(list(running), num_returns=len(running), timeout=1.0)
            for ref in finished:
                job = running.pop(ref)
                try:
                    result = ray.get(ref)
                    result.attempts = None  # Ray may have retried it; it does not say
                except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                        ray.exceptions.ObjectLostError) as exc:
                    result = crashed(job, max_attempts, type(exc).__name__)
                except ray.exceptions.RayError as exc:
                    reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                    result = JobResult(job.row, job.output, FAILED, f"Ray: {reason}", attempts=None)
                yield result
    finally:
        for ref in running:  # interrupted: do not leave the cluster rendering for nobody
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
