"""Lip sync: phones (synthesis events, alignment, recognition), visemes with coarticulation, `visemes` CLI."""

import itertools
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from talkinghead.audio import load_speech, speech_from_audio, transcribe
from talkinghead.audio.align import align_phones, match_timing
from talkinghead.audio.phonemes import SILENCE, Phone, contiguous
from talkinghead.audio.phonetics import find_phones
from talkinghead.audio.recognize import recognize_phones
from talkinghead.audio.sphinx import align_decoder
from talkinghead.audio.tts import synthesize, text_speech
from talkinghead.errors import TalkingHeadError
from talkinghead.exports.oculus import OCULUS_VISEMES
from talkinghead.motion.mouth import acoustic_channels, closures_where_sound_stops, loudness_cues, mouth_channels
from talkinghead.motion.visemes import LONG_PAUSE_S, VISEMES, Cue, articulation, cues, viseme_of

from .media import write_audio
from .test_cli import _bad_inputs, cli

TEXT = "Peter picked a peck of pickled peppers. Wow, look at the moon over the blue ocean, five vans."
COARSE = {"PP": "closed", "FF": "labio", "RR": "rounded", "O": "rounded", "U": "rounded", "aa": "open", "E": "open",
          "sil": "sil"}


def coarse_frames(track: list[Cue], duration: float) -> np.ndarray:
    out = np.array(["sil"] * int(duration * 100), dtype=object)
    for cue in track:
        out[round(cue.start * 100):round(cue.end * 100)] = COARSE.get(cue.viseme, "other")
    return out


def agreement(truth: list[Cue], guess: list[Cue], duration: float) -> float:
    """Share of speech frames (away from boundaries) whose coarse mouth class matches."""
    a, b = coarse_frames(truth, duration), coarse_frames(guess, duration)
    edge = np.zeros(a.size, bool)
    for k in np.flatnonzero(a[1:] != a[:-1]) + 1:
        edge[max(k - 2, 0):k + 2] = True
    scored = (a != "sil") & ~edge
    return float(np.mean(a[scored] == b[scored]))


@pytest.fixture(scope="module")
def said(tmp_path_factory: pytest.TempPathFactory):
    """espeak-ng speech of TEXT with its exact phones, and the same sound as a WAV file."""
    made = synthesize(TEXT)
    wav = write_audio(tmp_path_factory.mktemp("lipsync") / "said.wav", made.samples, made.rate)
    return made, wav


def test_synthesis_phones_are_contiguous_and_follow_the_text(said) -> None:
    made, _ = said
    duration = made.samples.size / made.rate
    assert made.phones[0].start == 0 and made.phones[-1].end == pytest.approx(duration)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(made.phones, made.phones[1:], strict=False))
    labels = [p.label for p in made.phones if p.label != SILENCE]
    assert labels[:4] == ["P", "IY", "T", "ER"] and labels.count("P") >= 6
    assert {"UW", "F", "V", "W"} <= set(labels)


def test_synthesis_rejects_unknown_voice_and_empty_text() -> None:
    with pytest.raises(TalkingHeadError, match="unknown espeak-ng voice"):
        synthesize("hello", voice="zz-not-a-voice")
    with pytest.raises(TalkingHeadError, match="empty"):
        synthesize("   ")
    assert synthesize("hello", voice="en-gb").samples.size > 0  # a language code works as well as a name


def test_the_same_text_gives_the_same_sound_in_one_process() -> None:
    """espeak-ng carries state from one synthesis to the next (its pitch flutter's phase): in a server or a
    batch worker the same text came out a few samples longer or shorter with every sample changed, so the
    same inputs and seed did not give the same video, and what a recogniser heard in it changed."""
    first = synthesize("Peter picked a peck of pickled peppers.")
    synthesize("Something else entirely, to move the synthesiser along.", voice="en-gb")
    again = synthesize("Peter picked a peck of pickled peppers.")
    assert np.array_equal(first.samples, again.samples) and first.phones == again.phones


