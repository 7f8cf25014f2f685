"""Render jobs that survive restarts: a SQLite table, uploads and results on disk, a bounded worker pool.

A job is a row (status, progress, controls, consent, error) plus a folder holding its uploads and, once
done, its MP4. Workers are threads in the server process that claim the oldest queued job and run
`talkinghead.pipeline.render` on it. At start-up, jobs a crash left ``running`` are queued again (their
uploads are still on disk) unless they have already been interrupted `MAX_ATTEMPTS` times, in which case
they are marked failed with that reason: a job is never silently lost.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from talkinghead.errors import TalkingHeadError

log = logging.getLogger("talkinghead.server")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
MAX_ATTEMPTS = 2
PROGRESS_EVERY_S = 0.5

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    controls TEXT NOT NULL,
    portrait TEXT NOT NULL,
    audio TEXT,
    consent TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    frames INTEGER NOT NULL DEFAULT 0,
    render_seconds REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created);
"""


class Cancelled(Exception):
    """Raised inside a render whose job was cancelled."""


class QueueFull(Exception):
    """The queue already holds as many waiting jobs as allowed."""


@dataclass
class Job:
    id: str
    status: str
    progress: float
    created: float
    updated: float
    controls: dict[str, Any]
    portrait: str
    audio: str | None  # None when the job says `text`
    consent: str
    client: str
    attempts: int
    frames: int
    render_seconds: float
    error: str
    note: str

    def public(self) -> dict[str, Any]:
        """What the API shows about the job."""
        shown = {k: getattr(self, k) for k in ("id", "status", "progress", "created", "updated", "controls",
                                               "attempts", "frames", "error", "note")}
        shown["progress"] = round(self.progress, 4)
        shown["fps"] = round(self.frames / self.render_seconds, 2) if self.render_seconds else None
        shown["file"] = f"/v1/videos/{self.id}/file" if self.status == DONE else None
        return shown


