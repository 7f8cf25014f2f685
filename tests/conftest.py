"""Shared test assets, made on the spot: speech from espeak-ng, silence, the bundled portrait."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from talkinghead.face import build_rig

from .media import espeak, read_mono, write_audio

SENTENCE = "Hello there. My name is Eve, and I will read a short sentence for this test."


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("assets")


@pytest.fixture(scope="session")
def speech_wav(assets: Path) -> Path:
    return espeak(SENTENCE, assets / "speech.wav")


@pytest.fixture(scope="session")
def speech_then_silence(assets: Path, speech_wav: Path) -> Path:
    """The test sentence followed by 2 s of silence (to compare the mouth in speech and in silence)."""
    samples, rate = read_mono(speech_wav)
    return write_audio(assets / "speech_silence.wav", np.concatenate([samples, np.zeros(2 * rate)]), rate)


@pytest.fixture(scope="session")
def silence_wav(assets: Path) -> Path:
    return write_audio(assets / "silence.wav", np.zeros(16000 * 3, np.float32), 16000)


@pytest.fixture(scope="session")
def portrait() -> Path:
    return DEMO_PORTRAIT


@pytest.fixture(scope="session")
def demo_speech() -> Path:
    return DEMO_SPEECH


@pytest.fixture(scope="session")
def rig_256(portrait: Path):
    return build_rig(portrait, size=256)