def test_speech_is_made_where_no_private_library_copy_can_be_loaded(monkeypatch) -> None:
    """Hostile: a temporary folder mounted noexec (the copy of libespeak-ng cannot be mapped) or none at all.
    The shared library speaks instead: the render still gets its speech."""
    from talkinghead.audio import tts

    expected = [p.label for p in synthesize("Hello there.").phones]
    refused = []

    def refuse(path: str, *args, **kwargs):
        refused.append(path)
        raise OSError(f"{path}: failed to map segment from shared object")

    monkeypatch.setattr(tts.ctypes, "CDLL", refuse)
    assert [p.label for p in synthesize("Hello there.").phones] == expected and refused
    assert not Path(refused[0]).parent.exists()  # the copy's folder is gone
    monkeypatch.setattr(tts.tempfile, "mkdtemp", lambda **kwargs: (_ for _ in ()).throw(OSError("read-only")))
    assert [p.label for p in synthesize("Hello there.").phones] == expected


def test_forced_alignment_matches_the_synthesiser(said) -> None:
    made, wav = said
    speech = load_speech(wav)
    phones = align_phones(speech.samples, speech.activity, speech.feature_rate, TEXT)
    assert agreement(cues(made.phones), cues(phones), speech.duration) > 0.8


def test_recognition_without_transcript_beats_chance_and_rests_in_pauses(said, speech_then_silence: Path) -> None:
    made, wav = said
    speech = load_speech(wav)
    phones = recognize_phones(speech.samples, speech.activity, speech.feature_rate)
    assert agreement(cues(made.phones), cues(phones), speech.duration) > 0.4  # six classes: chance is ~0.2
    padded = load_speech(speech_then_silence)
    tail = recognize_phones(padded.samples, padded.activity, padded.feature_rate)[-1]
    assert tail.label == SILENCE and tail.start < padded.duration - 1.8


def closed_share(truth: list[Phone], guess: list[Phone]) -> float:
    """Share of the true p/b/m with a predicted closed-lips cue within 40 ms (the benchmark's bilabial score)."""
    closed = [c for c in cues(guess) if c.viseme == "PP"]
    bilabials = [p for p in truth if p.label in ("P", "B", "M")]
    return float(np.mean([any(c.start < p.end + 0.04 and c.end > p.start - 0.04 for c in closed)
                          for p in bilabials]))


def test_words_heard_without_transcript_put_the_lips_where_the_speech_does(said, monkeypatch) -> None:
    made, wav = said
    speech = load_speech(wav)
    assert speech.transcript is None
    heard = list(transcribe.transcribe(speech.samples, speech.activity, speech.feature_rate))
    assert any(p.text and "peppers" in p.text.lower() for p in heard)
    phones = find_phones(speech)
    recognised = recognize_phones(speech.samples, speech.activity, speech.feature_rate)
    truth = cues(made.phones)
    assert agreement(truth, cues(phones), speech.duration) > max(0.6, agreement(truth, cues(recognised),
                                                                                 speech.duration))
    assert closed_share(made.phones, phones) >= 0.75
    # Long recordings go phrase by phrase: cut into short phrases, the phones must still land in place.
    monkeypatch.setattr(transcribe, "MAX_PHRASE_S", 2.5)
    phrases = list(transcribe.transcribe(speech.samples, speech.activity, speech.feature_rate))
    assert len(phrases) >= 3 and all(p.end - p.start <= 2.5 for p in phrases)
    speech.phones = None
    assert agreement(truth, cues(find_phones(speech)), speech.duration) > 0.6


def test_phones_do_not_depend_on_what_was_decoded_before(said) -> None:
    """Batch workers and servers decode many recordings in one process: each must come out the same."""
    _, wav = said
    speech = load_speech(wav)
    short = text_speech("Hello there.")
    align_decoder.cache_clear()  # a decoder that has decoded nothing yet
    fresh = [align_phones(s.samples, s.activity, s.feature_rate, t) for s, t in ((short, "The low air."),
                                                                                  (speech, TEXT))]
    again = [align_phones(s.samples, s.activity, s.feature_rate, t) for s, t in ((short, "The low air."),
                                                                                  (speech, TEXT))]
    assert again == fresh


