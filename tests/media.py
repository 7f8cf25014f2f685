"""Test media made on the spot: speech from espeak-ng, audio in any format via PyAV."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest


def espeak(text: str, path: Path) -> Path:
    """Real synthetic speech (a WAV) from Debian's espeak-ng."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: run `make test`, which installs it")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), text], check=True)
    return path


def write_audio(path: Path, samples: np.ndarray, rate: int, codec: str | None = None) -> Path:
    """Encode float32 mono ``samples`` into ``path``; the container and codec follow the suffix."""
    codecs = {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".ogg": "libvorbis",
              ".m4a": "aac"}
    codec = codec or codecs[path.suffix]
    if codec == "libvorbis" and codec not in av.codecs_available:
        codec = "libopus"  # FFmpeg's own vorbis encoder only does stereo; Opus in Ogg is as common
    out_rate = 48000 if codec == "libopus" else rate
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=out_rate, layout="mono")
        to_codec = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=out_rate,
                                     frame_size=stream.codec_context.frame_size or None)
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32)[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        for converted in [*to_codec.resample(frame if len(samples) else None), *to_codec.resample(None)]:
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return path


def read_mono(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = [out.to_ndarray().reshape(-1) for frame in container.decode(audio=0)
                 for out in resampler.resample(frame)]
    return np.concatenate(parts), rate


def encoded_media(path: Path) -> tuple[dict[str, str], list[tuple[int, int | None, bytes]]]:
    """An MP4's container tags and every encoded packet (stream, pts, bytes): what a render promises to repeat
    exactly. The file's bytes are not compared, since its C2PA manifest carries a fresh ECDSA signature each
    time it is signed."""
    with av.open(str(path)) as container:
        packets = [(p.stream.index, p.pts, bytes(p)) for p in container.demux() if p.size]
        return dict(container.metadata), packets
