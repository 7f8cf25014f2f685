"""What the API answers, as types for the OpenAPI schema (`/docs`, `/openapi.json`): jobs, errors, options."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
JobStage = Literal["queued", "analysing speech", "rendering", "encoding", "done", "failed", "cancelled"]


class JobView(BaseModel):
    """A render job as `GET /v1/videos/{id}` shows it."""

    id: str
    status: JobStatus
    stage: JobStage = Field(description="where the job is; `analysing speech` until the first frame is drawn")
    progress: float = Field(ge=0, le=1, description="frames drawn / frames to draw")
    frames: int = Field(description="frames drawn so far (all of them once done)")
    total_frames: int | None = Field(None, description="frames to draw, once the first are drawn")
    analysis_progress: float | None = Field(None, ge=0, le=1, description="share of the speech analysed, while "
                                            "`analysing speech` (when the analysis reports it: transcription and "
                                            "alignment)")
    eta_s: float | None = Field(None, description="seconds until the frames are drawn, once measurable")
    created: float = Field(description="Unix time the job was queued")
    updated: float = Field(description="Unix time of its last change")
    controls: dict[str, Any] = Field(description="the options the job renders with")
    attempts: int
    error: str = Field(description="why it failed (empty otherwise)")
    note: str
    fps: float | None = Field(description="render speed (frames drawn per second), once done")
    file: str | None = Field(description="where the MP4 is, once done")
    captions: str | None = Field(None, description="where its WebVTT captions are, once done, when the words "
                                                   "of the speech are known")


class JobList(BaseModel):
    jobs: list[JobView]


class ControlSpec(BaseModel):
    """One render option, with what a form needs to draw it."""

    name: str
    type: Literal["int", "float", "str", "bool", "tuple"]
    default: Any
    help: str
    label: str
    choices: list[str] | None
    suggestions: list[str] | None
    min: float | None
    max: float | None
    step: float | None
    group: Literal["common", "speech", "speech-any", "speech-recorded", "advanced"]
    content: bool = Field(description="takes a file's content (upload or inline text)")
    pitch_range: tuple[float, float, float] | None = None


class FindingView(BaseModel):
    check: str = Field(description="watermark, metadata, manifest or label")
    found: bool
    confidence: float = Field(ge=0, le=1)
    detail: str


class VerifyView(BaseModel):
    """What `talkinghead verify` finds in a finished video."""

    kind: Literal["video", "image"]
    talkinghead_provenance: bool = Field(description="found by the watermark, the metadata or the manifest")
    confidence: float = Field(ge=0, le=1)
    video_id: str | None
    findings: list[FindingView]


class ErrorView(BaseModel):
    detail: str | list[dict[str, Any]]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, each with its meaning here."""
    return {code: {"model": ErrorView, "description": ERROR_MEANINGS[code]} for code in codes}


ERROR_MEANINGS = {
    400: "an upload that cannot be read, or an image over the pixel budget",
    401: "the server has a token and the request does not carry it",
    403: "a cross-site request",
    404: "no such job",
    409: "the job is not done (or could not be cancelled)",
    410: "the job's files were deleted",
    411: "an upload without Content-Length",
    413: "an upload over its size limit",
    422: "a bad or unknown option, missing consent, or neither/both of audio and text",
    429: "the queue is full; retry after Retry-After seconds",
    503: "the check could not finish now; retry later",
}
