"""Visemes from the sound itself, in any language and live: the project's own small streaming model.

Why. Whisper (English only) and a phone recogniser need whole phrases; the live mode and every other language
had only a loudness mouth. This model reads the log-mel spectrum (the same `transcribe.mel_power` Whisper
reads, 10 ms hop) and gives, for every 10 ms frame, the posterior of each of the 15 visemes, with a fixed
look-ahead of `DELAY_FRAMES` frames: fed audio up to time t, it has decided every frame up to t minus the
look-ahead. It was trained by ``scripts/train_visemes.py`` on espeak-ng speech in many languages whose
phoneme timings are exact, heavily augmented (noise, reverberation, telephone band, clipping, tempo).

Architecture: two causal convolutions (kernel 3, dilations 1 and 2) then a GRU and a linear layer, so the
whole model is a recurrence: `VisemeStream` feeds it chunk by chunk and gives exactly what one call over the
whole recording gives. Four such networks read the same features and their posteriors are averaged: two
trained on differently mixed voices (the one that heard more real-speaker voices reads real recordings better,
the other held-out synthetic voices and other languages) and two that also heard every sentence again under
hard noise or through a telephone band (better on noisy and telephone speech, worse on real recordings); the
average keeps most of each. Inference is numpy only (the weights are ``assets/visemes.npz``, about 0.7 MB;
about 0.3 ms of one core per 10 ms of audio).

The spectrum is made causal: each frame is the `N_FFT` samples ending at its hop's end, and the level is
normalised by a running mean per mel band (the mean of everything heard so far, then a ~3 s memory), so
neither the recording's gain nor its channel (telephone, microphone) matters and nothing later is needed. A
whole recording (`viseme_posteriors`) starts with the mean already settled on its first seconds
(`StreamingSpectrum.settle`); only a live stream hears its first word against the silence before it.
Beside those 80 values each frame carries each band's height above its own noise floor, tracked causally
(falling fast to a quieter frame, rising slowly), so the network can tell a band that holds only its floor
(empty above 4 kHz through a telephone, or buried under noise) from one where speech stands out of it.
Measured with one network on validation speech (``scripts/train_visemes.py``'s docstring): telephone band
0.695 -> 0.754 balanced accuracy, other languages 0.753 -> 0.786, clean and 10 dB noise within 0.015.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from talkinghead.audio import Speech
from talkinghead.audio.phonemes import SILENCE, Phone
from talkinghead.audio.transcribe import HOP, N_FFT, N_MELS, RATE, mel_power

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
WEIGHTS = Path(__file__).parents[1] / "assets" / "visemes.npz"
FRAME_S = HOP / RATE
FILE_CHUNK = 30 * RATE  # a whole recording is fed this much at a time: the network's working memory is about
#                         0.9 MB a second of audio fed at once (420 MB for 8 minutes whole), the result the same
DELAY_FRAMES = 6  # look-ahead: frame t is decided once audio up to frame t + DELAY_FRAMES has arrived
NORM_FRAMES = 300  # the running mean's memory, in frames (3 s)
POWER_FLOOR = 1e-7  # about -70 dB: digital silence and faint hiss look the same
# Each band's noise floor (log10 power) follows a quieter frame quickly (a tenth of the way a frame) and a
# louder one slowly (1/500 of the way: speech lifts it by a few dB a second at most), so it rests on the
# pauses' level; the feature is the band's height above it, clipped at 40 dB and halved (about unit scale).
FLOOR_RISE, FLOOR_FALL = 0.002, 0.1
ABOVE_FLOOR_MAX, ABOVE_FLOOR_SCALE = 4.0, 0.5
N_FEATURES = 2 * N_MELS  # per frame: the mean-normalised log mel bands, then their heights above the floor

# espeak-ng phoneme mnemonics (an ASCII phonetic alphabet shared by all its languages) -> viseme, grouped by
# where the sound is made; the longest matching prefix wins ("tS" before "t"), stress marks are ignored.
# One table for every language: a phoneme's mouth shape follows its articulation, not its language.
_BY_ARTICULATION = {
    "PP": "p b m B",  # bilabial stops, nasal and approximant: the lips close
    "FF": "f v F",  # labiodental: lower lip to upper teeth
    "TH": "T D",  # dental fricatives: tongue between the teeth
    "DD": "t d ? * R",  # alveolar stops, taps and trills (retroflex and palatalised variants alike)
    "kk": "k g x G q h H Q X c",  # velar, uvular, glottal and palatal stops and fricatives
    "CH": "S Z tS dZ tC dz; C s\\ z\\ s. z. ts. dz.",  # post-alveolar, palatal and retroflex sibilants
    "SS": "s z ts dz",  # alveolar sibilants
    "nn": "n N J l L",  # nasals and laterals: the tongue shows, the lips stay neutral
    "RR": "r 3 @r",  # the approximant r (lips rounded in English) and r-coloured vowels
    "aa": "a A & V @ a# 0",  # open and central vowels (and English "lot", as the ARPAbet route has it)
    "E": "E e@ E~",  # open-mid front vowels
    "I": "i I e j y# i#",  # close and close-mid front vowels (spread lips), palatal glide
    "O": "o O 2 9",  # mid back and front-rounded mid vowels
    "U": "u U w y Y W u#",  # close rounded vowels and the labial-velar glide
}
ESPEAK_VISEME = {symbol: viseme for viseme, symbols in _BY_ARTICULATION.items() for symbol in symbols.split()}
# One ARPAbet phone per viseme, so frames of the model become `Phone`s for the articulation model.
PHONE_OF_VISEME = {"sil": SILENCE, "PP": "P", "FF": "F", "TH": "TH", "DD": "D", "kk": "K", "CH": "SH",
                   "SS": "S", "nn": "N", "RR": "R", "aa": "AA", "E": "EH", "I": "IH", "O": "OW", "U": "UW"}
MIN_RUN_FRAMES = 3  # a viseme held for fewer frames joins its neighbour (closures are kept)
# Log-odds added to closed lips when decoding: a p/b/m the lips skip is seen, a closure a frame long is not.
# Chosen on validation speech of training voices (closures 0.84 -> 0.93 of p/b/m, balanced accuracy unchanged).
CLOSURE_BONUS = 1.0


def espeak_viseme(name: str) -> str:
    """The viseme of an espeak-ng phoneme mnemonic in any language (pauses and unknowns -> ``sil``).

    >>> [espeak_viseme(n) for n in ("'a:", "tS;", "p", "_:", "r", "ts", "y", "n^")]
    ['aa', 'CH', 'PP', 'sil', 'RR', 'SS', 'U', 'nn']
    """
    name = name.strip().lstrip("',%=")
    if not name or name[0] in "_;|(":
        return "sil"
    for size in range(min(len(name), 4), 0, -1):
        if name[:size] in ESPEAK_VISEME:
            return ESPEAK_VISEME[name[:size]]
    return "sil"


@dataclass
class Weights:
    """The model's parameters (numpy, float32): two causal convolutions, a GRU, a linear read-out."""

    conv1: np.ndarray  # (out, in, 3)
    conv1_bias: np.ndarray
    conv2: np.ndarray  # (out, out, 3), dilation 2
    conv2_bias: np.ndarray
    gru_input: np.ndarray  # (3 * hidden, in): reset, update, new (torch's order)
    gru_hidden: np.ndarray  # (3 * hidden, hidden)
    gru_input_bias: np.ndarray
    gru_hidden_bias: np.ndarray
    out: np.ndarray  # (len(VISEMES), hidden)
    out_bias: np.ndarray


