"""The local runner: a few long-lived worker processes, each rendering one job at a time.

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its workers dies (killed for memory, a
segfault in native code) the whole pool breaks and every pending job fails with it, with no way to tell
which job was on the dead worker. Here each worker has its own pipe, so the runner knows exactly which job
a dead worker held: that job alone is retried (at most ``max_attempts`` times, then reported as failed),
the worker is replaced, and the others carry on. No job is lost.

Each worker gets one OpenMP/BLAS thread (``OMP_NUM_THREADS=1`` unless the user set it), as Ray gives its
one-CPU tasks: parallelism comes from the jobs, and BLAS threads spinning for cores that the other
workers hold made the pool up to 2.7x slower on a busy 2-core machine.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from talkinghead.batch.jobs import Job, JobResult, crashed, render_job

Work = Callable[[Job, str], JobResult]
STOP = None


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: Job | None = None


def run_pool(jobs: list[Job], out_dir: str, workers: int, max_attempts: int,
             work: Work = render_job) -> Iterator[JobResult]:
    """Yield each job's result as it finishes, on ``workers`` processes."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked native-library state
    pending = deque(jobs)
    attempts: dict[int, int] = {}
    idle: list[_Worker] = []
    busy: list[_Worker] = []
    started = 0
    try:
        while pending or busy:
            while pending and (idle or started < workers):
                if not idle:
                    idle.append(_start(context, work, out_dir))
                    started += 1
                worker = idle.pop()
                try:
                    worker.conn.send(pending[0])
                except OSError:  # it died while idle: replace it, the job was never on it
                    _stop([worker])
                    idle.append(_start(context, work, out_dir))
                    continue
                worker.job = pending.popleft()
                attempts[worker.job.row] = attempts.get(worker.job.row, 0) + 1
                busy.append(worker)
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for worker in [w for w in busy if w.conn in ready or w.process.sentinel in ready]:
                busy.remove(worker)
                job, worker.job = worker.job, None
                result = _receive(worker)
                if result is not None:
                    result.attempts = attempts[job.row]
                    idle.append(worker if worker.process.is_alive() else _replace(worker, context, work, out_dir))
                    yield result
                    continue
                worker.process.join()
                if attempts[job.row] < max_attempts:
                    pending.appendleft(job)
                else:
                    yield crashed(job, attempts[job.row], _exit_detail(worker.process.exitcode))
                idle.append(_replace(worker, context, work, out_dir))
    finally:
        _stop(idle + busy)


def _start(context: Any, work: Work, out_dir: str) -> _Worker:
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, work, out_dir), daemon=True)
    with _environment(OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1")):
        process.start()
    theirs.close()  # so that our end sees EOF when the worker dies
    return _Worker(process, ours)


def _replace(worker: _Worker, context: Any, work: Work, out_dir: str) -> _Worker:
    """A fresh worker in place of a dead one."""
    worker.process.join()
    worker.conn.close()
    return _start(context, work, out_dir)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables while a worker starts (it inherits them), then restore ours."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _serve(conn: Connection, work: Work, out_dir: str) -> None:
    """Worker loop: render each job sent, answer with its result, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    with contextlib.suppress(EOFError, BrokenPipeError):  # the parent is gone: nobody to work for
        while (job := conn.recv()) is not STOP:
            conn.send(work(job, out_dir))


def _receive(worker: _Worker) -> JobResult | None:
    """The worker's answer, or None when it died before giving one."""
    try:
        return worker.conn.recv() if worker.conn.poll() else None
    except (EOFError, OSError):
        return None


def _exit_detail(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


def _stop(workers: list[_Worker]) -> None:
    """Ask idle workers to finish, end busy ones (their partial outputs are temp files, never the target)."""
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            if worker.job is None:
                worker.conn.send(STOP)
            else:
                worker.process.terminate()
    for worker in workers:
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
