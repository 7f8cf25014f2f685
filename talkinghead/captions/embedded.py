"""Captions read back from an MP4's soft subtitle track (``mov_text``, which `talkinghead.video` writes).

The server serves a finished video's captions as WebVTT for the web page's ``<track>``: read from the video
itself, its own output, so a render need not be asked for a caption sidecar (an option that would change
the render's id and so its watermark).
"""

from __future__ import annotations

from pathlib import Path

from talkinghead.captions import Caption
from talkinghead.input_files import open_av


def soft_captions(video: str | Path) -> list[Caption]:
    """The cues of the first subtitle track of ``video`` (none when it has no subtitle track)."""
    cues = []
    with open_av(video) as container:
        if not container.streams.subtitles:
            return []
        stream = container.streams.subtitles[0]
        for packet in container.demux(stream):
            if packet.pts is None or not packet.duration:
                continue
            start = float(packet.pts * packet.time_base)
            end = start + float(packet.duration * packet.time_base)
            for subtitle in packet.decode():
                text = bytes(subtitle.dialogue).decode("utf-8", "replace").strip()
                if text:
                    cues.append(Caption(start, end, tuple(text.splitlines())))
    return cues
