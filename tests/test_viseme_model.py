"""The streaming viseme model: same frames however the audio is chunked, lips from sound in any language."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from talkinghead.audio import viseme_model
from talkinghead.audio.viseme_model import (
    DELAY_FRAMES,
    HOP,
    N_FEATURES,
    N_MELS,
    NORM_FRAMES,
    VISEMES,
    StreamingSpectrum,
    VisemeStream,
    Weights,
    espeak_viseme,
    frame_visemes,
    load_weights,
    streamed_phones,
    viseme_posteriors,
    visemes_to_phones,
    weights_file,
)


def _random_weights(seed: int = 0, mels: int = N_FEATURES, channels: int = 8, hidden: int = 6) -> Weights:
    rng = np.random.default_rng(seed)

    def r(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    return Weights(r(channels, mels, 3), r(channels), r(channels, channels, 3), r(channels), r(3 * hidden, channels),
                   r(3 * hidden, hidden), r(3 * hidden), r(3 * hidden), r(len(VISEMES), hidden), r(len(VISEMES)))


def _speech_like(seconds: float = 1.3, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * 16000)) / 16000
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
            + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_a_file_is_heard_from_its_start_as_if_its_first_seconds_had_been_heard_before() -> None:
    """A stream's running mean starts on whatever precedes the first word, so that word stands far above it; a
    whole recording settles the mean first: its level features are those of a stream that had already heard
    the recording's first `NORM_FRAMES` frames (but for what its first 3 frames, whose windows overlap what came
    before, add to the mean)."""
    samples = np.concatenate([np.zeros(8000, np.float32), _speech_like(4.0)])
    settled = StreamingSpectrum()
    settled.settle(samples)
    heard = settled.feed(samples)[:, :N_MELS]
    warm = StreamingSpectrum()
    warm.feed(samples[: NORM_FRAMES * HOP])
    again = warm.feed(samples)[:, :N_MELS]
    assert np.abs(heard[3:] - again[3:]).max() < 0.05  # those 3 frames' share of the 3 s mean, no more
    fresh = StreamingSpectrum().feed(samples)[:, :N_MELS]
    assert np.abs(fresh[50:100] - heard[50:100]).mean() > 0.3  # the first word, unsettled: far above its mean


@pytest.mark.parametrize("chunk", [1, 160, 333, 2000])
def test_chunking_never_changes_the_frames(chunk: int) -> None:
    weights, samples = _random_weights(), _speech_like()
    whole = viseme_posteriors(samples, weights)  # settled on the whole recording's level, as a file is
    stream = VisemeStream(weights, settled_on=samples)
    pieces = [stream.feed(samples[i:i + chunk]) for i in range(0, samples.size, chunk)] + [stream.finish()]
    chunked = np.concatenate(pieces)[: whole.shape[0]]
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


def test_a_whole_recording_is_heard_in_bounded_memory(monkeypatch) -> None:
    """A file's posteriors are worked out chunk by chunk: four times the audio does not take four times the
    memory (fed whole, the network's working memory was 420 MB for 8 minutes of speech)."""
    import tracemalloc

    weights = _random_weights()
    monkeypatch.setattr(viseme_model, "FILE_CHUNK", 2 * viseme_model.RATE)
    rng = np.random.default_rng(5)
    short, long = (rng.normal(0, 0.1, seconds * viseme_model.RATE).astype(np.float32) for seconds in (6, 24))
    peaks = []
    for samples in (short, long):
        tracemalloc.start()
        viseme_posteriors(samples, weights)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0], peaks
    chunked = viseme_posteriors(short, weights)
    monkeypatch.setattr(viseme_model, "FILE_CHUNK", short.size)
    np.testing.assert_allclose(chunked, viseme_posteriors(short, weights), atol=1e-5)


