"""Render jobs that survive restarts and crashes: a SQLite table, uploads and results on disk, worker processes.

A job is a row (status, progress, controls, consent, error) plus a folder holding its uploads and, once
done, its MP4. `Dispatcher` (one thread in the server) hands queued jobs to the batch runner's
`WorkerPool`, so every render runs in a worker process: a native crash kills that worker, never the
server, and the job is tried once more on a fresh worker (`MAX_ATTEMPTS`, the batch runner's policy) before
it is failed with the reason. At start-up, jobs a server crash left ``running`` are queued again (their
uploads are still on disk) unless they already had `MAX_ATTEMPTS` tries, in which case they are marked
failed with that reason: a job is never silently lost.

The store refuses to open (`StoreError`, a `TalkingHeadError`: one line, exit 2) rather than run on a
damaged file: see `JobStore` for what it checks.
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

from talkinghead.batch.jobs import DONE as JOB_DONE
from talkinghead.batch.jobs import MAX_ATTEMPTS
from talkinghead.batch.jobs import Job as RenderJob
from talkinghead.batch.pool import ANALYSIS, PROGRESS, RESULT, RETRY, Event, WorkerPool
from talkinghead.captions import vtt_text
from talkinghead.captions.embedded import soft_captions
from talkinghead.errors import TalkingHeadError
from talkinghead.exports import write_atomically

log = logging.getLogger("talkinghead.server")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
RESULT_NAME = "video.mp4"
FILES_DELETED = "files deleted"
POLL_S = 0.25
RETENTION_SWEEP_S = 60.0

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
    note TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created);
"""


class StoreError(TalkingHeadError):
    """The job store or data folder cannot be used; the server does not start."""


class QueueFull(Exception):
    """The queue already holds as many waiting jobs as allowed."""


@dataclass
class Job:
    id: str
    status: str
    progress: float
    created: float
    updated: float
    controls: dict[str, Any]  # file-valued options hold names inside the job's folder
    portrait: str  # name inside the job's folder
    audio: str | None  # None when the job says `text`
    consent: str
    client: str
    attempts: int
    frames: int
    render_seconds: float
    error: str
    note: str
    owner: str = ""  # a hash of the session that queued the job; only that session's job list shows it

    def public(self) -> dict[str, Any]:
        """What the API shows about the job."""
        shown = {k: getattr(self, k) for k in ("id", "status", "progress", "created", "updated", "controls",
                                               "attempts", "frames", "error", "note")}
        shown["progress"] = round(self.progress, 4)
        shown["fps"] = round(self.frames / self.render_seconds, 2) if self.render_seconds else None
        shown["file"] = f"/v1/videos/{self.id}/file" if self.status == DONE and not self.files_deleted else None
        shown["stage"] = self.stage
        shown["total_frames"] = round(self.frames / self.progress) if self.progress > 0 else None
        return shown

    @property
    def stage(self) -> str:
        """Where a job is: queued, analysing speech (no frame yet), rendering, encoding (all frames drawn), or
        its final status."""
        if self.status != RUNNING:
            return self.status
        if self.frames == 0:
            return "analysing speech"
        return "encoding" if self.progress >= 1.0 else "rendering"

    @property
    def files_deleted(self) -> bool:
        return self.note.startswith(FILES_DELETED)


