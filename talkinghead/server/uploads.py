"""Header checks of uploaded media in the request, before a job is queued: cheap, and nothing is decoded.

The request handler only reads what a file says about itself (an image's declared size, an audio file's
streams and declared length); decoding runs in a worker process (`talkinghead.server.jobs`), where the
library's own checks apply and a native crash cannot take the server down. An image declaring more than
`MAX_PIXELS` is refused here, so a small file claiming 32000x32000 pixels is never decoded.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException

from talkinghead.errors import TalkingHeadError
from talkinghead.face.image import MAX_PIXELS, MIN_SIDE, image_size

HEADER_BYTES = 1 << 20


def check_portrait(path: Path, name: str | None) -> tuple[int, int]:
    """The portrait's (width, height) from its header; 400 for a file that is not an image or is too big."""
    shown = _shown(name, "the portrait")
    with path.open("rb") as file:
        head = file.read(HEADER_BYTES)
    try:
        width, height = image_size(head)
    except TalkingHeadError:
        raise HTTPException(400, f"cannot read {shown} as an image (PNG, JPEG, WebP, BMP or TIFF expected)") from None
    check_pixels(width, height, shown)
    return width, height


def check_pixels(width: int, height: int, shown: str) -> None:
    """400 unless the declared size is within the pixel budget and big enough to hold a face."""
    if width * height > MAX_PIXELS:
        raise HTTPException(400, f"{shown} declares {width}x{height} pixels; the limit is "
                                 f"{MAX_PIXELS // 1_000_000} megapixels")
    if min(width, height) < MIN_SIDE:
        raise HTTPException(400, f"{shown} is {width}x{height} px; at least {MIN_SIDE} px on each side is needed")


def check_audio(path: Path, name: str | None, max_seconds: float) -> None:
    """400 unless the file opens as media with an audio track no longer than allowed (headers only)."""
    import av

    shown = _shown(name, "the audio")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise HTTPException(400, f"{shown} has no audio track; give a speech recording "
                                         "(WAV, MP3, FLAC, OGG, M4A)")
            declared = container.duration / 1_000_000 if container.duration else 0.0
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError):
        raise HTTPException(400, f"cannot read audio from {shown}: not a media file PyAV understands") from None
    if declared > max_seconds:
        raise HTTPException(400, f"{shown} is {declared:.0f} s long; the limit is {max_seconds:g} s "
                                 "(max_audio_seconds)")


def _shown(name: str | None, role: str) -> str:
    """The client's name for the file (printable, short) or its role: never a path on the server."""
    if not name:
        return role
    clean = "".join(c for c in Path(name).name if c.isprintable())[:80]
    return clean or role
