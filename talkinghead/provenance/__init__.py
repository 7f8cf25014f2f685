"""Provenance stage: every video says it is synthetic.

Now: the visible label and the container metadata (`video_metadata`). The invisible watermark,
content credentials and `talkinghead verify` build on this package.
"""

from __future__ import annotations

import hashlib
import uuid

from talkinghead import __version__
from talkinghead.provenance.label import DEFAULT_TEXT, VisibleLabel

GENERATOR = "talkinghead"


def new_video_id(*inputs: object) -> str:
    """The id of one rendered video (recorded in its metadata).

    Derived from ``inputs`` when given (the same inputs give the same id, so the same render gives the same
    bytes wherever it runs); random otherwise.
    """
    if not inputs:
        return uuid.uuid4().hex
    digest = hashlib.sha256()
    for part in inputs:
        digest.update(part if isinstance(part, bytes) else repr(part).encode())
    return digest.hexdigest()[:32]


def video_metadata(video_id: str) -> dict[str, str]:
    """MP4 tags that state the video is AI-generated, by which tool and version, and its id."""
    note = f"AI-generated video made by {GENERATOR} {__version__}; id {video_id}"
    return {
        "comment": note,
        "description": note,
        "synthetic": "true",
        "talkinghead_id": video_id,
    }


__all__ = ["DEFAULT_TEXT", "VisibleLabel", "new_video_id", "video_metadata"]
