"""The local executor: a few long-lived worker processes, each rendering one job at a time.

Batch runs (`run_pool`) and the server's render jobs (`talkinghead.server.jobs`) both use `WorkerPool`:
one job model (`Job`, rendered by `render_job`), one retry policy (`MAX_ATTEMPTS`).

Why processes: a native library that crashes (a segfault or abort in a decoder, espeak-ng or
PocketSphinx, the out-of-memory killer) takes down only the worker it ran in; the job it held is tried
again on a fresh worker, then reported as failed with the reason, and the others carry on. Native state
(PocketSphinx decoders, mediapipe graphs, redirected stderr) is never shared between two renders at once.

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its workers dies the whole pool breaks and
every pending job fails with it, with no way to tell which job was on the dead worker. Here each worker
has its own pipe, so the pool knows exactly which job a dead worker held.

Each worker gets one OpenMP/BLAS thread (``OMP_NUM_THREADS=1`` unless the user set it), as Ray gives its
one-CPU tasks: parallelism comes from the jobs, and BLAS threads spinning for cores that the other
workers hold made the pool up to 2.7x slower on a busy 2-core machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from talkinghead.batch.jobs import MAX_ATTEMPTS, Job, JobResult, crashed, render_job

Work = Callable[[Job, str], JobResult]
STOP = None
PROGRESS_EVERY_S = 0.5
RESULT, PROGRESS, RETRY, ANALYSIS = "result", "progress", "retry", "analysis"


@dataclass
class Event:
    """What happened to a submitted job: ``progress`` (done/total frames), ``analysis`` (done/total seconds of
    speech analysed, before the first frame), ``retry`` (its worker died and it
    goes to a fresh one; ``detail`` says how it died) or ``result`` (finished, failed or crashed for good)."""

    key: Hashable
    kind: str
    attempts: int
    result: JobResult | None = None
    done: int = 0
    total: int = 0
    detail: str = ""


@dataclass
class _Task:
    key: Hashable
    job: Job
    out_dir: str
    attempts: int  # tries so far, this one not counted


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: _Task | None = None


class WorkerPool:
    """Up to ``size`` worker processes (started as needed) rendering submitted jobs with ``work``.

    Not thread-safe: one thread submits, cancels and calls `wait`, which hands out the events.
    """

    def __init__(self, size: int, work: Work = render_job, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.size = size
        self.work = work
        self.max_attempts = max_attempts
        self._context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked native state
        self._pending: deque[_Task] = deque()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []

    def submit(self, key: Hashable, job: Job, out_dir: str, attempts: int = 0) -> None:
        """Queue ``job`` (``attempts``: tries it already had, e.g. before a server restart)."""
        self._pending.append(_Task(key, job, out_dir, attempts))

    @property
    def running(self) -> list[Hashable]:
        return [worker.task.key for worker in self._busy if worker.task]

    def has_work(self) -> bool:
        return bool(self._pending or self._busy)

    def free_slots(self) -> int:
        return max(0, self.size - len(self._busy) - len(self._pending))

    def cancel(self, key: Hashable) -> bool:
        """Drop a queued job, or stop the worker rendering it (a fresh one takes its place)."""
        for task in list(self._pending):
            if task.key == key:
                self._pending.remove(task)
                return True
        for worker in list(self._busy):
            if worker.task and worker.task.key == key:
                self._busy.remove(worker)
                _terminate(worker)
                return True
        return False

    def wait(self, timeout: float | None = None) -> list[Event]:
        """Start what can start, then wait up to ``timeout`` s for news; returns the events (maybe none)."""
        self._dispatch()
        if not self._busy:
            if timeout:
                time.sleep(min(timeout, 0.05) if self._pending else timeout)
            return []
        ready = set(wait([w.conn for w in self._busy] + [w.process.sentinel for w in self._busy], timeout))
        events: list[Event] = []
        for worker in [w for w in self._busy if w.conn in ready or w.process.sentinel in ready]:
            events += self._collect(worker)
        return events

    def close(self) -> list[Hashable]:
        """Stop every worker; returns the keys of the jobs that were running or waiting (not finished)."""
        unfinished = [task.key for task in self._pending] + self.running
        self._pending.clear()
        _stop(self._idle + self._busy)
        self._idle, self._busy = [], []
        return unfinished

    def _dispatch(self) -> None:
        while self._pending and (self._idle or len(self._busy) < self.size):
            worker = self._idle.pop() if self._idle else _start(self._context, self.work)
            task = self._pending[0]
            try:
                worker.conn.send((task.job, task.out_dir))
            except OSError:  # it died while idle: replace it, the job was never on it
                _stop([worker])
                continue
            self._pending.popleft()
            task.attempts += 1
            worker.task = task
            self._busy.append(worker)

    def _collect(self, worker: _Worker) -> list[Event]:
        task = worker.task
        assert task is not None
        events = []
        while True:
            try:
                if not worker.conn.poll():
                    break
                kind, *values = worker.conn.recv()
            except (EOFError, OSError):
                break
            if kind in (PROGRESS, ANALYSIS):
                events.append(Event(task.key, kind, task.attempts, done=values[0], total=values[1]))
                continue
            result = values[0]
            result.attempts = task.attempts
            worker.task = None
            self._busy.remove(worker)
            self._idle.append(worker if worker.process.is_alive() else _replace(worker, self._context, self.work))
            return [*events, Event(task.key, RESULT, task.attempts, result=result)]
        if worker.process.is_alive():
            return events  # only progress so far
        self._busy.remove(worker)
        worker.process.join()
        detail = _exit_detail(worker.process.exitcode)
        worker.conn.close()
        if task.attempts < self.max_attempts:
            self._pending.appendleft(task)
            return [*events, Event(task.key, RETRY, task.attempts, detail=detail)]
        return [*events, Event(task.key, RESULT, task.attempts, result=crashed(task.job, task.attempts, detail))]


def run_pool(jobs: list[Job], out_dir: str, workers: int, max_attempts: int,
             work: Work = render_job) -> Iterator[JobResult]:
    """Yield each job's result as it finishes, on ``workers`` processes."""
    pool = WorkerPool(workers, work, max_attempts)
    for job in jobs:
        pool.submit(job.row, job, out_dir)
    try:
        while pool.has_work():
            for event in pool.wait():
                if event.kind == RESULT:
                    yield event.result  # type: ignore[misc]
    finally:
        pool.close()