class JobStore:
    """The jobs table; safe to use from several threads."""

    def __init__(self, db_path: Path, data_dir: Path) -> None:
        self.data_dir = data_dir
        (data_dir / "jobs").mkdir(parents=True, exist_ok=True)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def folder(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id

    def result_path(self, job_id: str) -> Path:
        return self.folder(job_id) / "video.mp4"

    def new_folder(self) -> tuple[str, Path]:
        job_id = uuid.uuid4().hex
        folder = self.folder(job_id)
        folder.mkdir(parents=True)
        return job_id, folder

    def add(self, job_id: str, controls: dict[str, Any], portrait: Path, audio: Path | None, consent: str,
            client: str, max_queued: int) -> Job:
        """Queue a job, unless ``max_queued`` jobs already wait (`QueueFull`): checked and added at once."""
        now = time.time()
        with self._lock:
            waiting = self._db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]
            if waiting >= max_queued:
                raise QueueFull(waiting)
            self._db.execute(
                "INSERT INTO jobs (id, status, created, updated, controls, portrait, audio, consent, client) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, QUEUED, now, now, json.dumps(controls), str(portrait), str(audio) if audio else None, consent,
                 client))
        log.info("job %s queued; consent %r from %s; controls %s", job_id, consent, client, json.dumps(controls))
        return self.get(job_id)  # type: ignore[return-value]

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {status: 0 for status in (QUEUED, RUNNING, *FINISHED)} | {r[0]: r[1] for r in rows}

    def mean_render_seconds(self) -> float:
        """Average wall time of recent finished renders (for Retry-After); a guess before the first one."""
        with self._lock:
            row = self._db.execute("SELECT AVG(render_seconds) FROM (SELECT render_seconds FROM jobs "
                                   "WHERE status = ? ORDER BY updated DESC LIMIT 20)", (DONE,)).fetchone()
        return float(row[0]) if row and row[0] else 10.0

    def claim(self) -> Job | None:
        """Mark the oldest queued job running and return it (None when the queue is empty)."""
        with self._lock:
            row = self._db.execute("SELECT id FROM jobs WHERE status = ? ORDER BY created LIMIT 1",
                                   (QUEUED,)).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE jobs SET status = ?, attempts = attempts + 1, updated = ?, progress = 0 "
                             "WHERE id = ?", (RUNNING, time.time(), row[0]))
        return self.get(row[0])

    def update(self, job_id: str, **values: Any) -> None:
        values["updated"] = time.time()
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {columns} WHERE id = ?", (*values.values(), job_id))

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; a finished one keeps its status. Returns the job after.

        A queued job's folder goes now; a running job's goes when its worker stops it (it is writing there).
        """
        before = self.get(job_id)
        with self._lock:
            self._db.execute("UPDATE jobs SET status = ?, updated = ?, error = 'cancelled by the client' "
                             "WHERE id = ? AND status IN (?, ?)", (CANCELLED, time.time(), job_id, QUEUED, RUNNING))
        if before and before.status == QUEUED:
            shutil.rmtree(self.folder(job_id), ignore_errors=True)
        return self.get(job_id)

    def recover(self) -> None:
        """After a restart: requeue the jobs a crash interrupted, or fail them with the reason."""
        with self._lock:
            rows = self._db.execute("SELECT id, attempts FROM jobs WHERE status = ?", (RUNNING,)).fetchall()
        for job_id, attempts in rows:
            if attempts >= MAX_ATTEMPTS:
                self.update(job_id, status=FAILED,
                            error=f"the server stopped during this render {attempts} times; not retried again")
                log.warning("job %s failed: interrupted %d times", job_id, attempts)
            else:
                self.update(job_id, status=QUEUED, progress=0.0, note="requeued after a server restart")
                log.info("job %s requeued after a restart", job_id)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Workers:
    """``count`` threads rendering queued jobs one at a time each."""

    def __init__(self, store: JobStore, count: int) -> None:
        self.store = store
        self.count = count
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_fps = 0.0

    def start(self) -> None:
        self.store.recover()
        for number in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"talkinghead-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.claim()
            if job is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        from talkinghead.pipeline import render

        last = [0.0]

        def progress(done: int, total: int) -> None:
            if self._stop.is_set():
                raise Cancelled("server stopping")
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S or done == total:
                last[0] = now
                current = self.store.get(job.id)
                if current is None or current.status == CANCELLED:
                    raise Cancelled("cancelled by the client")
                self.store.update(job.id, progress=done / max(total, 1), frames=done)

        started = time.perf_counter()
        try:
            result = render(job.portrait, job.audio, self.store.result_path(job.id), progress=progress,
                            **job.controls)
        except Cancelled:
            if self._stop.is_set():  # not the job's fault: it runs again at the next start, as a fresh attempt
                self.store.update(job.id, status=QUEUED, attempts=job.attempts - 1, progress=0.0,
                                  note="requeued: the server stopped during the render")
            self._forget_if_cancelled(job.id)
            return
        except Exception as exc:
            if self._forget_if_cancelled(job.id):
                return
            if isinstance(exc, TalkingHeadError):
                error = _without_paths(str(exc), job)
            else:  # a bug: the job says so instead of vanishing
                log.exception("job %s crashed", job.id)
                error = f"internal error: {type(exc).__name__}: {exc}"
            self.store.update(job.id, status=FAILED, error=error)
            log.info("job %s failed: %s", job.id, error)
            return
        seconds = time.perf_counter() - started
        self.last_fps = result.n_frames / seconds if seconds else 0.0
        if self._forget_if_cancelled(job.id):
            return
        self.store.update(job.id, status=DONE, progress=1.0, frames=result.n_frames, render_seconds=seconds)
        log.info("job %s done: %d frames in %.1f s", job.id, result.n_frames, seconds)

    def _forget_if_cancelled(self, job_id: str) -> bool:
        """If the client cancelled the job, delete its folder and say so."""
        current = self.store.get(job_id)
        if current is None or current.status != CANCELLED:
            return False
        shutil.rmtree(self.store.folder(job_id), ignore_errors=True)
        log.info("job %s cancelled", job_id)
        return True


def _without_paths(message: str, job: Job) -> str:
    """Error messages name the uploaded files by role, not by their place on the server's disk."""
    message = message.replace(job.portrait, "the portrait")
    return message.replace(job.audio, "the audio") if job.audio else message


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["controls"] = json.loads(values["controls"])
    return Job(**values)
