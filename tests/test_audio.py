from pathlib import Path

import numpy as np
import pytest

from talkinghead.audio import ANALYSIS_RATE, load_speech
from talkinghead.audio.features import frame_energy_db, speech_activity
from talkinghead.errors import TalkingHeadError
from talkinghead.video import Mp4Writer

from .media import read_mono, write_audio


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".flac", ".ogg", ".m4a"])
def test_decodes_common_formats(tmp_path: Path, speech_wav: Path, suffix: str) -> None:
    samples, rate = read_mono(speech_wav)
    path = write_audio(tmp_path / f"speech{suffix}", samples, rate)
    speech = load_speech(path)
    assert speech.rate == ANALYSIS_RATE
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert speech.duration == pytest.approx(len(samples) / rate, abs=0.08)
    assert len(speech.energy_db) == pytest.approx(speech.duration * 100, abs=8)
    # the decoded speech is loud where the original is loud
    assert speech.activity.mean() > 0.3


def test_keeps_original_rate_and_resamples_analysis(tmp_path: Path) -> None:
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)
    speech = load_speech(write_audio(tmp_path / "tone.wav", tone, 44100))
    assert speech.original_rate == 44100
    assert speech.original.shape == (1, 44100)
    assert speech.samples.size == pytest.approx(16000, abs=64)
    # the resampled tone keeps its level (RMS of a 0.3 sine is about -13.5 dBFS)
    assert np.median(speech.energy_db) == pytest.approx(-13.5, abs=0.5)


def test_reads_the_sound_track_of_a_video(tmp_path: Path) -> None:
    tone = (0.2 * np.sin(2 * np.pi * 220 * np.arange(32000) / 16000)).astype(np.float32)
    with Mp4Writer(tmp_path / "clip.mp4", 64, 25, tone[None, :], 16000) as writer:
        for _ in range(50):
            writer.write(np.zeros((64, 64, 3), np.uint8))
    speech = load_speech(tmp_path / "clip.mp4")
    assert speech.duration == pytest.approx(2.0, abs=0.1)


def test_silence_is_valid_and_inactive(silence_wav: Path) -> None:
    speech = load_speech(silence_wav)
    assert speech.duration == pytest.approx(3.0, abs=0.01)
    assert not speech.activity.any()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "cannot read audio"), (b"RIFF\x24\x00\x00\x00WAVEfmt garbage" * 20, "cannot"),
     (b"just some text, not audio\n" * 50, "cannot read audio")],
)
def test_bad_files_raise_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(TalkingHeadError, match=message):
        load_speech(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TalkingHeadError, match="not found"):
        load_speech(tmp_path / "nope.wav")


def test_image_is_not_audio(portrait: Path) -> None:
    with pytest.raises(TalkingHeadError, match=r"no audio track|cannot"):
        load_speech(portrait)


def test_too_long_audio_is_refused(speech_wav: Path) -> None:
    with pytest.raises(TalkingHeadError, match="over the limit of 1 s"):
        load_speech(speech_wav, max_seconds=1.0)


def test_energy_tracks_loudness() -> None:
    rate = 16000
    signal = np.concatenate([np.zeros(rate), 0.5 * np.sin(np.arange(rate) * 0.1)]).astype(np.float32)
    level = frame_energy_db(signal, rate)
    assert level[:90].max() <= -59.9
    assert level[110:190].min() > -10
    activity = speech_activity(level)
    assert activity[:90].max() == 0 and activity[110:190].min() == 1
