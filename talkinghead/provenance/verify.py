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
from talkinghead.input_files import check_regular_file, open_av
from talkinghead.provenance.credentials import ManifestFinding, read_manifest
from talkinghead.provenance.label import DEFAULT_TEXT, POSITIONS, VisibleLabel
from talkinghead.provenance.media import Media, open_media
from talkinghead.provenance.watermark import SYNC_THRESHOLD, Accumulator, Reading

LABEL_MATCH = 0.6  # normalised template correlation above which the label counts as seen
LABEL_SCALES = (1.0, 0.5, 0.75, 1.5, 2.0, 3.0, 4.0)  # scales tried when the file's tags do not give the label
LABEL_TAG = "talkinghead_label"  # the MP4 tags that `video_metadata` writes for the label
LABEL_POSITION_TAG, LABEL_SCALE_TAG = "talkinghead_label_position", "talkinghead_label_scale"
SHRUNK_FROM = (0.75, 2 / 3, 0.5)  # frames up to SHRUNK_UP_TO px are also searched for a label drawn larger
SHRUNK_UP_TO = 512
SHRUNK_LABEL_MATCH = 0.75  # a shrunk label is a few pixels high, a blur that faces and hair resemble more (up to
#                            0.66 on unlabelled portraits at 256-768 px, against 0.41 for labels at full size)


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
    report.findings.append(_manifest_finding(read_manifest(media.path), report.video_id))
    report.findings.append(_label_finding(np.mean(label_frames, axis=0).astype(np.uint8), media.tags))
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
        with open_av(path) as container:
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


def _manifest_finding(manifest: ManifestFinding, watermark_id: str | None) -> Finding:
    """The C2PA manifest, apart from the watermark: who signed it, trusted or not, and its video id."""
    detail = manifest.detail
    if manifest.video_id:
        detail += f"; id {manifest.video_id}"
        if watermark_id and watermark_id != manifest.video_id:
            detail += f", which differs from the watermark's {watermark_id}"
            return Finding("manifest", manifest.by_talkinghead, 0.5 if manifest.by_talkinghead else 0.0, detail)
        if watermark_id:
            detail += " (matches the watermark)"
    return Finding("manifest", manifest.by_talkinghead, 1.0 if manifest.by_talkinghead else 0.0, detail)


def _metadata_finding(tags: dict[str, str], watermark_id: str | None) -> Finding:
    video_id = tags.get("talkinghead_id")
    says_ai = tags.get("synthetic") == "true" or "AI-generated" in tags.get("comment", "")
    if not (video_id or says_ai):
        return Finding("metadata", False, 0.0, "no talkinghead tags (they are lost on most re-encodes)")
    if not video_id:  # a re-encode that kept the comment but dropped our own tags
        return Finding("metadata", True, 0.9, "tags say AI-generated; no talkinghead video id in them")
    detail = f"tags say AI-generated by talkinghead; id {video_id}"
    if watermark_id and video_id != watermark_id:
        return Finding("metadata", True, 0.5, detail + f", which differs from the watermark's {watermark_id}")
    return Finding("metadata", True, 0.9, detail + (" (matches the watermark)" if watermark_id else ""))


def _label_finding(frame: np.ndarray, tags: dict[str, str]) -> Finding:
    """Look for the visible label in the four corners, as drawn at the frame's own size and, on small frames,
    as drawn on a larger frame and downscaled with it (a copy a platform shrank: the label of a 512-px render
    halved is 7 px high, where a 256-px render draws its smallest, 9 px).

    The text, corner and scale come from the file's tags when it has them (any language); otherwise the
    default text is looked for at the usual scales in every corner.
    """
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    shrinks = (1.0,) + (SHRUNK_FROM if min(gray.shape) <= SHRUNK_UP_TO else ())
    text, positions, scales = _label_looked_for(tags)
    best, seen = 0.0, 0.0
    for position in positions:
        for scale in scales:
            for shrink in shrinks:
                drawn_on = (round(gray.shape[1] / shrink), round(gray.shape[0] / shrink))
                try:
                    match = _label_match(gray, VisibleLabel(drawn_on, text, position, scale), shrink)
                except ValueError:  # a tag the font cannot draw: nothing to look for
                    continue
                best = max(best, match)
                if match >= (LABEL_MATCH if shrink == 1.0 else SHRUNK_LABEL_MATCH):
                    seen = max(seen, match)
    if seen:
        return Finding("label", True, round(seen, 3), f"visible label {text!r} seen (match {seen:.2f})")
    return Finding("label", False, 0.0, f"visible label {text!r} not seen (best match {best:.2f}; custom labels "
                   "without their tags are not recognised)")


def _label_looked_for(tags: dict[str, str]) -> tuple[str, list[str], list[float]]:
    """The label's text, corners and scales to look for: those the file's tags give, else the default text at
    the usual scales in every corner."""
    tagged = tags.get(LABEL_TAG)
    positions = [tags[LABEL_POSITION_TAG]] if tagged and tags.get(LABEL_POSITION_TAG) in POSITIONS else POSITIONS
    try:
        scales = [float(tags[LABEL_SCALE_TAG])] if tagged else list(LABEL_SCALES)
    except (KeyError, ValueError):
        scales = list(LABEL_SCALES)
    return tagged or DEFAULT_TEXT, list(positions), scales


def _label_match(gray: np.ndarray, label: VisibleLabel, shrink: float = 1.0) -> float:
    """Normalised correlation of ``label`` (drawn on mid grey, on a frame 1 / ``shrink`` the size of ``gray``
    and shrunk with it) with the frame near where it would be."""
    height, width = label.alpha.shape[:2]
    template = label.over(np.full((height, width, 3), 128, np.uint8))
    template = cv2.cvtColor(template, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if shrink != 1.0:
        height, width = max(1, round(height * shrink)), max(1, round(width * shrink))
        template = cv2.resize(template, (width, height), interpolation=cv2.INTER_AREA)
    y0, x0 = round(label.y0 * shrink), round(label.x0 * shrink)
    slack = max(4, height // 4)
    top, left = max(0, y0 - slack), max(0, x0 - slack)
    region = gray[top : y0 + height + slack, left : x0 + width + slack]
    if region.shape[0] < height or region.shape[1] < width or template.std() == 0:
        return 0.0
    return float(cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED).max())
