"""Header checks of uploaded media in the request, before a job is queued: cheap, and nothing is decoded.

The request handler only reads what a file says about itself (an image's declared size, read here from its
first bytes; an audio file's streams and declared length, read by PyAV in a short-lived child process with
time and memory limits, never in the server's own); decoding runs in a worker process
(`talkinghead.server.jobs`), where the library's own checks apply and a native crash cannot take the server
down. An image declaring more than `MAX_PIXELS` is refused here, so a small file claiming 32000x32000 pixels is
never decoded.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from talkinghead.errors import TalkingHeadError
from talkinghead.face.image import MAX_PIXELS, MIN_SIDE, image_size

HEADER_BYTES = 1 << 20
PROBE_SCRIPT = Path(__file__).with_name("probe.py")
PROBE_LIMITS = (20.0, 10, 2 << 30)  # wall seconds, CPU seconds, bytes of address space for one probe
log = logging.getLogger("talkinghead.server")


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
    """400 unless the file opens as media with an audio track no longer than allowed (headers only, read by
    `probe.py` in a child process with `PROBE_LIMITS`: a crafted file can hang or crash only that child)."""
    shown = _shown(name, "the audio")
    found = _probe(path, shown)
    if "error" in found:
        raise HTTPException(400, f"cannot read audio from {shown}: not a media file PyAV understands")
    if not found.get("audio"):
        raise HTTPException(400, f"{shown} has no audio track; give a speech recording (WAV, MP3, FLAC, OGG, M4A)")
    declared = float(found.get("seconds") or 0.0)
    if declared > max_seconds:
        raise HTTPException(400, f"{shown} is {declared:.0f} s long; the limit is {max_seconds:g} s "
                                 "(max_audio_seconds)")


def _probe(path: Path, shown: str) -> dict[str, Any]:
    """What `probe.py` says about ``path``; 400 when the child runs out of time or memory, or dies."""
    seconds, cpu_seconds, memory = PROBE_LIMITS
    try:
        child = subprocess.run([sys.executable, "-I", str(PROBE_SCRIPT), str(path), str(cpu_seconds), str(memory)],
                               capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        raise HTTPException(400, f"reading {shown} took over {seconds:g} s; not a media file we accept") from None
    try:
        found = json.loads(child.stdout.decode().strip().splitlines()[-1]) if child.returncode == 0 else None
    except (ValueError, IndexError):
        found = None
    if not isinstance(found, dict):
        log.warning("audio probe of an upload exited %s: %s", child.returncode, child.stderr.decode()[-300:])
        raise HTTPException(400, f"cannot read audio from {shown}: reading its headers failed")
    return found


def _shown(name: str | None, role: str) -> str:
    """The client's name for the file (printable, short) or its role: never a path on the server."""
    if not name:
        return role
    clean = "".join(c for c in Path(name).name if c.isprintable())[:80]
    return clean or role