def test_the_viseme_model_hears_the_recording_beside_whisper_and_changes_nothing(said, monkeypatch) -> None:
    """Its posteriors are computed in a second (daemon) thread while Whisper transcribes (the speed of a file render),
    and so is each phrase's alignment while the next phrase is transcribed; the phones are exactly those of all of
    it run one after the other."""
    from concurrent.futures import Future

    from talkinghead.audio import phonetics

    _, wav = said
    threads, aligning = [], []
    viseme_posteriors, phrase_phones = phonetics.viseme_posteriors, phonetics._phrase_phones

    def posteriors(samples: np.ndarray) -> np.ndarray:
        threads.append(threading.current_thread())
        return viseme_posteriors(samples)

    def aligned(*args) -> list:
        aligning.append(threading.current_thread())
        return phrase_phones(*args)

    def one_after_the_other(function, *args) -> Future:
        done = Future()
        done.set_result(function(*args))
        return done

    monkeypatch.setattr(phonetics, "viseme_posteriors", posteriors)
    monkeypatch.setattr(phonetics, "_phrase_phones", aligned)
    monkeypatch.setattr(transcribe, "MAX_PHRASE_S", 2.5)  # several phrases
    heard_beside = find_phones(load_speech(wav))
    assert threads and threads[0] is not threading.main_thread()
    assert threads[0].daemon  # Ctrl-C during the analysis of a long recording leaves at once, not when it is done
    assert len(aligning) >= 2 and all(t is not threading.main_thread() and t.daemon for t in aligning)
    monkeypatch.setattr(phonetics, "beside", one_after_the_other)
    assert find_phones(load_speech(wav)) == heard_beside


