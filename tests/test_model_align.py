"""Forced alignment on the viseme model's posteriors: the fallback when PocketSphinx finds no path."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talkinghead.audio import align as align_module
from talkinghead.audio import load_speech
from talkinghead.audio.model_align import MIN_PHONE_FRAMES, fits, model_aligned
from talkinghead.audio.phonemes import SILENCE
from talkinghead.audio.tts import synthesize
from talkinghead.audio.viseme_model import FRAME_S, VISEMES
from talkinghead.motion.visemes import cues, viseme_of

from .media import write_audio
from .test_lipsync import agreement

LIKELY, UNLIKELY = np.log(0.9), np.log(0.01)


def posteriors(runs: list[tuple[str, int]]) -> np.ndarray:
    """Log-posteriors sure of each (viseme, frames) run in turn."""
    rows = [np.where(np.array(VISEMES) == viseme, LIKELY, UNLIKELY) for viseme, n in runs for _ in range(n)]
    return np.array(rows, np.float32)


def test_phones_take_the_times_the_model_hears_them_and_pauses_appear_only_where_it_hears_silence() -> None:
    heard = posteriors([("PP", 8), ("aa", 20), ("sil", 15), ("FF", 10), ("U", 12)])
    phones = model_aligned([["M", "AA"], ["F", "UW"]], heard)
    assert [(p.label, round(p.start / FRAME_S), round(p.end / FRAME_S)) for p in phones] == [
        ("M", 0, 8), ("AA", 8, 28), (SILENCE, 28, 43), ("F", 43, 53), ("UW", 53, 65)]


def test_a_phone_the_model_does_not_hear_still_gets_its_shortest_time_in_its_place() -> None:
    heard = posteriors([("aa", 20), ("U", 20)])
    phones = model_aligned([["AA", "P", "UW"]], heard)
    assert [p.label for p in phones] == ["AA", "P", "UW"]
    assert phones[1].end - phones[1].start == pytest.approx(MIN_PHONE_FRAMES * FRAME_S)
    assert 18 <= round(phones[1].start / FRAME_S) <= 20


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.lists(st.sampled_from(["P", "AA", "S", "UW", "F", "IY", "T"]), min_size=1, max_size=4),
                      min_size=1, max_size=5),
       extra=st.integers(0, 40), seed=st.integers(0, 2**16))
def test_every_phone_is_kept_in_order_for_its_shortest_time_and_the_phones_cover_the_recording(
        words: list[list[str]], extra: int, seed: int) -> None:
    frames = sum(map(len, words)) * MIN_PHONE_FRAMES + extra
    noise = np.random.default_rng(seed).random((frames, len(VISEMES))) + 1e-3
    phones = model_aligned(words, np.log(noise / noise.sum(axis=1, keepdims=True)))
    assert [p.label for p in phones if p.label != SILENCE] == [phone for word in words for phone in word]
    assert phones[0].start == 0 and phones[-1].end == pytest.approx(frames * FRAME_S)
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(phones))
    assert all(p.end - p.start >= MIN_PHONE_FRAMES * FRAME_S - 1e-9 for p in phones if p.label != SILENCE)
    assert fits(words, frames) and not fits(words, MIN_PHONE_FRAMES * sum(map(len, words)) - 1)


def test_when_pocketsphinx_finds_no_path_the_transcript_is_timed_on_the_model(tmp_path, monkeypatch) -> None:
    """Read numbers and names in a voice PocketSphinx cannot align: the phones still land where espeak-ng
    said them (its own phone timings are the independent truth), the closures included."""
    text = "Mister Brown paid twelve dollars, and ten percent more at nine."
    made = synthesize(text, voice="en-gb")
    speech = load_speech(write_audio(tmp_path / "numbers.wav", made.samples, made.rate))
    monkeypatch.setattr(align_module, "_force_align", lambda *args, **kwargs: None)
    phones = align_module.align_phones(speech.samples, speech.activity, speech.feature_rate, text)
    assert agreement(cues(made.phones), cues(phones), speech.duration) > 0.85
    said_closures = [p for p in made.phones if viseme_of(p.label) == "PP"]
    aligned_closures = [p for p in phones if viseme_of(p.label) == "PP"]
    assert len(aligned_closures) == len(said_closures)
    assert all(abs(a.start - b.start) < 0.05 for a, b in zip(said_closures, aligned_closures, strict=True))