def report_progress(done: int, total: int) -> None:
    """Inside a pool worker: tell the pool how far the current job is (at most every half second)."""
    _send_throttled(PROGRESS, done, total)


def report_analysis(done_s: float, total_s: float) -> None:
    """Inside a pool worker: tell the pool how much of the speech is analysed (whole seconds, at most every
    half second); `render_job` routes `talkinghead.progress.analysed` here."""
    _send_throttled(ANALYSIS, round(done_s), round(total_s), finished=done_s >= total_s)


def _send_throttled(kind: str, done: int, total: int, finished: bool | None = None) -> None:
    """Send (kind, done, total) to the pool, at most every `PROGRESS_EVERY_S` unless the work is finished."""
    global _last_progress
    now = time.monotonic()
    finished = done >= total if finished is None else finished
    if _conn is None or (now - _last_progress < PROGRESS_EVERY_S and not finished):
        return
    _last_progress = now
    with contextlib.suppress(OSError):
        _conn.send((kind, done, total))


_conn: Connection | None = None  # set in a worker process: its pipe to the pool
_last_progress = 0.0


def _start(context: Any, work: Work) -> _Worker:
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, work), daemon=True)
    with _environment(OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1")):
        process.start()
    theirs.close()  # so that our end sees EOF when the worker dies
    return _Worker(process, ours)


def _replace(worker: _Worker, context: Any, work: Work) -> _Worker:
    """A fresh worker in place of a dead one."""
    worker.process.join()
    worker.conn.close()
    return _start(context, work)


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


def _serve(conn: Connection, work: Work) -> None:
    """Worker loop: render each job sent, answer with its result, until told to stop."""
    global _conn
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    _conn = conn
    with contextlib.suppress(EOFError, BrokenPipeError):  # the parent is gone: nobody to work for
        while (message := conn.recv()) is not STOP:
            job, out_dir = message
            conn.send((RESULT, work(job, out_dir)))


def _die_with_parent() -> None:
    """On Linux, have the kernel end this worker when its parent dies (even by SIGKILL), so a killed server
    leaves no orphan rendering a job that the restarted server renders again."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before we asked
        os._exit(0)


def _exit_detail(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


def _terminate(worker: _Worker) -> None:
    _stop([worker], ask=False)


def _stop(workers: list[_Worker], ask: bool = True) -> None:
    """Ask idle workers to finish, end busy ones (their partial outputs are temp files, never the target)."""
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            if worker.task is None and ask:
                worker.conn.send(STOP)
            else:
                worker.process.terminate()
    for worker in workers:
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
