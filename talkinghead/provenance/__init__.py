"""Provenance stage: every video says it is synthetic.

The visible label (`label`), the invisible watermark (`watermark`), the container metadata
(`video_metadata`), optional C2PA content credentials (`credentials`) and what `talkinghead verify` reads
(`verify`).
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from talkinghead import __version__
from talkinghead.provenance.label import DEFAULT_TEXT, VisibleLabel
from talkinghead.provenance.watermark import ID_HEX, Watermark

GENERATOR = "talkinghead"


def new_video_id() -> str:
    """A fresh random id (for frames made without known inputs)."""
    return uuid.uuid4().hex[:ID_HEX]


def video_id_for(portrait: str | Path | np.ndarray, audio: str | Path | None, controls: Any) -> str:
    """The id of the video made from these inputs: a hash of portrait, audio (none for ``--text``, which
    the controls hold), controls and version.

    Deterministic on purpose: the same inputs, controls and seed give the same id, so the same MP4 byte for
    byte (batch jobs and caches depend on it). 8 hex digits: the watermark carries all 32 bits.
    """
    digest = hashlib.sha256(f"{GENERATOR} {__version__}\n{controls!r}\n".encode())
    if isinstance(portrait, np.ndarray):
        digest.update(f"{portrait.shape} {portrait.dtype}".encode())
        digest.update(np.ascontiguousarray(portrait).tobytes())
    else:
        digest.update(Path(portrait).read_bytes())
    if audio is not None:
        digest.update(Path(audio).read_bytes())
    return digest.hexdigest()[:ID_HEX]


class FrameMarker:
    """Everything drawn into each frame of one video: the visible label (when the controls ask for it) and the
    watermark (always). File renders and live streams mark their frames through this one class."""

    def __init__(self, controls: Any, width: int, height: int, video_id: str) -> None:
        self.label = VisibleLabel((width, height), controls.label_text, controls.label_position,
                                  controls.label_scale) if controls.label else None
        self.watermark = Watermark(video_id, height, width)

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Mark the RGB uint8 ``frame`` in place and return it."""
        return self.watermark.apply(self.label.apply(frame) if self.label else frame)


def video_metadata(video_id: str, controls: Any = None) -> dict[str, str]:
    """MP4 tags that state the video is AI-generated, by which tool and version, and its id; and the visible
    label's text, corner and scale when ``controls`` draw one (so that `verify` can find a label in any
    language)."""
    note = f"AI-generated video made by {GENERATOR} {__version__}; id {video_id}"
    tags = {
        "comment": note,
        "description": note,
        "synthetic": "true",
        "talkinghead_id": video_id,
    }
    if controls is not None and controls.label:
        tags.update(talkinghead_label=controls.label_text, talkinghead_label_position=controls.label_position,
                    talkinghead_label_scale=f"{controls.label_scale:g}")
    return tags


__all__ = ["DEFAULT_TEXT", "FrameMarker", "VisibleLabel", "Watermark", "new_video_id", "video_id_for", "video_metadata"]