@cache
def load_weights(path: Path = WEIGHTS) -> tuple[Weights, ...]:
    """The shipped networks (loaded once): member ``k``'s parameters are stored as ``m{k}_NAME``."""
    with np.load(path) as data:
        count = len({key.split("_", 1)[0] for key in data.files})
        return tuple(Weights(**{name: data[f"m{k}_{name}"].astype(np.float32)
                                for name in Weights.__dataclass_fields__}) for k in range(count))


def weights_file(members: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays of `load_weights`'s file for ``members`` (each a dict of `Weights`' fields)."""
    return {f"m{k}_{name}": value for k, member in enumerate(members) for name, value in member.items()}


def available() -> bool:
    return WEIGHTS.exists()


class StreamingSpectrum:
    """The model's input, computed causally chunk by chunk: per 10 ms hop, from the log mel power of the
    `N_FFT` samples ending at the hop's end, each band minus its running mean, then each band's height above
    its tracked noise floor (see the module docstring): `N_FEATURES` values a frame."""

    def __init__(self) -> None:
        self._samples = np.zeros(N_FFT - HOP, np.float32)  # the window before the first hop is silence
        self._frames = 0
        self._mean = np.zeros(N_MELS, np.float32)
        self._floor: np.ndarray | None = None  # set by the first frame

    def settle(self, samples: np.ndarray) -> None:
        """Start the running mean where it stands after the first `NORM_FRAMES` frames of ``samples`` (a whole
        recording, known in advance), as a stream's stands once it has heard a few seconds.

        A stream's mean at its start holds only what came before the first word, often a breath or silence, so
        the first word stands far above it and the model hears it wrongly (on a real read sentence, 100 ms of
        closed lips before its opening "And"). A file need not start unsettled."""
        ahead = StreamingSpectrum()
        ahead.feed(np.asarray(samples[: NORM_FRAMES * HOP], np.float32))
        self._mean, self._frames = ahead._mean, ahead._frames

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """(new frames, `N_FEATURES`) features for ``samples`` (16 kHz mono) added to what came before."""
        self._samples = np.concatenate([self._samples, np.asarray(samples, np.float32)])
        count = (self._samples.size - (N_FFT - HOP)) // HOP
        if count <= 0:
            return np.zeros((0, N_FEATURES), np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(self._samples, N_FFT)[::HOP][:count]
        logs = np.log10(np.maximum(mel_power(frames), POWER_FLOOR))
        self._samples = self._samples[count * HOP:]
        out = np.empty((count, N_FEATURES), np.float32)
        for k, row in enumerate(logs):  # running mean: cumulative at first, then a ~3 s memory
            self._frames += 1
            self._mean += (row - self._mean) / min(self._frames, NORM_FRAMES)
            out[k, :N_MELS] = row - self._mean
            if self._floor is None:
                self._floor = row.copy()
            self._floor += (row - self._floor) * np.where(row > self._floor, FLOOR_RISE, FLOOR_FALL)
            out[k, N_MELS:] = np.clip(row - self._floor, 0.0, ABOVE_FLOOR_MAX) * ABOVE_FLOOR_SCALE
        return out


class _Network:
    """One trained network's state as a stream: its convolutions' last inputs and the GRU's hidden state."""

    def __init__(self, w: Weights) -> None:
        self.w = w
        self._conv1_in = np.zeros((2, w.conv1.shape[1]), np.float32)
        self._conv2_in = np.zeros((4, w.conv2.shape[1]), np.float32)
        self._state = np.zeros(w.gru_hidden.shape[1], np.float32)

    def log_posteriors(self, features: np.ndarray) -> np.ndarray:
        """(frames, 15) log-posteriors of the next ``features`` (frames, `N_FEATURES`), the network's delay included."""
        w = self.w
        x1 = np.concatenate([self._conv1_in, features])
        self._conv1_in = x1[-2:]
        h1 = _causal_conv(x1, w.conv1, w.conv1_bias, 1)
        x2 = np.concatenate([self._conv2_in, h1])
        self._conv2_in = x2[-4:]
        h2 = _causal_conv(x2, w.conv2, w.conv2_bias, 2)
        gates_in = h2 @ w.gru_input.T + w.gru_input_bias
        hidden = w.gru_hidden.shape[1]
        outputs = np.empty((features.shape[0], hidden), np.float32)
        state = self._state
        for t in range(features.shape[0]):
            gh = w.gru_hidden @ state + w.gru_hidden_bias
            gi = gates_in[t]
            reset = _sigmoid(gi[:hidden] + gh[:hidden])
            update = _sigmoid(gi[hidden:2 * hidden] + gh[hidden:2 * hidden])
            new = np.tanh(gi[2 * hidden:] + reset * gh[2 * hidden:])
            state = (1.0 - update) * new + update * state
            outputs[t] = state
        self._state = state
        logits = outputs @ w.out.T + w.out_bias
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


