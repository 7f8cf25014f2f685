"""The HTTP API, the live WebSocket and the web page, as one FastAPI app (`create_app`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from talkinghead import __version__
from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.server.forms import CONTENT_OPTIONS, check_field_names, control_specs, controls_form
from talkinghead.server.guard import Guard
from talkinghead.server.jobs import CANCELLED, DONE, FAILED, FINISHED, QUEUED, RUNNING, Dispatcher, JobStore, QueueFull
from talkinghead.server.live_ws import LiveEndpoint
from talkinghead.server.metrics import Metrics
from talkinghead.server.schemas import ControlSpec, JobList, JobView, VerifyView, errors
from talkinghead.server.settings import Settings
from talkinghead.server.uploads import check_audio, check_portrait

log = logging.getLogger("talkinghead.server")
STATIC = Path(__file__).resolve().parent / "static"
MB = 1024 * 1024
CONSENT_YES = ("yes", "true", "1", "on")
AUDIO_HELP = "speech: WAV, MP3, FLAC, OGG, M4A, WebM, ... (leave out when `text` is given)"
INTERNAL_ERROR = "internal error; please report it (the server log has the details)"
SESSION_COOKIE = "talkinghead_session"
SESSION_FORM = re.compile(r"[A-Za-z0-9_-]{32,64}")
CAPTION_TYPES = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip; charset=utf-8"}
VERIFY_NAME, VERIFY_TIMEOUT_S = "verify.json", 120.0


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; opening the job store here means a damaged store fails now (`StoreError`), before serving."""
    settings = settings or Settings()
    store = JobStore(settings.database, settings.data_dir)
    dispatcher = Dispatcher(store, settings.workers, settings.retention_s)
    metrics = Metrics()
    live = LiveEndpoint(metrics, settings.max_live_sessions, int(settings.max_portrait_mb * MB))
    max_body = int((settings.max_portrait_mb + settings.max_audio_mb + 2) * MB)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dispatcher.start()
        yield
        await asyncio.to_thread(dispatcher.stop)
        store.close()

    app = FastAPI(title="talkinghead", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="One portrait + speech -> a talking-head video, marked as AI-generated. "
                              "Render jobs (`/v1/videos`), live streaming (`WS /v1/live`, see docs/server.md).")
    app.state.store, app.state.dispatcher, app.state.settings, app.state.live = store, dispatcher, settings, live
    app.add_middleware(Guard, token=settings.token, allowed_origins=settings.allowed_origins)

    @app.middleware("http")
    async def session(request: Request, call_next: Any) -> Response:
        """Every client gets a session cookie; its jobs are listed to it alone (`GET /v1/videos`)."""
        given = request.cookies.get(SESSION_COOKIE, "")
        fresh = None if SESSION_FORM.fullmatch(given) else secrets.token_urlsafe(32)
        request.state.owner = owner_of(fresh or given)
        response = await call_next(request)
        if fresh:
            response.set_cookie(SESSION_COOKIE, fresh, httponly=True, samesite="strict", path="/")
        return response

    @app.middleware("http")
    async def limit_and_count(request: Request, call_next: Any) -> Response:
        response = _refuse_body(request, max_body)
        if response is None:
            try:
                response = await call_next(request)
            except sqlite3.DatabaseError as exc:  # damaged while running: say so, do not pretend
                log.error("job store error: %s", exc)
                response = JSONResponse({"detail": "the job store cannot be read; the operator must restart "
                                                   "the server"}, status_code=503)
            except Exception:
                log.exception("unhandled error in %s %s", request.method, request.url.path)
                response = JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)
        metrics.count_request(response.status_code)
        return response

    @app.exception_handler(TalkingHeadError)
    async def user_error(request: Request, exc: TalkingHeadError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        """The API reference, drawn in the browser from /openapi.json (no CDN: works offline)."""
        return FileResponse(STATIC / "docs.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Liveness: answers while renders run (no token needed)."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"])
    def prometheus() -> str:
        """Prometheus text format: jobs by status, queue depth, render fps, live frames and latency, 5xx."""
        return metrics.render(store.counts(), settings.workers, dispatcher.last_fps)

    @app.get("/v1/controls", tags=["videos"], response_model=list[ControlSpec])
    def controls() -> list[dict[str, Any]]:
        """The render options (the same as the CLI flags): name, type, default, help."""
        return control_specs()

    @app.get("/v1/sample-portrait", tags=["videos"], response_class=FileResponse)
    def sample_portrait() -> FileResponse:
        """The bundled sample portrait (NASA astronaut photo, public domain)."""
        return FileResponse(DEMO_PORTRAIT, media_type="image/png")

    @app.get("/v1/sample-speech", tags=["videos"], response_class=FileResponse)
    def sample_speech() -> FileResponse:
        """The bundled sample speech (FLAC), to try the app without a recording of one's own."""
        return FileResponse(DEMO_SPEECH, media_type="audio/flac")

    def busy() -> JSONResponse:
        waiting = store.counts()["queued"]
        wait = math.ceil((waiting + 1) * store.mean_render_seconds() / max(settings.workers, 1))
        return JSONResponse({"detail": f"the queue is full ({waiting} jobs waiting); retry later"},
                            status_code=429, headers={"Retry-After": str(max(1, wait))})

    @app.post("/v1/videos", status_code=202, tags=["videos"], response_model=JobView,
              responses=errors(400, 401, 403, 411, 413, 422, 429))
    async def submit(request: Request,
                     portrait: Annotated[UploadFile, File(description="photo with one clearly visible face")],
                     consent: Annotated[str, Form(description="required: 'yes' attests that you have the right to "
                                                              "animate this person's likeness with this voice")],
                     options: Annotated[dict[str, Any], Depends(controls_form())],
                     audio: Annotated[UploadFile | None, File(description=AUDIO_HELP)] = None,
                     ) -> JSONResponse:
        """Queue a render; answers the job (poll `GET /v1/videos/{id}`). 429 with Retry-After when full."""
        check_field_names(name for name, _ in (await request.form()).multi_items())
        client = request.client.host if request.client else ""
        # the rest touches the disk and the store: in a thread, so /healthz and live streams never wait on it
        return await asyncio.to_thread(accept, portrait, consent, options, audio, client, request.state.owner)

    def accept(portrait: UploadFile, consent: str, options: dict[str, Any], audio: UploadFile | None,
               client: str, owner: str) -> JSONResponse:
        contents = {name: options.pop(name) for name in CONTENT_OPTIONS if name in options}
        placeholders = {name: CONTENT_OPTIONS[name][0] for name in contents}
        controls = Controls.from_options(options | placeholders)
        if "gaze" in options:  # stored as the two numbers Controls parsed (from "10,-5" or a pair)
            options["gaze"] = list(controls.gaze)
        if consent.strip().lower() not in CONSENT_YES:
            raise HTTPException(422, "consent must be 'yes': attest that you may animate this person's likeness")
        if (audio is None) == (controls.text is None):
            raise HTTPException(422, "give either an audio file or text (exactly one of them)")
        if store.counts()["queued"] >= settings.max_queue:  # cheap early answer; `add` checks again, atomically
            return busy()
        job_id, folder = store.new_folder()
        try:
            portrait_name, audio_name = _store_uploads(folder, portrait, audio, contents, settings,
                                                       controls.max_audio_seconds)
            job = store.add(job_id, options | placeholders, portrait_name, audio_name, consent, client,
                            settings.max_queue, owner)
        except QueueFull:
            shutil.rmtree(folder, ignore_errors=True)
            return busy()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        dispatcher.wake()
        return JSONResponse(public(job), status_code=202, headers={"Location": f"/v1/videos/{job_id}"})

    @app.get("/v1/videos", tags=["videos"], response_model=JobList, responses=errors(401, 422))
    def job_list(request: Request,
                 limit: Annotated[int, Query(ge=1, le=500, description="at most this many jobs")] = 50,
                 status: Annotated[Literal[QUEUED, RUNNING, DONE, FAILED, CANCELLED] | None,
                                   Query(description="only jobs with this status")] = None,
                 ) -> dict[str, list[dict[str, Any]]]:
        """This session's jobs, newest first, each as `GET /v1/videos/{id}` shows it. The session is the
        `talkinghead_session` cookie the server sets on a client's first request: a client that keeps it
        (every browser, `requests.Session`, `curl -b/-c`) sees the jobs it queued, and nobody else's."""
        return {"jobs": [public(job) for job in store.recent(request.state.owner, limit, status)]}

    def public(job: Any) -> dict[str, Any]:
        shown = job.public() | {"eta_s": dispatcher.eta_s(job), "analysis_progress": dispatcher.analysis_progress(job)}
        vtt = store.result_path(job.id).with_suffix(".vtt")
        shown["captions"] = f"/v1/videos/{job.id}/captions.vtt" if shown["file"] and vtt.is_file() else None
        return shown

    @app.get("/v1/videos/{job_id}", tags=["videos"], response_model=JobView, responses=errors(401, 404))
    def status(job_id: str) -> dict[str, Any]:
        """Status (queued, running, done, failed, cancelled); `stage` (queued, analysing speech, rendering,
        encoding, or the status), `progress` 0-1 (frames drawn), `frames`/`total_frames`, `eta_s` (seconds until
        the frames are drawn, once measurable), and the error if it failed."""
        return public(_job_or_404(store, job_id))

    @app.get("/v1/videos/{job_id}/file", tags=["videos"], response_class=FileResponse,
             responses={200: {"content": {"video/mp4": {}}, "description": "the MP4"}} | errors(401, 404, 409, 410))
    def result(job_id: str) -> FileResponse:
        """The MP4 once the job is done (409 before; 410 once its files are deleted)."""
        return FileResponse(_finished_file(store, job_id), media_type="video/mp4", filename=f"talkinghead-{job_id}.mp4")

    @app.get("/v1/videos/{job_id}/captions.{kind}", tags=["videos"], response_class=FileResponse,
             responses={200: {"content": {"text/vtt": {}, "application/x-subrip": {}},
                              "description": "the captions"}} | errors(401, 404, 409, 410))
    def captions(job_id: str, kind: Literal["vtt", "srt"]) -> FileResponse:
        """The video's word-timed captions: WebVTT always when the words are known (the web page's
        `<track>`), SRT when the job asked for `captions=srt`. 404 when the words were not known."""
        path = _finished_file(store, job_id).with_suffix("." + kind)
        if not path.is_file():
            raise HTTPException(404, f"job {job_id} has no {kind} captions (the words of its speech are not known)")
        return FileResponse(path, media_type=CAPTION_TYPES[kind], filename=f"talkinghead-{job_id}.{kind}")

    verifying = threading.Lock()

    @app.get("/v1/videos/{job_id}/verify", tags=["videos"], response_model=VerifyView,
             responses=errors(401, 404, 409, 410, 503))
    def provenance(job_id: str) -> dict[str, Any]:
        """What `talkinghead verify` finds in the finished video: watermark, metadata, C2PA manifest, label.
        Checked once (in a child process) and kept with the job."""
        video = _finished_file(store, job_id)
        kept = video.with_name(VERIFY_NAME)
        with verifying:
            if not kept.is_file():
                report = _verify_in_child(video)
                partial = kept.with_name("." + VERIFY_NAME)
                partial.write_text(json.dumps(report))
                partial.replace(kept)
        return json.loads(kept.read_text())

    @app.delete("/v1/videos/{job_id}", tags=["videos"], response_model=JobView, responses=errors(401, 403, 404, 409))
    def delete(job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job; delete the job's files (uploads and video) in every state."""
        _job_or_404(store, job_id)
        job = store.delete(job_id)
        if job is None or job.status not in FINISHED:
            raise HTTPException(409, f"job {job_id} could not be cancelled")
        return job.public()

    app.add_api_websocket_route("/v1/live", live)
    return app


def _refuse_body(request: Request, max_body: int) -> Response | None:
    """413 for a declared body over the limit; 411 for an upload that does not declare its length."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_body:
        return JSONResponse({"detail": f"upload of {int(length) / MB:.1f} MB is over the limit of "
                                       f"{max_body / MB:.0f} MB"}, status_code=413)
    if request.method == "POST" and not (length and length.isdigit()):
        return JSONResponse({"detail": "uploads must give their Content-Length"}, status_code=411)
    return None


def owner_of(session: str) -> str:
    """What the job store keeps of a session: a hash, so the store never holds a usable cookie."""
    return hashlib.sha256(session.encode()).hexdigest()[:32]


def _finished_file(store: JobStore, job_id: str) -> Path:
    """The job's MP4: 404 for no job, 409 before it is done, 410 once its files are deleted."""
    job = _job_or_404(store, job_id)
    if job.status != DONE:
        raise HTTPException(409, f"job {job_id} is {job.status}; the video is there once it is done")
    path = store.result_path(job_id)
    if job.files_deleted or not path.is_file():
        raise HTTPException(410, f"the video of job {job_id} is gone ({job.note or 'deleted'})")
    return path


def _verify_in_child(video: Path) -> dict[str, Any]:
    """`talkinghead verify --json` of our own output, in a child process (it decodes every frame)."""
    command = [sys.executable, "-m", "talkinghead", "verify", "--json", str(video)]
    try:
        child = subprocess.run(command, capture_output=True, timeout=VERIFY_TIMEOUT_S, check=False)
        report = json.loads(child.stdout)
    except (subprocess.TimeoutExpired, ValueError):
        log.error("verify of %s failed", video)
        raise HTTPException(503, "the provenance check did not finish; try again later") from None
    report.pop("path", None)  # a place on the server
    return report


def _job_or_404(store: JobStore, job_id: str) -> Any:
    job = store.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id[:64]}")
    return job


def _store_uploads(folder: Path, portrait: UploadFile, audio: UploadFile | None, contents: dict[str, Any],
                   settings: Settings, max_audio_seconds: float) -> tuple[str, str | None]:
    """Copy the uploads into the job's folder and check their headers (4xx on a bad one); their names there."""
    portrait_path = _save(portrait, folder, "portrait", settings.max_portrait_mb * MB)
    check_portrait(portrait_path, portrait.filename)
    audio_path = None
    if audio is not None:
        audio_path = _save(audio, folder, "audio", settings.max_audio_mb * MB)
        check_audio(audio_path, audio.filename, max_audio_seconds)
    for name, value in contents.items():
        file_name, limit = CONTENT_OPTIONS[name]
        data = value.encode() if isinstance(value, str) else _read_limited(value, limit, name)
        if len(data) > limit:
            raise HTTPException(413, f"{name} is over the limit of {limit // 1024} KB")
        (folder / file_name).write_bytes(data)
    return portrait_path.name, audio_path.name if audio_path else None


def _read_limited(upload: UploadFile, limit: int, role: str) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"{role} is over the limit of {limit // 1024} KB")
    return data


def _save(upload: UploadFile, folder: Path, role: str, limit: float) -> Path:
    """Copy an upload into the job's folder under a name of ours, refusing (413) one over its limit."""
    suffix = "".join(c for c in Path(upload.filename or "").suffix.lower() if c.isalnum() or c == ".")[:8]
    path = folder / f"{role}{suffix}"
    written = 0
    with path.open("wb") as out:
        while block := upload.file.read(MB):
            written += len(block)
            if written > limit:
                raise HTTPException(413, f"the {role} is over the limit of {limit / MB:g} MB")
            out.write(block)
    if not written:
        raise HTTPException(400, f"the {role} upload is empty")
    return path