def test_log_mel_is_whisper_input() -> None:
    rate = transcribe.RATE
    tone = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(rate) / rate).astype(np.float32)
    features = transcribe.log_mel(tone)
    assert features.shape == (transcribe.N_MELS, rate // transcribe.HOP) and features.dtype == np.float32
    loudest = int(np.argmax(features[:, 50]))
    assert 25 <= loudest <= 27  # Slaney scale: 1 kHz is 15 mels, and channel k centres on (k + 1) * 45.2 / 81
    assert features.max() - features.min() == pytest.approx(2.0)  # log power clamped to 8 decades, over 4


def test_match_timing_keeps_every_expected_phone_in_order() -> None:
    heard = [Phone("SIL", 0, 0.2), Phone("HH", 0.2, 0.3), Phone("AH", 0.3, 0.5), Phone("L", 0.5, 0.55),
             Phone("OW", 0.55, 0.8), Phone("SIL", 0.8, 1.0)]
    expected = ["HH", "EH", "L", "OW", "P"]  # one substitution, one phone the recogniser missed
    phones = sorted(match_timing(expected, heard), key=lambda p: p.start)
    speech = [p for p in phones if p.label != SILENCE]
    assert [p.label for p in speech] == expected
    assert speech[0].start == pytest.approx(0.2) and speech[-1].end == pytest.approx(0.8)
    assert all(p.duration > 0 for p in speech)


def test_contiguous_fills_gaps_with_silence() -> None:
    phones = contiguous([Phone("AA", 0.2, 0.4), Phone("M", 0.5, 0.6)], 1.0)
    assert [p.label for p in phones] == ["SIL", "AA", "SIL", "M", "SIL"]
    assert phones[-1].end == 1.0


def test_every_phone_has_one_of_the_15_visemes() -> None:
    assert len(VISEMES) == 15
    for label in ("P", "B", "M", "F", "V", "TH", "DH", "T", "K", "CH", "S", "N", "R", "AA", "EH", "IY", "OW", "UW"):
        assert viseme_of(label) in VISEMES
    assert [viseme_of(x) for x in ("M", "V", "UW", "AE", SILENCE)] == ["PP", "FF", "U", "aa", "sil"]


def _phones(*spec: tuple[str, float]) -> list[Phone]:
    out, t = [], 0.0
    for label, length in spec:
        out.append(Phone(label, t, t + length))
        t += length
    return out


def test_bilabials_close_the_lips_even_in_fast_speech() -> None:
    """35 ms closures between 90 ms vowels (8 syllables a second, fast speech): every one shuts the lips on the
    frame nearest it, and the vowels between still open the mouth."""
    phones = _phones(("SIL", 0.3), *[(x, 0.09 if x == "AA" else 0.035)
                                      for x in ("AA", "B", "AA", "M", "AA", "P", "AA")] * 3, ("SIL", 0.3))
    n = round(phones[-1].end * 25)
    channels = articulation(phones, 25.0, n)
    times = (np.arange(n) + 0.5) / 25
    for phone in phones:
        if phone.label in ("P", "B", "M"):
            near = np.abs(times - phone.middle) <= 0.02
            assert channels["lips_open"][near].min() == 0.0
    assert channels["lips_open"].max() > 0.3  # and the vowels between them still open the mouth


def test_closures_last_as_long_as_the_phone_and_the_mouth_never_flaps(said) -> None:
    """Every p/b/m is shut on the frame nearest its middle, one of 60 ms or more on at least two frames; the
    opening moves like an articulator: no frame above or below both neighbours by 40% of the clip's wide
    opening (a single-frame flap), no jump of more than half of it from one frame to the next."""
    made, _ = said
    phones = [*made.phones, Phone("B", made.phones[-1].end, made.phones[-1].end + 0.07),
              Phone("AA", made.phones[-1].end + 0.07, made.phones[-1].end + 0.17)]  # and a long /b/
    n = round(phones[-1].end * 25) + 5
    channels = articulation(phones, 25.0, n)
    times = (np.arange(n) + 0.5) / 25
    for phone in phones:
        if viseme_of(phone.label) == "PP":
            inside = (times >= phone.start - 0.02) & (times <= phone.end + 0.02)
            shut = (channels["lips_open"][inside] == 0.0).sum()
            assert shut >= (2 if phone.duration >= 0.06 else 1), phone
    gap = channels["jaw_open"] * 0.13 + channels["lips_open"] * 0.055  # the opening, as the rig draws it
    wide = np.percentile(gap, 95)
    middle, outer = gap[1:-1], np.stack([gap[:-2], gap[2:]])
    assert np.all(middle - outer.max(axis=0) <= 0.4 * wide) and np.all(outer.min(axis=0) - middle <= 0.4 * wide)
    assert np.abs(np.diff(gap)).max() <= 0.5 * wide


def test_lips_come_to_a_closure_faster_than_they_part_from_it() -> None:
    """The lips' dynamics already slow their coming together, so the pull to a closure starts only `CLOSE_S`
    before it (a ramp as long as the release began to shut them before the sound did); they part over
    `RELEASE_S`."""
    from talkinghead.motion.articulators import CLOSE_S, RELEASE_S, close_lips

    times = np.arange(0.0, 1.0, 0.005)
    channels = {"lips_open": np.ones_like(times), "jaw_open": np.full_like(times, 0.5)}
    close_lips(channels, times, [(0.5, 0.6)])
    lips = dict(zip(np.round(times, 3), channels["lips_open"], strict=True))
    assert CLOSE_S < RELEASE_S
    assert lips[0.5] == lips[0.6] == 0.0
    assert lips[round(0.5 - CLOSE_S, 3)] == pytest.approx(1.0) and lips[round(0.5 - CLOSE_S / 2, 3)] < 0.6
    assert lips[round(0.6 + CLOSE_S, 3)] < 0.6 and lips[round(0.6 + RELEASE_S, 3)] == pytest.approx(1.0)


def test_coarticulation_rounds_ahead_and_rests_in_pauses() -> None:
    phones = _phones(("SIL", 0.5), ("S", 0.1), ("T", 0.08), ("UW", 0.25), ("SIL", 0.6), ("IY", 0.25), ("SIL", 0.5))
    fps = 100.0
    channels = articulation(phones, fps, 225)
    at = lambda t: int(t * fps)  # noqa: E731
    assert channels["lip_pucker"][at(0.64)] > 0.2  # during /t/, before /uw/ starts at 0.68: anticipatory rounding
    assert channels["lip_pucker"][at(0.80)] > 0.8 and channels["lip_width"][at(0.80)] < -0.6
    assert channels["lip_width"][at(1.65)] > 0.5  # /iy/ spreads
    for name in ("jaw_open", "lips_open", "lip_pucker", "lip_width"):
        assert abs(channels[name][at(1.25)]) < 0.03 and abs(channels[name][at(0.1)]) < 0.03
    smooth = np.abs(np.diff(channels["jaw_open"]))
    assert smooth.max() < 0.25  # blends, no jumps between targets at 100 fps


def test_the_mouth_rests_in_every_pause_of_100_ms_and_talks_through_shorter_gaps() -> None:
    """Issue 19: a pause between phrases of LONG_PAUSE_S (100 ms) or more shows the mouth at rest (lips
    together, jaw up) on at least one 25 fps frame, wherever the pause falls against the frame clock; a 60 ms
    gap inside speech is not a rest."""
    assert abs(LONG_PAUSE_S - 0.1) < 1e-9
    fps = 25.0
    for offset in np.linspace(0.0, 0.04, 5):
        for pause in (0.1, 0.13):
            phones = _phones(("SIL", 0.2 + offset), ("HH", 0.06), ("AA", 0.24), ("SIL", pause), ("AA", 0.3),
                             ("D", 0.05), ("SIL", 0.4))
            channels = articulation(phones, fps, 40)
            times = (np.arange(40) + 0.5) / fps
            start = 0.5 + offset
            inside = (times > start) & (times < start + pause)
            rest = np.minimum(channels["lips_open"], 1.0) + channels["jaw_open"]
            assert rest[inside].min() < 0.15, (offset, pause, rest[inside])
            assert channels["jaw_open"].max() > 0.6  # the vowels around the pause do open
    short = _phones(("SIL", 0.2), ("AA", 0.3), ("SIL", 0.06), ("AA", 0.3), ("SIL", 0.3))
    channels = articulation(short, fps, 30)
    assert channels["jaw_open"][int(0.53 * fps)] > 0.3


def test_lips_shut_where_the_sound_stops_not_where_an_early_boundary_says() -> None:
    """A vowel fading into a /p/'s silence at 0.50 s, the aligner's boundary at 0.44 s (its usual error): the
    closure starts at the fall of the level; a /p/ after a pause, an /m/ without a steep fall, and hostile
    timings (a fall at the very end of the level, phones shorter than the search) stay as they were."""
    level = np.full(100, -20.0, np.float32)
    level[50:60] = -60.0
    phones = [Phone("AA", 0.1, 0.44), Phone("P", 0.44, 0.6), Phone("AA", 0.6, 1.0)]
    moved = closures_where_sound_stops(phones, level, 100)
    assert abs(moved[1].start - 0.495) <= 0.011 and moved[0].end == moved[1].start and moved[1].end == 0.6
    assert closures_where_sound_stops(phones, np.full(100, -20.0, np.float32), 100) == phones
    after_pause = [Phone(SILENCE, 0.0, 0.44), Phone("P", 0.44, 0.6)]
    assert closures_where_sound_stops(after_pause, level, 100) == after_pause
    tiny = [Phone("AA", 0.0, 0.995), Phone("M", 0.995, 1.0)]
    assert closures_where_sound_stops(tiny, level, 100) == tiny


def test_the_model_overrules_a_doubted_word_where_it_hears_otherwise_and_a_sure_word_only_where_it_is_sure() -> None:
    """Whisper wrote "new" (N UW) where the speaker said "ba": the model gives closed lips then an open vowel.
    Weighed frame by frame against the aligned phones (`weighed_phones`), a doubted word yields to the
    model's mild preference; a word Whisper was sure of yields only where the model is sure (a /b/ whose
    closure it hears at 0.9 still closes the lips), so a misheard word never leaves the lips open through a
    /b/ the sound shows, and a right word is not undone by the model's doubts."""
    from talkinghead.audio.phonetics import TRUST_SURE, TRUST_UNSURE, weighed_phones
    from talkinghead.audio.viseme_model import VISEMES

    def heard(closed: float, vowel: float) -> np.ndarray:
        """100 frames: closed lips at ``closed`` then the open vowel at ``vowel``, the rest spread evenly."""
        posteriors = np.zeros((100, len(VISEMES)))
        for rows, viseme, p in ((slice(0, 40), "PP", closed), (slice(40, 100), "aa", vowel)):
            posteriors[rows] = (1 - p) / (len(VISEMES) - 1)
            posteriors[rows, VISEMES.index(viseme)] = p
        return np.log(posteriors)

    new = [Phone("N", 0.0, 0.4), Phone("UW", 0.4, 1.0)]

    def labels(trust: float, closed: float, vowel: float, noisy: bool = False) -> list[str]:
        out = weighed_phones(new, np.full(100, trust, np.float32), heard(closed, vowel), closures_everywhere=noisy)
        assert out[0].start == 0 and out[-1].end == pytest.approx(1.0)
        assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(out))
        return [p.label for p in out]

    assert labels(TRUST_UNSURE, 0.3, 0.3) == ["P", "AA"]  # doubted: the model's mild preference wins
    assert labels(TRUST_SURE, 0.3, 0.3) == ["N", "UW"]  # sure: the words stand
    assert labels(TRUST_SURE, 0.9, 0.3) == ["P", "UW"]  # ... but a closure the model is sure of is shown
    assert labels(0.0, 0.3, 0.3) == ["P", "AA"]  # no words (Whisper gave no text): the model alone
    # in heavy noise closed lips are favoured under sure words too: an even chance of a closure shows it
    assert labels(TRUST_SURE, 0.5, 0.3) == ["N", "UW"]
    assert labels(TRUST_SURE, 0.5, 0.3, noisy=True) == ["P", "UW"]