class VisemeStream:
    """The model fed audio chunk by chunk (16 kHz mono float32); returns the log-posteriors of the frames it
    has decided, oldest first. Chunking never changes the result: feeding a recording whole or in pieces
    gives the same frames. The shipped model is a small ensemble: its networks read the same features and
    their posteriors are averaged."""

    def __init__(self, weights: Weights | Sequence[Weights] | None = None,
                 settled_on: np.ndarray | None = None) -> None:
        members = load_weights() if weights is None else weights
        self._networks = [_Network(w) for w in ([members] if isinstance(members, Weights) else members)]
        self._spectrum = StreamingSpectrum()
        if settled_on is not None:  # a whole recording: its level known from the start (`StreamingSpectrum.settle`)
            self._spectrum.settle(settled_on)
        self._emitted = 0
        self._produced = 0

    @property
    def decided_frames(self) -> int:
        """Frames decided so far (the first `DELAY_FRAMES` outputs of the network are warm-up)."""
        return self._emitted

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """(frames, 15) log-posteriors of the frames decided with ``samples`` added."""
        return self._decide(self._spectrum.feed(samples))

    def finish(self) -> np.ndarray:
        """The last `DELAY_FRAMES` frames, decided with silence after the end."""
        return self.feed(np.zeros(DELAY_FRAMES * HOP, np.float32))

    def _decide(self, features: np.ndarray) -> np.ndarray:
        n = features.shape[0]
        if n == 0:
            return np.zeros((0, len(VISEMES)), np.float32)
        each = [network.log_posteriors(features) for network in self._networks]
        log_post = each[0] if len(each) == 1 else np.log(np.mean(np.exp(each), axis=0))
        warm_up = min(n, max(0, DELAY_FRAMES - self._produced))  # outputs for frames before the start
        self._produced += n
        decided = log_post[warm_up:]
        self._emitted += decided.shape[0]
        return decided.astype(np.float32)


