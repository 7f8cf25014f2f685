"""Write frames and the speech's sound into a browser-playable MP4, atomically.

H.264 (yuv420p, faststart) + AAC through PyAV. Audio is encoded alongside the video, frame by frame, so
the file is interleaved and memory stays flat however long the clip is. Everything goes to a hidden
temporary file beside the target, renamed into place only once complete: a failed or interrupted render
leaves no half-written video behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
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
# One encoder thread. On the 2-core machines talkinghead is built for, drawing fills one core and encoding the
# other (`talkinghead.ahead`); x264's own threads (3 is what its "auto" picks there) only fought the renderer
# for them: benchmarks/speed.py end-to-end 55 -> 64 fps at 512 px and 24 -> 28 at 1024 (medians of paired
# runs), and 5% fewer bytes at the same crf. On a many-core machine this caps encoding near 200 fps at
# 512 px, far above real time.
X264_THREADS = 1
NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows file systems


def check_output_path(path: str | Path, overwrite: bool) -> Path:
    """Refuse, before any work, an output the render could not write."""
    path = Path(path)
    check_name_length(path, "output")
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
    try:  # some folders refuse files whatever their permissions say (/proc, a read-only mount)
        with tempfile.TemporaryFile(dir=parent, prefix=".talkinghead-probe-"):
            pass
    except OSError as exc:
        raise TalkingHeadError(f"cannot write {path}: folder {parent} does not take new files "
                               f"({exc.strerror or exc})") from None
    return path


def check_name_length(path: Path, what: str) -> None:
    """Refuse a file name the file system would refuse, with the limit, before any work."""
    length = len(os.fsencode(path.name))
    if length > NAME_MAX:
        raise TalkingHeadError(f"{what} name {path.name[:40]}... is {length} bytes long; file names can be at "
                               f"most {NAME_MAX}")


# Adaptive quantisation that spends more bits on plain (and dark) areas: with x264's default, a still plain
# backdrop loses its fine grain at crf 20 ("veryfast"), which reads as a faint smoothing pattern on walls
# and skies (1.13 grey levels RMS of excess detail on the Obama dev portrait's plain areas; 0.87 with this,
# for about 15% more bytes and no extra encoding time).
X264_PARAMS = "aq-mode=3:aq-strength=1.5"

# How a player must turn the stream back into RGB, written into the stream (H.264 VUI and the MP4 "colr" box).
# swscale converts our sRGB frames with the BT.601 matrix into limited range; an untagged stream leaves players
# to guess, and many guess BT.709 for HD sizes, which shifts skin tones by several levels (red +4 on the demo
# portrait). The values are FFmpeg's AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic /
# AVColorRange codes: SMPTE 170M (BT.601) matrix, BT.709 primaries (those of sRGB), the sRGB transfer, TV range.
COLOUR_TAGS = {"colorspace": 6, "color_primaries": 1, "color_trc": 13, "color_range": 1}


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
        # the hidden name keeps the start of the real one, short enough for any file-name limit
        self.temp = self.path.with_name(f".{self.path.name[:100]}.{uuid.uuid4().hex[:8]}.partial{self.path.suffix}")
        self.fps = Fraction(fps).limit_denominator(1001)
        self.audio = audio
        self.audio_rate = audio_rate
        self.frames_written = 0
        self._audio_pos = 0
        try:
            self.container = av.open(str(self.temp), mode="w", format="mp4",
                                     options={"movflags": "+faststart+use_metadata_tags"})
        except (OSError, av.error.FFmpegError) as exc:
            self.temp.unlink(missing_ok=True)
            raise TalkingHeadError(f"cannot write {self.path}: {exc}") from None
        try:
            self._add_streams(size, metadata, crf, preset, captions, language)
        except BaseException:
            self.abort()
            raise

    def _add_streams(self, size: int | tuple[int, int], metadata: dict[str, str] | None, crf: int,
                     preset: str, captions: Sequence[Caption] | None, language: str) -> None:
        audio, audio_rate = self.audio, self.audio_rate
        self.container.metadata.update(metadata or {})
        self.video = self.container.add_stream("libx264", rate=self.fps)
        self.video.width, self.video.height = (size, size) if isinstance(size, int) else size
        self.video.pix_fmt = "yuv420p"
        self.video.options = {"crf": str(crf), "preset": preset, "x264-params": X264_PARAMS}
        # A fixed encoder thread count: x264's bitstream depends on it, and "auto" follows the machine's cores,
        # so the same render would give different bytes on machines of different sizes.
        self.video.codec_context.thread_count = X264_THREADS
        for name, code in COLOUR_TAGS.items():
            setattr(self.video.codec_context, name, code)
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
        with self._writing():
            self._write(frame)

    def _write(self, frame: np.ndarray) -> None:
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        video_frame.pts = self.frames_written
        video_frame.time_base = 1 / self.fps
        self.container.mux(self.video.encode(video_frame))
        self.frames_written += 1
        self._write_audio_until(float(self.frames_written / self.fps))

    def close(self) -> Path:
        """Flush the encoders, finish the file and move it into place (or drop it if that fails)."""
        try:
            with self._writing():
                self._write_audio_until(None)
                self.container.mux(self.video.encode(None))
                if self.sound is not None:
                    self.container.mux(self.sound.encode(None))
                if self.subtitles is not None:
                    self.subtitles.mux()
                self.container.close()
                os.replace(self.temp, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write (a full disk, a folder gone) as one clear line instead of an encoder's error."""
        try:
            yield
        except (OSError, av.error.FFmpegError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise TalkingHeadError(f"cannot write {self.path}: {reason}") from None

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
