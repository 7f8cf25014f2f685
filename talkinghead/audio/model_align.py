"""Forced alignment of known phones to the viseme model's posteriors (Viterbi), for when PocketSphinx fails.

Why. PocketSphinx's aligner finds no path through some recordings (voices far from its acoustic model: many
espeak-ng voices, read numbers). The old fallback matched the transcript's phones to what a phone recogniser
heard by edit distance, and its times were loose: on two clips of read numbers ("5%", "$12.50", "3:30 pm")
it scored 0.56 balanced accuracy where the viseme model alone scored 0.87. The viseme model hears mouth
shapes frame by frame, so a known phone sequence can be laid on its posteriors exactly: each phone becomes
a run of frames, in order, with an optional pause between words, and the path that makes the model's
posteriors most likely wins. The phones and their order are the transcript's; only their times come from
the model.

>>> import numpy as np
>>> from talkinghead.audio.viseme_model import VISEMES
>>> post = np.full((30, len(VISEMES)), np.log(0.01)); post[:10, VISEMES.index("PP")] = 0.0
>>> post[10:, VISEMES.index("aa")] = 0.0
>>> [(p.label, round(p.start, 2), round(p.end, 2)) for p in model_aligned([["P", "AA"]], post)]
[('P', 0.0, 0.1), ('AA', 0.1, 0.3)]
"""

from __future__ import annotations

import numpy as np

from talkinghead.audio.phonemes import SILENCE, Phone
from talkinghead.audio.viseme_model import FRAME_S, VISEMES
from talkinghead.motion.visemes import viseme_of

MIN_PHONE_FRAMES = 2  # a phone lasts at least 20 ms (each phone is this many chained states)
FLOOR = 1e-4  # no frame may veto a phone outright: the model is sometimes sure and wrong
# Above this many (frames x states) cells the path's choices would take too much memory (one byte each); the
# caller keeps its own fallback. 40 million cells: about 3 minutes of speech at 3 phones a second.
MAX_CELLS = 40_000_000


def fits(words: list[list[str]], frames: int) -> bool:
    """Whether `model_aligned` may align ``words`` to ``frames`` frames within `MAX_CELLS`."""
    return _state_count(words) * frames <= MAX_CELLS and frames >= _state_count(words) - len(words) - 1


def model_aligned(words: list[list[str]], log_posteriors: np.ndarray) -> list[Phone]:
    """The phones of ``words`` (ARPAbet, each word's phones in order), timed on ``log_posteriors`` (frames,
    `VISEMES`): contiguous over the frames, pauses (``SIL``) wherever the best path rests between words."""
    labels, owners = _states(words)
    emissions = np.log(np.maximum(np.exp(log_posteriors), FLOOR))
    columns = np.array([VISEMES.index(viseme_of(label)) for label in labels])
    path = _viterbi(emissions[:, columns], np.array([label == SILENCE for label in labels]))
    return _phones(labels, owners, path)


def _state_count(words: list[list[str]]) -> int:
    return sum(len(w) for w in words) * MIN_PHONE_FRAMES + len(words) + 1


def _states(words: list[list[str]]) -> tuple[list[str], np.ndarray]:
    """Each state's label and the phone (or pause) it belongs to: a pause before every word and after the
    last, and `MIN_PHONE_FRAMES` chained states per phone."""
    labels: list[str] = []
    owners: list[int] = []
    for word in [*words, []]:
        labels.append(SILENCE)
        owners.append(len(set(owners)))
        for phone in word:
            owner = len(set(owners))
            labels.extend([phone] * MIN_PHONE_FRAMES)
            owners.extend([owner] * MIN_PHONE_FRAMES)
    return labels, np.array(owners)


def _viterbi(emissions: np.ndarray, skippable: np.ndarray) -> np.ndarray:
    """The states of the best left-to-right path through (frames, states) ``emissions``: each frame stays,
    comes from the state before, or jumps over a skippable state before; the path starts in state 0 or 1 and
    ends in the last state or the one before (the pauses at both ends are optional)."""
    frames, states = emissions.shape
    score = np.full(states, -np.inf)
    score[:2] = emissions[0, :2]
    choices = np.zeros((frames, states), np.int8)
    can_skip = np.concatenate([[False, False], skippable[1:-1]])  # state s may come from s - 2 over s - 1
    for t in range(1, frames):
        stay, step = score, np.concatenate([[-np.inf], score[:-1]])
        skip = np.where(can_skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        best = np.argmax(np.stack([stay, step, skip]), axis=0)
        score = np.choose(best, [stay, step, skip]) + emissions[t]
        choices[t] = best
    path = np.empty(frames, int)
    path[-1] = states - 1 if score[-1] >= score[-2] else states - 2
    for t in range(frames - 1, 0, -1):
        path[t - 1] = path[t] - choices[t, path[t]]
    return path


def _phones(labels: list[str], owners: np.ndarray, path: np.ndarray) -> list[Phone]:
    """Runs of frames on the path with the same owner -> phones."""
    out: list[Phone] = []
    for t, state in enumerate(path):
        if t and owners[path[t - 1]] == owners[state]:
            out[-1] = Phone(out[-1].label, out[-1].start, (t + 1) * FRAME_S)
        else:
            out.append(Phone(labels[state], t * FRAME_S, (t + 1) * FRAME_S))
    return out