def _causal_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, dilation: int) -> np.ndarray:
    """ReLU(conv) over time of (frames + 2 * dilation, in) -> (frames, out), the newest tap last."""
    n = x.shape[0] - 2 * dilation
    y = bias + sum(x[k * dilation:k * dilation + n] @ kernel[:, :, k].T for k in range(3))
    return np.maximum(y, 0.0).astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function; below -80 it is 0 to float32 anyway, and exp would overflow (a warning per chunk)."""
    return 1.0 / (1.0 + np.exp(-np.maximum(x, -80.0)))


def viseme_posteriors(samples: np.ndarray, weights: Weights | Sequence[Weights] | None = None,
                      settled: bool = True) -> np.ndarray:
    """(frames, 15) log-posteriors of 16 kHz ``samples``, a whole recording, one row per 10 ms frame: as the
    stream gives them, but ``settled`` from the start on the recording's own level (`StreamingSpectrum.settle`)."""
    stream = VisemeStream(weights, samples if settled else None)
    parts = [stream.feed(samples[start : start + FILE_CHUNK]) for start in range(0, samples.size, FILE_CHUNK)]
    return np.concatenate([*parts, stream.finish()])[: int(np.ceil(samples.size / HOP))]


def frame_visemes(log_posteriors: np.ndarray) -> list[str]:
    """The most likely viseme per frame, closed lips favoured by `CLOSURE_BONUS`."""
    scores = log_posteriors + CLOSURE_BONUS * (np.arange(len(VISEMES)) == VISEMES.index("PP"))
    return [VISEMES[k] for k in np.argmax(scores, axis=1)]


def visemes_to_phones(labels: Sequence[str], start: float = 0.0) -> list[Phone]:
    """Frame visemes -> contiguous `Phone`s (one ARPAbet phone per viseme), runs shorter than
    `MIN_RUN_FRAMES` joined to the previous run unless they close the lips (so p/b/m are never lost)."""
    runs: list[list] = []
    for k, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            runs[-1][2] = k + 1
        else:
            runs.append([label, k, k + 1])
    merged: list[list] = []
    for run in runs:
        short = run[2] - run[1] < MIN_RUN_FRAMES and run[0] != "PP"
        if merged and (short or merged[-1][0] == run[0]):
            merged[-1][2] = run[2]
        else:
            merged.append(run)
    return [Phone(PHONE_OF_VISEME[label], start + a * FRAME_S, start + b * FRAME_S) for label, a, b in merged]




def streamed_phones(samples: np.ndarray, chunk: int = 2 * HOP) -> list[Phone]:
    """The phones the live mode shows for 16 kHz ``samples`` fed ``chunk`` samples (20 ms) at a time; the
    stream gives the same frames whatever the chunking (see `VisemeStream`)."""
    stream = VisemeStream()
    parts = [stream.feed(samples[i:i + chunk]) for i in range(0, samples.size, chunk)] + [stream.finish()]
    return visemes_to_phones(frame_visemes(np.concatenate(parts)[: int(np.ceil(samples.size / HOP))]))


def model_phones(speech: Speech) -> list[Phone] | None:
    """The model's phones for a whole `Speech` (cached on it), heard settled on its level from the start (unlike
    the live mode's, `streamed_phones`), or None when the weights are not installed."""
    if speech.phones is None and available():
        speech.phones = visemes_to_phones(frame_visemes(viseme_posteriors(speech.samples)))
    return speech.phones
