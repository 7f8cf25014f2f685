"""Decode any audio PyAV can read (WAV, MP3, FLAC, OGG, M4A, a video's sound track) in one pass.

Two copies come out of the one pass: mono 16 kHz float32 for analysis, and the original rate with at most
two channels for the output video's sound track, so the viewer hears the recording as it was given.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.input_files import check_regular_file

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
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise TalkingHeadError(
            f"cannot read audio from {path}: not a media file PyAV understands ({exc.strerror})"
        ) from None
    with container:
        if not container.streams.audio:
            raise TalkingHeadError(f"{path} has no audio track; give a speech recording (WAV, MP3, FLAC, OGG, M4A)")
        stream = container.streams.audio[0]
        _check_declared_length(container, path, max_seconds)
        rate = stream.codec_context.sample_rate or ANALYSIS_RATE
        out_rate = min(OUTPUT_RATES, key=lambda r: (abs(r - rate), -r))
        layout = "mono" if (stream.codec_context.channels or 1) == 1 else "stereo"
        to_analysis = av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_RATE)
        to_original = av.AudioResampler(format="fltp", layout=layout, rate=out_rate)
        analysis: list[np.ndarray] = []
        original: list[np.ndarray] = []
        seen = 0.0
        try:
            for frame in container.decode(stream):
                frame.pts = None
                for out in to_analysis.resample(frame):
                    analysis.append(out.to_ndarray().reshape(-1))
                for out in to_original.resample(frame):
                    original.append(out.to_ndarray())
                seen += frame.samples / (frame.sample_rate or rate)
                if seen > max_seconds:
                    raise TalkingHeadError(_too_long(path, seen, max_seconds))
            for out in to_analysis.resample(None):
                analysis.append(out.to_ndarray().reshape(-1))
            for out in to_original.resample(None):
                original.append(out.to_ndarray())
        except av.error.FFmpegError as exc:
            raise TalkingHeadError(f"cannot decode audio in {path}: the file is corrupt ({exc.strerror})") from None
    if not analysis or sum(a.size for a in analysis) < ANALYSIS_RATE // 100:
        raise TalkingHeadError(f"{path} contains no audio samples")
    return (
        np.concatenate(analysis).astype(np.float32),
        np.concatenate(original, axis=1).astype(np.float32),
        out_rate,
    )


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
