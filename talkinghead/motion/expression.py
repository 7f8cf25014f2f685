"""Brows and emotion: brow raises on emphasis, and emotion presets that shape face, head and blinks.

An emotion is a small set of offsets (`Emotion`): smile (negative pulls the mouth corners down), cheek
raise, brow raise and furrow, plus how energetic the head is, where it rests (looking down when sad) and
how often the eyes blink. Expressions are absolute, like the mouth: ``happy`` and ``sad`` are the same smile
on every photo (``happy`` on top of what ``neutral`` keeps of a grinning photo's own smile, so it never reads
less happy than the photo), ``photo`` keeps the photo's own expression, and ``neutral`` (the default)
releases 80% of a grinning photo's smile while it speaks (its lips can then close over its teeth): measured
with dlib, the mouth corners' lift while speaking then lies half-way from the photo's to a neutral face's
(neutral faces speaking: about 0 +- 0.01 of the face width; the grinning astronaut: 0.081 in the photo,
0.037-0.043 speaking, three clips). Not further: each step of release costs likeness (on the astronaut,
keeping 0.35 / 0.15 / none of the smile: lift 0.046 / 0.040 / 0.035 and dlib identity distance 0.39 / 0.41 /
0.42). ``intensity`` scales the step from neutral. An emotion schedule changes the
emotion over time with a short cross-fade, so the face never snaps.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from talkinghead.audio.prosody import Prosody
from talkinghead.errors import TalkingHeadError
from talkinghead.input_files import EMOTION_SCHEDULE_BYTES, read_json
from talkinghead.motion.head import smooth_noise
from talkinghead.motion.timing import pulse_train, resample_to_frames

NEUTRAL_KEEPS_PHOTO = 0.2  # share of a grinning photo's own smile neutral keeps (see the module docstring)
CROSSFADE_S = 0.35          # emotion changes blend over about this long
BROW_ON_ACCENT = 0.65       # share of accents that lift the brows
BROW_RISE_S = 0.12


@dataclass(frozen=True)
class Emotion:
    """Offsets from the resting face for one emotion at intensity 1."""

    smile: float = 0.0
    cheek_raise: float = 0.0
    brow_raise: float = 0.0
    brow_furrow: float = 0.0
    head_energy: float = 1.0   # multiplies head motion
    head_pitch: float = 0.0    # resting head pitch, degrees (+ looks down)
    blink_rate: float = 1.0    # multiplies the blink rate
    photo_expression: float = 0.0  # share of the photo's own smile kept (0: released to a relaxed mouth)


EMOTIONS: dict[str, Emotion] = {
    "neutral": Emotion(photo_expression=NEUTRAL_KEEPS_PHOTO),
    "happy": Emotion(smile=0.9, cheek_raise=0.6, brow_raise=0.15, head_energy=1.2, head_pitch=-2.0,
                     photo_expression=NEUTRAL_KEEPS_PHOTO),
    "sad": Emotion(smile=-0.8, brow_raise=0.3, brow_furrow=0.4, head_energy=0.6, head_pitch=6.0,
                   blink_rate=0.9),
    "angry": Emotion(smile=-0.35, cheek_raise=0.2, brow_furrow=0.9, head_energy=1.25, head_pitch=3.0,
                     blink_rate=1.1),
    "surprised": Emotion(smile=0.05, brow_raise=1.0, head_energy=1.1, head_pitch=-3.5, blink_rate=0.7),
    "calm": Emotion(smile=0.25, cheek_raise=0.15, head_energy=0.6, blink_rate=0.85),
    "photo": Emotion(photo_expression=1.0),
}


@dataclass
class EmotionCurves:
    """Each `Emotion` field as a per-frame array (the schedule already blended)."""

    values: dict[str, np.ndarray]

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


def scaled(emotion: str, intensity: float) -> np.ndarray:
    """The emotion's fields as a vector, ``intensity`` of the way from neutral."""
    neutral = np.array(astuple(EMOTIONS["neutral"]))
    return neutral + intensity * (np.array(astuple(EMOTIONS[emotion])) - neutral)


