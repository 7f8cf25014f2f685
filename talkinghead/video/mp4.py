"""Write frames and the speech's sound into a browser-playable MP4, atomically.

H.264 (yuv420p, faststart) + AAC through PyAV. Audio is encoded alongside the video, frame by frame, so
the file is interleaved and memory stays flat however long the clip is. Everything goes to a hidden
temporary file beside the target, renamed into place only once complete: a failed or interrupted render
leaves no half-written video behind.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from talkinghead.captions import Caption
from talkinghead.errors import TalkingHeadError
from talkinghead.video.subtitles import SubtitleTrack

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")
AAC_FRAME = 1024
X264_THREADS = 3  # what x264's "auto" picks on a 2-core machine


def check_output_path(path: str | Path, overwrite: bool) -> Path:
    """Refuse, before any work, an output the render could not write."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise TalkingHeadError(f"output {path} must end in {', '.join(VIDEO_SUFFIXES)}")
    if path.is_dir():
        raise TalkingHeadError(f"output {path} is a directory; give a file name such as {path / 'out.mp4'}")
    if path.exists() and not overwrite:
        raise TalkingHeadError(f"output {path} already exists; pass -y to overwrite it")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise TalkingHeadError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TalkingHeadError(f"cannot write {path}: no permission to write in {parent}")
    return path


class Mp4Writer:
    """Context manager: ``with Mp4Writer(...) as out: out.write(frame)``; renames into place on success.

    Args:
        path: the final file.
        size: frame side (square) or (width, height); both even.
        fps: frame rate.
        audio: float32 (channels, n) sound track, or None for a silent video.
        audio_rate: sample rate of ``audio``.
        metadata: container tags.
        crf: x264 quality (lower is better and larger).
        captions: cues for a soft subtitle track (``mov_text``), or None for none.
        language: ISO 639-1 language of the captions.
    """

    def __init__(self, path: str | Path, size: int | tuple[int, int], fps: float, audio: np.ndarray | None,
                 audio_rate: int, metadata: dict[str, str] | None = None, crf: int = 20,
                 preset: str = "veryfast", captions: Sequence[Caption] | None = None,
                 language: str = "und") -> None:
        self.path = Path(path)
        self.temp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.partial{self.path.suffix}")
        self.fps = Fraction(fps).limit_denominator(1001)
        self.audio = audio
        self.audio_rate = audio_rate
        self.frames_written = 0
        self._audio_pos = 0
        try:
            self.container = av.open(str(self.temp), mode="w", format="mp4",
                                     options={"movflags": "+faststart+use_metadata_tags"})
        except (OSError, av.error.FFmpegError) as exc:
            raise TalkingHeadError(f"cannot write {self.path}: {exc}") from None
        self.container.metadata.update(metadata or {})
        self.video = self.container.add_stream("libx264", rate=self.fps)
        self.video.width, self.video.height = (size, size) if isinstance(size, int) else size
        self.video.pix_fmt = "yuv420p"
        self.video.options = {"crf": str(crf), "preset": preset}
        # A fixed encoder thread count: x264's bitstream depends on it, and "auto" follows the machine's cores,
        # so the same render would give different bytes on machines of different sizes.
        self.video.codec_context.thread_count = X264_THREADS
        self.sound = None
        if audio is not None:
            layout = "mono" if audio.shape[0] == 1 else "stereo"
            self.sound = self.container.add_stream("aac", rate=audio_rate, layout=layout)
            self.sound.bit_rate = 128_000 if layout == "mono" else 192_000
        self.subtitles = SubtitleTrack(self.container, captions, language) if captions else None

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB uint8 frame (and the sound up to the end of that frame)."""
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        video_frame.pts = self.frames_written
        video_frame.time_base = 1 / self.fps
        self.container.mux(self.video.encode(video_frame))
        self.frames_written += 1
        self._write_audio_until(float(self.frames_written / self.fps))

    def close(self) -> Path:
        """Flush the encoders, finish the file and move it into place."""
        self._write_audio_until(None)
        self.container.mux(self.video.encode(None))
        if self.sound is not None:
            self.container.mux(self.sound.encode(None))
        if self.subtitles is not None:
            self.subtitles.mux()
        self.container.close()
        os.replace(self.temp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        with contextlib.suppress(OSError, av.error.FFmpegError, ValueError):
            self.container.close()
        self.temp.unlink(missing_ok=True)

    def _write_audio_until(self, seconds: float | None) -> None:
        if self.sound is None or self.audio is None:
            return
        total = self.audio.shape[1]
        end = total if seconds is None else min(total, int(seconds * self.audio_rate))
        while self._audio_pos + AAC_FRAME <= end or (seconds is None and self._audio_pos < end):
            chunk = np.ascontiguousarray(self.audio[:, self._audio_pos : self._audio_pos + AAC_FRAME])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.sound.layout.name)
            frame.sample_rate = self.audio_rate
            frame.pts = self._audio_pos
            frame.time_base = Fraction(1, self.audio_rate)
            self.container.mux(self.sound.encode(frame))
            self._audio_pos += chunk.shape[1]
