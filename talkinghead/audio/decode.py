"""Decode any audio PyAV can read (WAV, MP3, FLAC, OGG, M4A, a video's sound track) in one pass.

Two copies come out of the one pass: mono 16 kHz float32 for analysis, and the original rate with at most
two channels for the output video's sound track, so the viewer hears the recording as it was given.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.input_files import check_regular_file, open_av

ANALYSIS_RATE = 16_000
# AAC rates up to 48 kHz: higher ones add nothing a listener hears, and would double the memory a long
# recording takes (10 minutes of 96 kHz stereo held as float32 is 460 MB, and more while it is assembled).
OUTPUT_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


def decode_audio(path: str | Path, max_seconds: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Return ``(analysis, original, original_rate)``.

    ``analysis`` is mono float32 at 16 kHz; ``original`` is float32 of shape (channels, n) with
    1 or 2 channels at ``original_rate`` (a rate AAC can carry). Raises :class:`TalkingHeadError` for a
    missing, unreadable, corrupt, empty or too long file.
    """
    path = Path(path)
    if not path.exists():
        raise TalkingHeadError(f"audio file not found: {path}")
    check_regular_file(path, "audio")  # a device or FIFO would feed the decoder forever
    try:
        container = open_av(path)
    except av.error.FFmpegError as exc:
        raise TalkingHeadError(
            f"cannot read audio from {path}: not a media file PyAV understands ({exc.strerror})"
        ) from None
    with container:
        if not container.streams.audio:
            raise TalkingHeadError(f"{path} has no audio track; give a speech recording (WAV, MP3, FLAC, OGG, M4A)")
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise TalkingHeadError(f"cannot decode audio in {path}: its codec is unknown or the file is corrupt")
        _check_declared_length(container, path, max_seconds)
        rate = stream.codec_context.sample_rate or ANALYSIS_RATE
        out_rate = min(OUTPUT_RATES, key=lambda r: (abs(r - rate), -r))
        layout = "mono" if (stream.codec_context.channels or 1) == 1 else "stereo"
        copies = _TwoCopies(layout, out_rate)
        seen = 0.0
        try:
            for frame in container.decode(stream):
                copies.add(frame)
                seen += frame.samples / (frame.sample_rate or rate)
                if seen > max_seconds:
                    raise TalkingHeadError(_too_long(path, seen, max_seconds))
            copies.drain()
        except av.error.FFmpegError as exc:
            raise TalkingHeadError(f"cannot decode audio in {path}: the file is corrupt ({exc.strerror})") from None
        except ValueError:  # a frame PyAV cannot resample at all (no rate, an unknown layout)
            raise TalkingHeadError(f"cannot decode audio in {path}: the file is corrupt (a frame with no usable "
                                   "sample rate or channel layout)") from None
    if not copies.analysis or sum(a.size for a in copies.analysis) < ANALYSIS_RATE // 100:
        raise TalkingHeadError(f"{path} contains no audio samples")
    return (
        np.concatenate(copies.analysis).astype(np.float32),
        np.concatenate(copies.original, axis=1).astype(np.float32),
        out_rate,
    )


class _TwoCopies:
    """Decoded frames resampled into the two copies: mono at ``ANALYSIS_RATE``, and ``layout`` at ``out_rate``.

    A stream may change its rate, channel layout or sample format part-way (MP3s joined end to end, a damaged
    frame header); PyAV's resampler refuses a frame unlike the first it saw, so for such a frame the
    resamplers are drained and started anew (their output is the same either way)."""

    def __init__(self, layout: str, out_rate: int) -> None:
        self.layout, self.out_rate = layout, out_rate
        self.analysis: list[np.ndarray] = []
        self.original: list[np.ndarray] = []
        self.signature: tuple[str, str, int] | None = None
        self.resamplers: tuple[av.AudioResampler, ...] = ()

    def add(self, frame: av.AudioFrame) -> None:
        signature = (frame.format.name, frame.layout.name, frame.sample_rate)
        if signature != self.signature:
            self.drain()
            self.resamplers = (av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_RATE),
                               av.AudioResampler(format="fltp", layout=self.layout, rate=self.out_rate))
            self.signature = signature
        frame.pts = None
        self._keep(frame)

    def drain(self) -> None:
        """What the resamplers still hold (at the end, or before they are replaced)."""
        if self.resamplers:
            self._keep(None)

    def _keep(self, frame: av.AudioFrame | None) -> None:
        to_analysis, to_original = self.resamplers
        self.analysis.extend(out.to_ndarray().reshape(-1) for out in to_analysis.resample(frame))
        self.original.extend(out.to_ndarray() for out in to_original.resample(frame))


def _check_declared_length(container: av.container.InputContainer, path: Path, max_seconds: float) -> None:
    if container.duration is not None:
        declared = container.duration / av.time_base
        if declared > max_seconds + 1.0:
            raise TalkingHeadError(_too_long(path, declared, max_seconds))


def _too_long(path: Path, seconds: float, max_seconds: float) -> str:
    return (
        f"{path} is {seconds:.0f} s long, over the limit of {max_seconds:.0f} s "
        "(raise it with --max-audio-seconds)"
    )