def test_in_heavy_noise_whisper_s_words_still_shape_the_mouth() -> None:
    """Speech with white noise 10 dB under it: Whisper (beam search) still hears words, PocketSphinx times
    them, they are weighed against the viseme model with closed lips favoured wherever it hears them, and the
    mouth follows what espeak-ng said (its own phone timings are the truth), closures included."""
    from talkinghead.audio import phonetics
    from talkinghead.audio.features import loudness_range_db

    made = synthesize(TEXT)
    loud = made.samples[np.abs(made.samples) > 0.02 * np.abs(made.samples).max()]
    noise = np.random.default_rng(0).standard_normal(made.samples.size) * np.sqrt(np.mean(loud**2) / 10)
    noisy = speech_from_audio((made.samples + noise).astype(np.float32), made.rate)
    assert loudness_range_db(noisy.energy_db) < phonetics.NOISY_RANGE_DB
    phones = find_phones(noisy)
    assert noisy.words
    # 0.785 here (the model alone 0.794); other voices and noise draws vary by 0.1 (docs/lip-sync.md has sets)
    assert agreement(cues(made.phones), cues(phones), noisy.duration) > 0.75
    closures = [p for p in made.phones if viseme_of(p.label) == "PP"]
    shut = [p for p in phones if viseme_of(p.label) == "PP"]
    assert sum(any(abs(a.start - b.start) < 0.06 for b in shut) for a in closures) >= 0.7 * len(closures)