class JobStore:
    """The jobs table; safe to use from several threads.

    Opening checks, before the server says it is serving: the data folder is a folder we can write in, the
    store path is not a folder, and an existing store is a SQLite file that passes ``PRAGMA quick_check``
    and has the jobs table. A store that fails (garbage, a damaged page, zero bytes: SQLite never leaves an
    in-use store empty) is left untouched and the server refuses to start, saying how to go on: we do not
    move it aside ourselves, since a fresh store would hide the jobs the old one lists.
    """

    def __init__(self, db_path: Path, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.jobs_dir = data_dir / "jobs"
        _prepare_folder(data_dir, "--data-dir")
        _prepare_folder(self.jobs_dir, "the jobs folder")
        existed = _check_store_path(db_path)
        self._lock = threading.Lock()
        self._db = _open_store(db_path, existed)
        self.fresh = not existed

    def folder(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def result_path(self, job_id: str) -> Path:
        return self.folder(job_id) / RESULT_NAME

    def new_folder(self) -> tuple[str, Path]:
        job_id = uuid.uuid4().hex
        folder = self.folder(job_id)
        folder.mkdir(parents=True)
        return job_id, folder

    def add(self, job_id: str, controls: dict[str, Any], portrait: str, audio: str | None, consent: str,
            client: str, max_queued: int, owner: str = "") -> Job:
        """Queue a job, unless ``max_queued`` jobs already wait (`QueueFull`): checked and added at once."""
        now = time.time()
        with self._lock:
            waiting = self._db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]
            if waiting >= max_queued:
                raise QueueFull(waiting)
            self._db.execute(
                "INSERT INTO jobs (id, status, created, updated, controls, portrait, audio, consent, client, owner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, QUEUED, now, now, json.dumps(controls), portrait, audio, consent, client, owner))
        log.info("job %s queued; consent %r from %s; controls %s", job_id, consent, client, json.dumps(controls))
        return self.get(job_id)  # type: ignore[return-value]

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def statuses(self, job_ids: list[str]) -> dict[str, str]:
        marks = ", ".join("?" * len(job_ids))
        with self._lock:
            rows = self._db.execute(f"SELECT id, status FROM jobs WHERE id IN ({marks})", job_ids).fetchall()
        return {row[0]: row[1] for row in rows}

    def recent(self, owner: str, limit: int, status: str | None = None) -> list[Job]:
        """The newest jobs of ``owner`` first (only those with ``status`` when given). Jobs of no owner (queued
        before jobs had one) are nobody's: an empty owner matches none."""
        condition, values = ("AND status = ? ", (status,)) if status else ("", ())
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM jobs WHERE owner = ? AND owner != '' {condition}"
                                    "ORDER BY created DESC LIMIT ?", (owner, *values, limit)).fetchall()
        return [_job(row) for row in rows]

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

    def update(self, job_id: str, only_if: str | None = None, **values: Any) -> None:
        """Set columns of a job (when ``only_if`` is given: only while the job has that status)."""
        values["updated"] = time.time()
        columns = ", ".join(f"{name} = ?" for name in values)
        condition = "" if only_if is None else " AND status = ?"
        extra = () if only_if is None else (only_if,)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {columns} WHERE id = ?{condition}", (*values.values(), job_id, *extra))

    def delete(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; delete the files of the job in any state. Returns the job after.

        A running job's worker is stopped by the dispatcher, which sees the status change."""
        with self._lock:
            self._db.execute("UPDATE jobs SET status = ?, updated = ?, error = 'cancelled by the client' "
                             "WHERE id = ? AND status IN (?, ?)", (CANCELLED, time.time(), job_id, QUEUED, RUNNING))
            self._db.execute("UPDATE jobs SET note = ? WHERE id = ?", (f"{FILES_DELETED} by the client", job_id))
        shutil.rmtree(self.folder(job_id), ignore_errors=True)
        return self.get(job_id)

    def recover(self) -> None:
        """After a restart: requeue the jobs a crash interrupted, or fail them with the reason; clean leftovers."""
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
        self._clean_leftovers()

    def requeue_stopped(self, job_id: str) -> None:
        """The server stopped during this render: not the job's fault, so the try does not count."""
        with self._lock:
            self._db.execute("UPDATE jobs SET status = ?, attempts = MAX(attempts - 1, 0), progress = 0, "
                             "updated = ?, note = 'requeued: the server stopped during the render' "
                             "WHERE id = ? AND status = ?", (QUEUED, time.time(), job_id, RUNNING))

    def delete_expired(self, older_than_s: float) -> int:
        """Delete the files of jobs finished more than ``older_than_s`` seconds ago (the row stays)."""
        cutoff = time.time() - older_than_s
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE status IN (?, ?, ?) AND updated < ? AND note NOT LIKE ?",
                (*FINISHED, cutoff, FILES_DELETED + "%")).fetchall()
            for (job_id,) in rows:
                self._db.execute("UPDATE jobs SET note = ? WHERE id = ?",
                                 (f"{FILES_DELETED} after the retention period", job_id))
        for (job_id,) in rows:
            shutil.rmtree(self.folder(job_id), ignore_errors=True)
        if rows:
            log.info("retention: deleted the files of %d finished job(s)", len(rows))
        return len(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _clean_leftovers(self) -> None:
        """Partial files a killed render left, and upload folders whose job was never stored (a kill while
        the upload was checked). With a new store every folder would look orphaned, so then none is touched."""
        with self._lock:
            known = {row[0] for row in self._db.execute("SELECT id FROM jobs").fetchall()}
        for folder in self.jobs_dir.iterdir():
            if not folder.is_dir():
                continue
            if folder.name not in known:
                if self.fresh:
                    log.warning("%s has no job in the new store; left as it is", folder)
                else:
                    shutil.rmtree(folder, ignore_errors=True)
                    log.info("removed %s: an upload with no job", folder)
                continue
            for partial in folder.glob(".*"):  # the renderer's temp files are hidden: .video.mp4.*.partial.mp4
                partial.unlink(missing_ok=True)


class Dispatcher:
    """One thread that hands queued jobs to ``count`` worker processes and records what becomes of them."""

    def __init__(self, store: JobStore, count: int, retention_s: float = 0.0) -> None:
        self.store = store
        self.count = count
        self.retention_s = retention_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_fps = 0.0
        self._first_frames: dict[str, tuple[float, int]] = {}  # job -> (time, frames) at its first progress
        self._analysed: dict[str, float] = {}  # job -> share of its speech analysed (while no frame is drawn)

    def analysis_progress(self, job: Job) -> float | None:
        """How much of a job's speech is analysed (0-1) while it is analysing, when the analysis says."""
        share = self._analysed.get(job.id)
        return round(share, 3) if share is not None and job.stage == "analysing speech" else None

    def eta_s(self, job: Job) -> float | None:
        """Seconds until a rendering job's frames are drawn, from its speed since its first frames (None before
        that can be measured)."""
        first = self._first_frames.get(job.id)
        total = round(job.frames / job.progress) if job.progress > 0 else 0
        if job.status != RUNNING or first is None or job.frames <= first[1] or not total:
            return None
        rate = (job.frames - first[1]) / max(time.monotonic() - first[0], 1e-3)
        return round((total - job.frames) / rate, 1)

    def start(self) -> None:
        self.store.recover()
        self._thread = threading.Thread(target=self._loop, name="talkinghead-dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        pool = WorkerPool(self.count)
        swept = 0.0
        try:
            while not self._stop.is_set():
                self._fill(pool)
                for event in pool.wait(POLL_S) if pool.has_work() else self._idle():
                    self._record(event)
                self._stop_cancelled(pool)
                if self.retention_s and time.monotonic() - swept > RETENTION_SWEEP_S:
                    swept = time.monotonic()
                    self.store.delete_expired(self.retention_s)
        except Exception:  # the store or the pool broke: say so; the server keeps answering
            log.exception("the job dispatcher stopped")
        finally:
            for job_id in pool.close():  # not the jobs' fault: they run again at the next start
                self.store.requeue_stopped(str(job_id))

    def _idle(self) -> list[Event]:
        self._wake.wait(POLL_S)
        self._wake.clear()
        return []

    def _fill(self, pool: WorkerPool) -> None:
        while pool.free_slots():
            job = self.store.claim()
            if job is None:
                return
            folder = self.store.folder(job.id)
            options = {name: str(folder / value) if name in FILE_OPTIONS else value
                       for name, value in job.controls.items()}
            render_job = RenderJob(0, 0, folder / job.portrait, folder / job.audio if job.audio else None,
                                   RESULT_NAME, options)
            pool.submit(job.id, render_job, str(folder), attempts=job.attempts - 1)

    def _record(self, event: Event) -> None:
        job_id = str(event.key)
        if event.kind == ANALYSIS:
            self._analysed[job_id] = event.done / max(event.total, 1)
        elif event.kind == PROGRESS:
            self._analysed.pop(job_id, None)
            self._first_frames.setdefault(job_id, (time.monotonic(), event.done))
            self.store.update(job_id, only_if=RUNNING, progress=event.done / max(event.total, 1), frames=event.done)
        elif event.kind == RETRY:
            self.store.update(job_id, only_if=RUNNING, attempts=event.attempts + 1, progress=0.0,
                              note=f"retried: its worker crashed ({event.detail})")
            log.warning("job %s: worker crashed (%s); trying again", job_id, event.detail)
        elif event.kind == RESULT and event.result is not None:
            self._first_frames.pop(job_id, None)
            self._analysed.pop(job_id, None)
            result = event.result
            if result.status == JOB_DONE:
                self.last_fps = result.frames / result.seconds if result.seconds else 0.0
                self._write_vtt(job_id)  # before "done": a client that sees it done finds its captions
                self.store.update(job_id, only_if=RUNNING, status=DONE, progress=1.0, frames=result.frames,
                                  render_seconds=result.seconds, attempts=event.attempts)
                log.info("job %s done: %d frames in %.1f s", job_id, result.frames, result.seconds)
            else:
                error = without_paths(result.reason, self.store.folder(job_id))
                self.store.update(job_id, only_if=RUNNING, status=FAILED, error=error, attempts=event.attempts)
                log.info("job %s failed: %s", job_id, error)

    def _write_vtt(self, job_id: str) -> None:
        """WebVTT of the video's soft subtitle track beside it, for `GET /v1/videos/{id}/captions.vtt` (kept
        when the job asked for ``captions=vtt`` itself)."""
        video = self.store.result_path(job_id)
        vtt = video.with_suffix(".vtt")
        if vtt.exists():
            return
        try:
            cues = soft_captions(video)
            if cues:
                write_atomically(vtt, vtt_text(cues))
        except Exception:  # our own output: a failure here is a bug, but the video is still there to serve
            log.exception("job %s: reading the captions back failed", job_id)

    def _stop_cancelled(self, pool: WorkerPool) -> None:
        running = [str(key) for key in pool.running]
        if not running:
            return
        for job_id, status in self.store.statuses(running).items():
            if status != RUNNING:
                pool.cancel(job_id)
                shutil.rmtree(self.store.folder(job_id), ignore_errors=True)
                log.info("job %s cancelled", job_id)


FILE_OPTIONS = ("motion_in", "emotion_schedule", "transcript_file")  # uploaded content, kept in the job folder


def without_paths(message: str, folder: Path) -> str:
    """Error messages name uploaded files by their name in the job, never by their place on the server."""
    for form in (str(folder.resolve()), str(folder)):
        message = message.replace(form + "/", "").replace(form, "the job")
    return message


def _prepare_folder(folder: Path, what: str) -> None:
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{what} {folder} is a file; give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{uuid.uuid4().hex[:8]}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"cannot write in {what} {folder}: {exc.strerror}") from None


def _check_store_path(db_path: Path) -> bool:
    """True when the store already exists (and is a file)."""
    if db_path.is_dir():
        raise StoreError(f"the job store {db_path} is a folder; --db must name a file")
    if db_path.exists() and db_path.stat().st_size == 0:
        raise _damaged(db_path, "it is empty (0 bytes)")
    _prepare_folder(db_path.parent, "the job store's folder")
    return db_path.exists()


def _open_store(db_path: Path, existed: bool) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        if existed:
            problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                db.close()
                said = " ".join(" ".join(map(str, problems)).replace("*** in database main ***", "").split())
                raise _damaged(db_path, f"SQLite's check says: {said[:160]}")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "jobs" not in tables:
                db.close()
                raise _damaged(db_path, "it has no jobs table (is it another program's database?)")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        if "owner" not in columns:  # a store from before jobs had owners
            db.execute("ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
        db.execute("CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created)")
    except sqlite3.DatabaseError as exc:
        raise _damaged(db_path, str(exc)) from None
    return db


def _damaged(db_path: Path, reason: str) -> StoreError:
    return StoreError(f"the job store {db_path} is damaged ({reason}); nothing was changed. Restore a backup, or "
                      f"salvage its rows (sqlite3 {db_path} .recover), or move it aside (mv {db_path} "
                      f"{db_path}.damaged) to start with an empty store")


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["controls"] = json.loads(values["controls"])
    return Job(**values)
