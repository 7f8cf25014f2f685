"""Video stage: frames + sound -> MP4 file."""

from __future__ import annotations

from talkinghead.video.mp4 import Mp4Writer, check_output_path

__all__ = ["Mp4Writer", "check_output_path"]