def test_whisper_looping_on_a_few_words_is_not_believed() -> None:
    from talkinghead.audio.transcribe import repeats_itself

    assert repeats_itself("Bob and the end of the end of the end of the end.")
    assert repeats_itself("no no no no no")
    assert not repeats_itself("Bob and Pam baked bread every Monday morning, and Bob baked again.")


def test_whisper_word_probabilities_follow_the_aligned_words() -> None:
    from talkinghead.audio.phonetics import matched_probabilities
    from talkinghead.audio.transcribe import word_probabilities
    from talkinghead.audio.words import Word

    heard = word_probabilities([(" Wow", 0.2), (",", 0.6), (" b", 0.2), ("ick", 0.4), (" led", 0.9)])
    assert heard == (("Wow,", 0.2), ("bick", 0.2), ("led", 0.9))
    words = [Word("Wow,", 0, 1), Word("bick", 1, 2), Word("unknown", 2, 3), Word("led", 3, 4)]
    assert matched_probabilities(words, heard) == [0.2, 0.2, 1.0, 0.9]


def test_loud_speech_opens_the_jaw_more_but_keeps_lip_shape() -> None:
    phones = _phones(("SIL", 0.2), ("AA", 0.3), ("SIL", 0.2))
    soft = articulation(phones, 25.0, 17, np.full(70, 0.2, np.float32))
    loud = articulation(phones, 25.0, 17, np.full(70, 1.0, np.float32))
    assert loud["jaw_open"][8] > soft["jaw_open"][8] + 0.2
    assert loud["lips_open"][8] == pytest.approx(soft["lips_open"][8])


def test_mouth_uses_phones_when_known_and_loudness_otherwise(said) -> None:
    made, wav = said
    speech = load_speech(wav)
    speech.phones = made.phones
    channels = mouth_channels(speech, 25.0, round(speech.duration * 25))
    assert channels["lip_pucker"].max() > 0.5 and "lower_lip_tuck" in channels
    assert {c.viseme for c in loudness_cues(speech)} <= {"sil", "aa", "DD"}