def emotion_curves(emotion: str, intensity: float, schedule: list[dict], fps: float, n: int) -> EmotionCurves:
    """Per-frame emotion fields: ``emotion`` until the schedule's first change, cross-fading at each."""
    times = (np.arange(n) + 0.5) / fps
    current = np.tile(scaled(emotion, intensity), (n, 1))
    for entry in sorted(schedule, key=lambda e: e["time"]):
        current[times >= entry["time"]] = scaled(entry["emotion"], entry.get("intensity", intensity))
    if schedule and n > 1:
        current = gaussian_filter1d(current, CROSSFADE_S * fps / 2.0, axis=0, mode="nearest")
    names = [f.name for f in fields(Emotion)]
    return EmotionCurves({name: current[:, i].astype(np.float32) for i, name in enumerate(names)})


def load_emotion_schedule(path: str | Path) -> list[dict]:
    """Read a JSON list of ``{"time": seconds, "emotion": name}`` (optional ``"intensity"``), checked."""
    return parse_emotion_schedule(read_json(path, "emotion schedule", EMOTION_SCHEDULE_BYTES),
                                  f"emotion schedule {path}")


def parse_emotion_schedule(entries: Any, where: str) -> list[dict]:
    """The schedule's entries once every key, type and value is known good."""
    if not isinstance(entries, list):
        raise TalkingHeadError(f"{where} must be a JSON list of {{time, emotion}} objects")
    for i, entry in enumerate(entries):
        at = f"{where}, entry {i}"
        if not isinstance(entry, dict) or not {"time", "emotion"} <= set(entry):
            raise TalkingHeadError(f"{at}: needs \"time\" (seconds) and \"emotion\"")
        extra = sorted(set(entry) - {"time", "emotion", "intensity"})
        if extra:
            raise TalkingHeadError(f"{at}: unknown key(s) {', '.join(repr(k)[:40] for k in extra[:3])}; "
                                   "known: time, emotion, intensity")
        if not isinstance(entry["emotion"], str) or entry["emotion"] not in EMOTIONS:
            raise TalkingHeadError(f"{at}: unknown emotion {repr(entry['emotion'])[:40]}; known: {', '.join(EMOTIONS)}")
        for key, low, high in (("time", 0.0, 1e6), ("intensity", 0.0, 2.0)):
            value = entry.get(key, low)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise TalkingHeadError(f"{at}: \"{key}\" must be a number between {low:g} and {high:g}")
    return entries


def expression_channels(prosody: Prosody, rng: np.random.Generator, fps: float, n: int,
                        emotion: EmotionCurves) -> dict[str, np.ndarray]:
    """smile, cheek_raise, brow_raise, brow_furrow per frame: the emotion, alive, with brows on emphasis."""
    accents = np.flatnonzero(prosody.accents)
    strength = prosody.accents[accents]
    lifted = rng.random(len(accents)) < BROW_ON_ACCENT
    amounts = strength * rng.uniform(0.3, 0.55, len(accents)) * lifted
    onsets = accents / prosody.rate - 0.08  # brows lead the stressed syllable slightly
    emphasis = np.minimum(pulse_train(onsets, amounts, BROW_RISE_S, fps, n), 0.7)
    # expressions are never frozen: a slow +-10% breathing of their strength
    alive = 1.0 + 0.1 * smooth_noise(rng, n, fps, 1.5)
    speaking = resample_to_frames(prosody.speaking.astype(np.float32), prosody.rate, fps, n)
    return {
        "smile": np.clip(emotion.smile * alive, -1.0, 1.0),
        "cheek_raise": np.clip(emotion.cheek_raise * alive, 0.0, 1.0),
        "brow_raise": np.clip(emotion.brow_raise * alive + emphasis * (0.5 + 0.5 * speaking), 0.0, 1.0),
        "brow_furrow": np.clip(emotion.brow_furrow * alive, 0.0, 1.0),
        "photo_expression": np.clip(emotion.photo_expression, 0.0, 2.0).astype(np.float32),
    }
