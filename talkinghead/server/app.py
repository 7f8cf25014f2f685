"""The HTTP API, the live WebSocket and the web page, as one FastAPI app (`create_app`)."""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from talkinghead import __version__
from talkinghead.assets import DEMO_PORTRAIT
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.server.forms import control_specs, controls_form
from talkinghead.server.jobs import CANCELLED, DONE, FINISHED, JobStore, QueueFull, Workers
from talkinghead.server.live_ws import LiveEndpoint
from talkinghead.server.metrics import Metrics

log = logging.getLogger("talkinghead.server")
STATIC = Path(__file__).resolve().parent / "static"
MB = 1024 * 1024
CONSENT_YES = ("yes", "true", "1", "on")


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

    @property
    def database(self) -> Path:
        return self.db_path or self.data_dir / "jobs.sqlite3"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    store = JobStore(settings.database, settings.data_dir)
    workers = Workers(store, settings.workers)
    metrics = Metrics()
    live = LiveEndpoint(metrics, settings.max_live_sessions, int(settings.max_portrait_mb * MB))
    max_body = int((settings.max_portrait_mb + settings.max_audio_mb + 1) * MB)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers.start()
        yield
        workers.stop()
        store.close()

    app = FastAPI(title="talkinghead", version=__version__, lifespan=lifespan,
                  description="One portrait + speech -> a talking-head video, marked as AI-generated. "
                              "Render jobs (`/v1/videos`), live streaming (`WS /v1/live`, see docs/server.md).")
    app.state.store, app.state.workers, app.state.settings = store, workers, settings

    @app.middleware("http")
    async def limit_and_count(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            response: Response = JSONResponse(
                {"detail": f"upload of {int(length) / MB:.1f} MB is over the limit of {max_body / MB:.0f} MB"},
                status_code=413)
        else:
            response = await call_next(request)
        metrics.count_request(response.status_code)
        return response

    @app.exception_handler(TalkingHeadError)
    async def user_error(request: Request, exc: TalkingHeadError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Liveness: answers while renders run."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"])
    def prometheus() -> str:
        """Prometheus text format: jobs by status, queue depth, render fps, live frames and latency."""
        return metrics.render(store.counts(), settings.workers, workers.last_fps)

    @app.get("/v1/controls", tags=["videos"])
    def controls() -> list[dict[str, Any]]:
        """The render options (the same as the CLI flags): name, type, default, help."""
        return control_specs()

    @app.get("/v1/sample-portrait", tags=["videos"], response_class=FileResponse)
    def sample_portrait() -> FileResponse:
        """The bundled sample portrait (NASA astronaut photo, public domain)."""
        return FileResponse(DEMO_PORTRAIT, media_type="image/png")

    def busy() -> JSONResponse:
        waiting = store.counts()["queued"]
        wait = math.ceil((waiting + 1) * store.mean_render_seconds() / max(settings.workers, 1))
        return JSONResponse({"detail": f"the queue is full ({waiting} jobs waiting); retry later"},
                            status_code=429, headers={"Retry-After": str(max(1, wait))})

    @app.post("/v1/videos", status_code=202, tags=["videos"])
    def submit(request: Request,
               portrait: Annotated[UploadFile, File(description="photo with one clearly visible face")],
               consent: Annotated[str, Form(description="required: 'yes' attests that you have the right to "
                                                        "animate this person's likeness with this voice")],
               options: Annotated[dict[str, Any], Depends(controls_form())],
               audio: Annotated[UploadFile | None, File(description="speech: WAV, MP3, FLAC, OGG, M4A, WebM, ... "
                                                                   "(leave out when `text` is given)")] = None,
               ) -> JSONResponse:
        """Queue a render; answers the job (poll `GET /v1/videos/{id}`). 429 with Retry-After when full."""
        if consent.strip().lower() not in CONSENT_YES:
            raise HTTPException(422, "consent must be 'yes': attest that you may animate this person's likeness")
        if store.counts()["queued"] >= settings.max_queue:  # cheap early answer; `add` checks again, atomically
            return busy()
        controls = Controls.from_options(options)
        if (audio is None) == (controls.text is None):
            raise HTTPException(422, "give either an audio file or text (exactly one of them)")
        job_id, folder = store.new_folder()
        try:
            portrait_path = _save(portrait, folder, "portrait", settings.max_portrait_mb)
            audio_path = _save(audio, folder, "audio", settings.max_audio_mb) if audio is not None else None
            _check_inputs(portrait_path, portrait.filename, audio_path, audio.filename if audio else None,
                          controls)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        client = request.client.host if request.client else ""
        try:
            job = store.add(job_id, options, portrait_path, audio_path, consent, client, settings.max_queue)
        except QueueFull:
            shutil.rmtree(folder, ignore_errors=True)
            return busy()
        workers.wake()
        return JSONResponse(job.public(), status_code=202, headers={"Location": f"/v1/videos/{job_id}"})

    @app.get("/v1/videos/{job_id}", tags=["videos"])
    def status(job_id: str) -> dict[str, Any]:
        """Status (queued, running, done, failed, cancelled), progress 0-1, and the error if it failed."""
        return _job_or_404(store, job_id).public()

    @app.get("/v1/videos/{job_id}/file", tags=["videos"], response_class=FileResponse)
    def result(job_id: str) -> FileResponse:
        """The MP4 once the job is done (409 before)."""
        job = _job_or_404(store, job_id)
        if job.status != DONE:
            raise HTTPException(409, f"job {job_id} is {job.status}; the video is there once it is done")
        return FileResponse(store.result_path(job_id), media_type="video/mp4", filename=f"talkinghead-{job_id}.mp4")

    @app.delete("/v1/videos/{job_id}", tags=["videos"])
    def cancel(job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (its uploads are deleted); a finished job is left as it is."""
        job = _job_or_404(store, job_id)
        if job.status not in FINISHED:
            job = store.cancel(job_id) or job
        if job.status != CANCELLED and job.status not in FINISHED:
            raise HTTPException(409, f"job {job_id} could not be cancelled")
        return job.public()

    app.add_api_websocket_route("/v1/live", live)
    return app


def _job_or_404(store: JobStore, job_id: str) -> Any:
    job = store.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return job


def _save(upload: UploadFile, folder: Path, role: str, limit_mb: float) -> Path:
    """Copy an upload into the job's folder, refusing (413) one over its limit."""
    suffix = "".join(c for c in Path(upload.filename or "").suffix.lower() if c.isalnum() or c == ".")[:8]
    path = folder / f"{role}{suffix}"
    written = 0
    with path.open("wb") as out:
        while block := upload.file.read(MB):
            written += len(block)
            if written > limit_mb * MB:
                raise HTTPException(413, f"the {role} is over the limit of {limit_mb:g} MB")
            out.write(block)
    if not written:
        raise HTTPException(400, f"the {role} upload is empty")
    return path


def _check_inputs(portrait: Path, portrait_name: str | None, audio: Path | None, audio_name: str | None,
                  controls: Controls) -> None:
    """Refuse unreadable files now (400), with the pipeline's own messages naming the uploaded files."""
    from talkinghead.audio import load_speech
    from talkinghead.face.image import load_image

    try:
        load_image(portrait)
    except TalkingHeadError as exc:
        raise HTTPException(400, str(exc).replace(str(portrait), portrait_name or "the portrait")) from None
    if audio is None:
        return
    try:
        load_speech(audio, controls.max_audio_seconds)
    except TalkingHeadError as exc:
        raise HTTPException(400, str(exc).replace(str(audio), audio_name or "the audio")) from None
