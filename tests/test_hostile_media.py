"""Hostile and damaged media files: each decodes or fails with one `TalkingHeadError`, never PyAV's own error.

The audio cases were found by mutating small WAV, FLAC, MP3, Opus and AAC files byte by byte (about 140 000
cases): before, 0.7-6% of the mutants of each format escaped as `UnicodeDecodeError`, `ValueError` or
`AttributeError` (an "internal error" from the CLI, a failed job on the server); the video case by mutating
a rendered MP4 given to `verify` (4 of 363)."""

from __future__ import annotations

import contextlib
import io
import struct
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talkinghead.audio import load_speech
from talkinghead.audio.decode import decode_audio
from talkinghead.errors import TalkingHeadError
from talkinghead.provenance.verify import verify


def _tone(rate: int, seconds: float = 0.5) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(rate * seconds)) / rate)).astype(np.float32)


def _wav(samples: np.ndarray, rate: int = 16000, extra_chunks: bytes = b"", format_tag: int = 1) -> bytes:
    """A 16-bit mono WAV, its ``fmt`` chunk naming ``format_tag`` (1: PCM), ``extra_chunks`` before the data."""
    data = (samples * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", format_tag, 1, rate, rate * 2, 2, 16)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunks
            + b"data" + struct.pack("<I", len(data)) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _mp3(rate: int) -> bytes:
    """Half a second of MP3 frames at ``rate``, bare (no Xing or ID3 header), as a stream cut from a longer one."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3", options={"write_xing": "0", "id3v2_version": "0"}) as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(_tone(rate)[None], format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def test_a_tag_that_is_not_utf8_does_not_stop_the_sound_being_read(tmp_path: Path) -> None:
    """PyAV decoded the file's tags strictly while opening it: one damaged title byte raised from ``av.open``."""
    title = b"INAM" + struct.pack("<I", 4) + b"\xe4\xff\xfe\x00"
    path = tmp_path / "tagged.wav"
    path.write_bytes(_wav(_tone(16000), extra_chunks=b"LIST" + struct.pack("<I", 4 + len(title)) + b"INFO" + title))
    assert load_speech(path).duration == pytest.approx(0.5, abs=0.01)


def test_a_codec_no_decoder_knows_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "unknown.wav"
    path.write_bytes(_wav(_tone(16000), format_tag=0x7E57))
    with pytest.raises(TalkingHeadError, match="codec is unknown"):
        load_speech(path)


def test_mp3s_joined_at_two_sample_rates_are_read_whole(tmp_path: Path) -> None:
    """The rate changes part-way (two recordings joined end to end): PyAV's resampler refused the first frame
    at the new rate; the resamplers now start anew there, and both halves are heard."""
    path = tmp_path / "joined.mp3"
    path.write_bytes(_mp3(16000) + _mp3(22050))
    analysis, original, rate = decode_audio(path, 600.0)
    assert 1.0 <= len(analysis) / 16000 <= 1.3
    assert original.shape[1] / rate == pytest.approx(len(analysis) / 16000, abs=0.02)
    assert np.abs(analysis[int(0.75 * 16000):int(0.85 * 16000)]).max() > 0.1  # the second half is sound


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=32),
       keep=st.integers(1, 20_000))
def test_fuzz_a_damaged_wav_decodes_or_fails_with_a_clear_error(tmp_path: Path, flips: list, keep: int) -> None:
    data = bytearray(_wav(_tone(16000, 0.3), extra_chunks=b"LIST" + struct.pack("<I", 16) + b"INFOINAM"
                          + struct.pack("<I", 4) + b"talk"))
    for where, value in flips:
        data[where % len(data)] = value
    path = tmp_path / "damaged.wav"
    path.write_bytes(bytes(data[:keep]))
    with contextlib.suppress(TalkingHeadError):
        decode_audio(path, 600.0)


def test_verify_names_a_video_codec_no_decoder_knows(tmp_path: Path) -> None:
    """An H.264 MP4 whose sample description names an unknown codec: PyAV gives its stream no codec context."""
    path = tmp_path / "unknown.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    path.write_bytes(path.read_bytes().replace(b"avc1", b"zzzz"))
    with pytest.raises(TalkingHeadError, match="codec is unknown"):
        verify(path)