def test_features_ignore_gain_and_show_each_bands_height_above_its_noise_floor() -> None:
    """The second half of each frame is the band's level above its tracked floor: low in steady noise (the
    floor rests on the noise's dips, a few dB under its mean), near the 40 dB cap where a tone stands 30 dB out
    of it; neither half depends on the recording's gain."""
    rng = np.random.default_rng(3)
    t = np.arange(48000) / 16000
    noise = 0.01 * rng.standard_normal(t.size)
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t) * ((t > 2.0) & (t < 2.5))
    samples = (noise + tone).astype(np.float32)
    features = StreamingSpectrum().feed(samples)
    assert features.shape == (samples.size // HOP, N_FEATURES)
    above = features[:, N_FEATURES // 2:]
    band = int(np.argmax(above[210:240].mean(axis=0)))  # the band of the tone
    assert above[150:195].mean() < 0.5 and above[210:240, band].mean() > 1.5
    louder = StreamingSpectrum().feed(samples * 8.0)
    np.testing.assert_allclose(louder, features, atol=1e-3)


def test_an_ensemble_averages_its_networks_probabilities_and_streams_alike(tmp_path) -> None:
    """The shipped model is several networks over the same features: their posteriors (not log-odds) are
    averaged, chunking still changes nothing, and the weights file round-trips through `load_weights`."""
    members, samples = [_random_weights(1), _random_weights(2, channels=5, hidden=4)], _speech_like()
    each = [viseme_posteriors(samples, w) for w in members]
    both = viseme_posteriors(samples, members)
    np.testing.assert_allclose(np.exp(both), (np.exp(each[0]) + np.exp(each[1])) / 2, atol=1e-5)
    stream = VisemeStream(members, settled_on=samples)
    pieces = [stream.feed(samples[i:i + 333]) for i in range(0, samples.size, 333)] + [stream.finish()]
    np.testing.assert_allclose(np.concatenate(pieces)[: both.shape[0]], both, atol=1e-5)
    path = tmp_path / "weights.npz"
    np.savez(path, **weights_file([vars(w) for w in members]))
    loaded = load_weights(path)
    assert len(loaded) == 2 and np.array_equal(loaded[1].gru_hidden, members[1].gru_hidden)


def test_huge_gate_inputs_give_no_overflow_warning() -> None:
    weights = _random_weights()
    weights.gru_input_bias[:] = -500.0  # gates pushed far past saturation
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(viseme_posteriors(_speech_like(0.3), weights)).all()


def test_one_row_per_10_ms_and_the_lookahead_is_bounded() -> None:
    weights, samples = _random_weights(), _speech_like(0.5)
    assert viseme_posteriors(samples, weights).shape == (int(np.ceil(samples.size / HOP)), len(VISEMES))
    stream = VisemeStream(weights)
    decided = stream.feed(samples).shape[0]
    assert decided == samples.size // HOP - DELAY_FRAMES  # decided up to the look-ahead, no more
    assert DELAY_FRAMES * HOP / 16000 <= 0.08


def test_silence_and_garbage_audio_give_finite_posteriors() -> None:
    weights = _random_weights()
    for samples in (np.zeros(8000, np.float32), np.full(8000, 1.0, np.float32), np.zeros(0, np.float32)):
        out = viseme_posteriors(samples, weights)
        assert np.isfinite(out).all()


def test_phonemes_of_every_language_map_by_articulation() -> None:
    assert [espeak_viseme(n) for n in ("p", "ph", "b#", "m")] == ["PP"] * 4  # Hindi/Mandarin aspirates too
    assert [espeak_viseme(n) for n in ("f", "v")] == ["FF", "FF"]
    assert [espeak_viseme(n) for n in ("u:", "y", "w")] == ["U", "U", "U"]
    assert espeak_viseme("tS;") == "CH" and espeak_viseme("ts") == "SS" and espeak_viseme("t.") == "DD"
    assert [espeak_viseme(n) for n in ("_", "_:", "", "(en)")] == ["sil"] * 4


def test_short_runs_join_their_neighbours_but_closures_stay() -> None:
    labels = ["aa"] * 6 + ["DD"] + ["aa"] * 5 + ["PP"] + ["aa"] * 4
    phones = visemes_to_phones(labels)
    assert [p.label for p in phones] == ["AA", "P", "AA"]
    assert phones[1].start == pytest.approx(0.12) and phones[-1].end == pytest.approx(0.17)


@pytest.mark.skipif(not viseme_model.available(), reason="weights not built")
def test_shipped_model_closes_the_lips_on_bilabials_of_unseen_speech() -> None:
    from scipy.signal import resample_poly

    from talkinghead.audio.tts import synthesize

    made = synthesize("Maybe my mom put the map by the lamp.", "en-us+m3", 150)
    samples = resample_poly(made.samples, 320, 441).astype(np.float32)
    labels = frame_visemes(viseme_posteriors(samples))
    bilabials = [(a, b) for name, a, b in made.events if espeak_viseme(name) == "PP"]
    hits = [any(lab == "PP" for lab in labels[max(0, int(a * 100) - 4):int(b * 100) + 5]) for a, b in bilabials]
    assert np.mean(hits) >= 0.75
    phones = streamed_phones(samples)
    assert phones[0].start == 0.0 and phones[-1].end == pytest.approx(len(labels) / 100)


@pytest.mark.skipif(not viseme_model.available(), reason="weights not built")
def test_other_languages_get_the_models_visemes(tmp_path) -> None:
    from talkinghead.audio import speech_from_audio
    from talkinghead.audio.tts import synthesize
    from talkinghead.motion.mouth import mouth_channels

    made = synthesize("Mama mag Milch, Papa mag Bier.", "de", 150)
    speech = speech_from_audio(made.samples, made.rate)
    channels = mouth_channels(speech, 25.0, round(speech.duration * 25), language="de")
    assert speech.phones is not None and {p.label for p in speech.phones} >= {"P", "AA"}
    assert channels["lips_open"].min() == 0.0 and channels["jaw_open"].max() > 0.4


def test_visemes_command_streaming_language_and_text(tmp_path) -> None:
    import json

    from talkinghead.audio.tts import synthesize

    from .media import write_audio
    from .test_cli import cli

    made = synthesize("Papa bebe agua.", "es", 150)
    wav = write_audio(tmp_path / "es.wav", made.samples, made.rate)
    for args in (["--streaming"], ["--language", "es"]):
        result = cli("visemes", wav, *args)
        assert result.returncode == 0, result.stderr
        track = json.loads(result.stdout)["cues"]
        assert track[0]["start"] == 0 and track[-1]["end"] == pytest.approx(made.samples.size / made.rate, abs=0.02)
    text = cli("visemes", "--text", "Bob met Pam.", "--format", "tsv")
    assert text.returncode == 0 and "PP" in text.stdout
    for args, message in (([], "give either AUDIO or --text"), ([wav, "--text", "hi"], "give either AUDIO or --text"),
                          (["--text", "hi", "--voice", "nope-xx"], "voice")):
        result = cli("visemes", *args)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not viseme_model.available(), reason="weights not built")
def test_live_mouth_is_what_visemes_streaming_prints(rig_256, speech_wav) -> None:
    from scipy.signal import resample_poly

    from talkinghead.controls import Controls
    from talkinghead.live import LiveSession

    from .media import read_mono

    original, original_rate = read_mono(speech_wav)
    samples, rate = resample_poly(original[: 3 * original_rate], 16000, original_rate).astype(np.float32), 16000
    session = LiveSession(rig=rig_256, controls=Controls(size=256), sample_rate=rate)
    for i in range(0, samples.size, 640):
        session.feed(samples[i:i + 640])
    session.finish()
    expected = frame_visemes(viseme_posteriors(samples, settled=False))  # live hears it as it comes
    first = session._labels_first  # older labels are forgotten once no window needs them
    heard = session._viseme_labels[: len(expected) - first]
    assert first < 100 and heard == expected[first:]
    assert "PP" in expected and "aa" in expected


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite (training data only) is not installed")
def test_training_labels_from_flite_follow_its_phones() -> None:
    """The real-speaker training voices: labels cover the sound, p/b/m where flite says them, and the same
    utterance comes out the same (the training data are rebuilt from the seed)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train_visemes

    samples, labels = train_visemes.flite_labelled(np.random.default_rng(3), "Bob bought a map.", 1.0)
    assert abs(labels.size - samples.size / 160) <= 1
    visemes = {VISEMES[k] for k in labels}
    assert {"sil", "PP", "aa"} <= visemes and labels[0] == VISEMES.index("sil")
    again = train_visemes.flite_labelled(np.random.default_rng(3), "Bob bought a map.", 1.0)
    assert np.array_equal(samples, again[0]) and np.array_equal(labels, again[1])


def test_training_crops_are_masked_in_runs_and_reproducibly() -> None:
    """SpecAugment-style masks: whole bands and whole frames at the running mean (0), nothing else changed,
    the same masks from the same random stream, and the cached speech reused only for its own seed."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train_visemes

    crop = np.random.default_rng(0).uniform(1.0, 2.0, (300, 80)).astype(np.float32)
    out = train_visemes.masked(np.random.default_rng(5), crop)
    zero = out == 0.0
    bands, frames = zero.all(axis=0), zero.all(axis=1)
    assert np.array_equal(zero, bands[None, :] | frames[:, None])  # only whole bands and frames
    assert bands.sum() <= train_visemes.FREQ_MASKS * train_visemes.FREQ_MASK_BANDS
    assert frames.sum() <= train_visemes.TIME_MASKS * train_visemes.TIME_MASK_FRAMES
    assert np.array_equal(out[~zero], crop[~zero]) and crop.min() > 0.0  # the input is left as it was
    assert np.array_equal(out, train_visemes.masked(np.random.default_rng(5), crop))


def test_cached_training_speech_is_reused_only_for_its_own_seed_length_and_voices(tmp_path, monkeypatch) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train_visemes

    spoken = [(np.ones(480, np.float32), np.array([0, 1, 2])), (np.zeros(320, np.float32), np.array([3, 4]))]
    made = []
    monkeypatch.setattr(train_visemes, "build_speech", lambda *args: made.append(args) or spoken)
    cache = tmp_path / "speech.npz"
    train_visemes.load_or_build_speech(cache, 7, 60.0, 1, 0.4)
    again = train_visemes.load_or_build_speech(cache, 7, 60.0, 1, 0.4)
    assert len(made) == 1 and all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                                  for a, b in zip(again, spoken, strict=True))
    train_visemes.load_or_build_speech(cache, 8, 60.0, 1, 0.4)
    train_visemes.load_or_build_speech(cache, 8, 90.0, 1, 0.4)
    train_visemes.load_or_build_speech(cache, 8, 90.0, 1, 0.5)
    assert len(made) == 4


def test_training_data_add_a_degraded_copy_of_every_utterance_reproducibly() -> None:
    """Each utterance is heard augmented and once more hard-degraded (noise or telephone band): the first pass
    is what it was without copies, the copy has the same labels, and the same seed gives the same data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train_visemes

    rng = np.random.default_rng(1)
    spoken = [(np.sin(np.arange(n) * 0.05).astype(np.float32) * rng.uniform(0.1, 0.5), np.arange(n // 160) % 15)
              for n in (8000, 12800)]
    plain = train_visemes.build_data(spoken, 7, hard_copies=0)
    features, labels, offsets = train_visemes.build_data(spoken, 7, hard_copies=1)
    half = plain[0].shape[0]
    assert features.shape[0] == 2 * half and np.array_equal(features[:half], plain[0])
    assert np.array_equal(labels[half:], plain[1]) and list(offsets[:3]) == list(plain[2])
    assert np.isfinite(features.astype(np.float32)).all() and not np.array_equal(features[half:], plain[0])
    again = train_visemes.build_data(spoken, 7, hard_copies=1)
    assert all(np.array_equal(a, b) for a, b in zip(again, (features, labels, offsets), strict=True))
