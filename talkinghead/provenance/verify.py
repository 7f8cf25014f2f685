"""What `talkinghead verify` checks in a file: watermark, container metadata, C2PA manifest, visible label.

Each check gives a `Finding` with a confidence in 0..1. The watermark is the strong signal (it survives
re-encoding, rescaling and crops; a false reading needs an energy peak and a matching CRC-16 by chance); the
metadata and the manifest are exact when present but vanish on re-encoding or are easy to strip or forge;
the label is a visible hint that anyone can crop away or paint on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.face.image import MIN_SIDE, check_pixel_budget, image_size
from talkinghead.input_files import check_regular_file
from talkinghead.provenance.credentials import read_manifest
from talkinghead.provenance.label import DEFAULT_TEXT, VisibleLabel
from talkinghead.provenance.media import Media, open_media
from talkinghead.provenance.watermark import SYNC_THRESHOLD, Accumulator, Reading

LABEL_MATCH = 0.6  # normalised template correlation above which the default label counts as seen


@dataclass
class Finding:
    check: str
    found: bool
    confidence: float
    detail: str


@dataclass
class Report:
    path: str
    kind: str
    findings: list[Finding] = field(default_factory=list)
    video_id: str | None = None

    @property
    def found(self) -> bool:
        """Talkinghead provenance found: any check but the label (a label alone proves nothing)."""
        return any(f.found for f in self.findings if f.check != "label")

    @property
    def confidence(self) -> float:
        return max((f.confidence for f in self.findings if f.check != "label"), default=0.0)

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "talkinghead_provenance": self.found,
                "confidence": round(self.confidence, 3), "video_id": self.video_id,
                "findings": [asdict(f) for f in self.findings]}


def verify(path: str | Path) -> Report:
    """Check ``path`` (video or image); raises `TalkingHeadError` when it cannot be read."""
    media = open_media(path)
    check_frame_size(media)
    accumulator = Accumulator()
    label_frames = []
    for frame in media.frames():
        accumulator.add(frame)
        if len(label_frames) < 10:
            label_frames.append(frame)
    if accumulator.frames == 0:
        raise TalkingHeadError(f"{media.path} has no frames to check")
    reading = accumulator.read()
    report = Report(str(media.path), "image" if media.is_image else "video")
    report.findings.append(_watermark_finding(reading))
    report.video_id = reading.payload.video_id if reading.payload else None
    if not media.is_image:
        report.findings.append(_metadata_finding(media.tags, report.video_id))
        report.video_id = report.video_id or media.tags.get("talkinghead_id")
    manifest = read_manifest(media.path)
    report.findings.append(Finding("manifest", manifest.by_talkinghead, 1.0 if manifest.by_talkinghead else 0.0,
                                   manifest.detail))
    report.findings.append(_label_finding(np.mean(label_frames, axis=0).astype(np.uint8)))
    return report


def check_frame_size(media: Media) -> None:
    """Refuse, before any pixel is decoded, frames too small to carry the marks or too large to decode safely
    (a header may declare 100000x100000 pixels in a file of a few bytes)."""
    check_regular_file(media.path, "file")
    if media.is_image:
        width, height = image_size(media.path)
    else:
        width, height = _declared_video_size(media.path)
    if width and height:
        check_pixel_budget(width, height, str(media.path))
        if min(width, height) < MIN_SIDE:
            raise TalkingHeadError(f"{media.path} is {width}x{height} px: too small to carry talkinghead's watermark "
                                   f"or label (they need at least {MIN_SIDE} px a side)")


def _declared_video_size(path: Path) -> tuple[int, int]:
    """The first video stream's frame size as its container declares it (0, 0 when it does not say)."""
    try:
        with av.open(str(path)) as container:
            context = container.streams.video[0].codec_context
            return int(context.width or 0), int(context.height or 0)
    except (av.error.FFmpegError, IndexError) as exc:
        raise TalkingHeadError(f"cannot read {path} as a video: {exc}") from None


def _watermark_finding(reading: Reading) -> Finding:
    if reading.payload:
        return Finding("watermark", True, reading.confidence,
                       f"talkinghead {reading.payload.version}, video id {reading.payload.video_id} "
                       f"(sync {reading.sync_score:.1f}, {reading.frames} frames read)")
    if reading.sync_score >= SYNC_THRESHOLD:
        return Finding("watermark", False, 0.5, f"the watermark pattern was seen (score {reading.sync_score:.1f}) but "
                       "the payload could not be read; the file may have been degraded")
    return Finding("watermark", False, 0.0, f"none found ({reading.frames} frames read)")


def _metadata_finding(tags: dict[str, str], watermark_id: str | None) -> Finding:
    video_id = tags.get("talkinghead_id")
    says_ai = tags.get("synthetic") == "true" or "AI-generated" in tags.get("comment", "")
    if not (video_id or says_ai):
        return Finding("metadata", False, 0.0, "no talkinghead tags (they are lost on most re-encodes)")
    detail = f"tags say AI-generated by talkinghead; id {video_id}"
    if watermark_id and video_id and video_id != watermark_id:
        return Finding("metadata", True, 0.5, detail + f", which differs from the watermark's {watermark_id}")
    return Finding("metadata", True, 0.9, detail + (" (matches the watermark)" if watermark_id else ""))


def _label_finding(frame: np.ndarray) -> Finding:
    """Look for the default label, at the frame's own size, in the four corners."""
    height, width = frame.shape[:2]
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    template = cv2.cvtColor(VisibleLabel(width).colour.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    th, tw = template.shape
    best = 0.0
    strip = max(th * 3, height // 6)
    for region in (gray[:strip], gray[height - strip :]):
        if region.shape[0] >= th and region.shape[1] >= tw:
            best = max(best, float(cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED).max()))
    if best >= LABEL_MATCH:
        return Finding("label", True, round(best, 3), f"visible '{DEFAULT_TEXT}' label seen (match {best:.2f})")
    return Finding("label", False, 0.0, f"default '{DEFAULT_TEXT}' label not seen (best match {best:.2f}; "
                   "custom or rescaled labels are not recognised)")