def test_text_input_is_exact() -> None:
    speech = text_speech(TEXT)
    assert find_phones(speech) is speech.phones and speech.transcript == TEXT  # no recognition needed
    level = speech.energy_db - speech.energy_db.max()
    at = lambda t: level[int(t * speech.feature_rate)]  # noqa: E731
    vowels = [p for p in speech.phones if viseme_of(p.label) in ("aa", "E", "O", "U", "I") and p.duration > 0.06]
    pauses = [p for p in speech.phones if p.label == SILENCE and p.duration > 0.15]
    assert len(vowels) > 10 and pauses
    assert all(at(p.middle) > -25 for p in vowels)  # the phones sit on the sound they name
    assert all(at(p.middle) < -45 for p in pauses)


def test_visemes_command_prints_contiguous_cues(said, tmp_path: Path) -> None:
    made, wav = said
    transcript = tmp_path / "said.txt"
    transcript.write_text(TEXT)
    result = cli("visemes", wav, "--transcript-file", transcript)
    assert result.returncode == 0, result.stderr
    track = json.loads(result.stdout)["cues"]
    assert track[0]["start"] == 0 and track[-1]["end"] == pytest.approx(made.samples.size / made.rate, abs=0.01)
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(track))
    assert {c["viseme"] for c in track} <= set(OCULUS_VISEMES) and "PP" in {c["viseme"] for c in track}
    rhubarb = cli("visemes", wav, "--format", "rhubarb").stdout.splitlines()
    assert rhubarb[0].startswith("0.00\t") and rhubarb[-1].endswith("\tX")
    assert {line.split("\t")[1] for line in rhubarb} <= set("ABCDEFGHX")
    tsv = cli("visemes", wav, "--transcript", TEXT, "--format", "tsv").stdout.splitlines()
    assert len(tsv[0].split("\t")) == 3


@pytest.mark.parametrize("case", ["missing audio", "empty audio file", "audio without samples", "corrupt audio",
                                  "text as audio", "too long audio", "missing transcript file"])
def test_visemes_bad_input_gives_one_line_and_exit_2(tmp_path: Path, portrait: Path, speech_wav: Path,
                                                     case: str) -> None:
    if case == "missing transcript file":
        args, message = [speech_wav, "--transcript-file", tmp_path / "none.txt"], "cannot read transcript"
    else:
        render_args, message = _bad_inputs(tmp_path, portrait, speech_wav)[case]
        args = [render_args[1], *render_args[4:]]
    result = cli("visemes", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("talkinghead: error:") and message in lines[0]


@pytest.mark.slow
def test_render_from_text(tmp_path: Path, portrait: Path) -> None:
    out = tmp_path / "said.mp4"
    result = cli("render", portrait, "--text", "Hello, my name is Eve.", "--voice", "en-us+f2", "-o", out,
                 "--size", "128")
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 1000
    for args, message in (([portrait, "-o", out, "-y"], "give either AUDIO or --text"),
                          ([portrait, "--text", "hi", "--voice", "nope-xx", "-o", tmp_path / "x.mp4"], "voice"),
                          ([portrait, "--text", " ", "-o", tmp_path / "x.mp4"], "--text is empty")):
        result = cli("render", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_acoustic_mouth_for_other_languages_rounds_and_closes(tmp_path: Path) -> None:
    rounded, spread = synthesize("who knew, too true, two blue moons"), synthesize("see these keys, he sees the cheese")
    gap = np.zeros(rounded.rate // 2, np.float32)
    wav = write_audio(tmp_path / "mix.wav", np.concatenate([rounded.samples, gap, spread.samples]), rounded.rate)
    speech = load_speech(wav)
    n = round(speech.duration * 25)
    channels = acoustic_channels(speech, 25.0, n)  # the mouth without phones (no viseme model installed)
    assert speech.phones is None and "tongue_show" not in channels
    split = round((rounded.samples.size + gap.size) / rounded.rate * 25)
    assert channels["lip_pucker"][:split].mean() > 2 * channels["lip_pucker"][split:].mean()
    assert channels["jaw_open"].max() > 0.3 and channels["lips_open"][split - 8:split - 2].max() < 0.02
