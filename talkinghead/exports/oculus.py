"""The 15 visemes of Oculus (Meta) Lipsync under their canonical names, as cues and as per-frame weights.

Oculus Lipsync's viseme set, in its index order: sil PP FF TH DD kk CH SS nn RR aa E ih oh ou. Our motion
model uses the same set (it names the last three I, O, U); outputs always use the canonical names.

Per-frame weights are the dominance blend the mouth model itself uses (motion/visemes.py): each phone pulls
with a weight that is flat over the phone and fades exponentially outside it (rounded sounds reach further
ahead), long pauses rest the mouth; weights are normalised to sum to 1 per frame. The MotionTrack's head
pose and eye channels go alongside, in the track's units (degrees, shares of the frame, 0..1 blinks).
"""

from __future__ import annotations

import json

import numpy as np

from talkinghead.audio.phonemes import Phone
from talkinghead.errors import TalkingHeadError
from talkinghead.exports import ExportSource
from talkinghead.motion.track import EYE_CHANNELS, HEAD_CHANNELS
from talkinghead.motion.visemes import (
    DOMINANCE,
    LIPS_REACH_S,
    LONG_PAUSE_S,
    ROUNDED,
    ROUNDING_LEAD_S,
    VISEMES,
    Cue,
    viseme_of,
)

OCULUS_VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")
OCULUS_NAME = dict(zip(VISEMES, OCULUS_VISEMES, strict=True))
POSE_CHANNELS = HEAD_CHANNELS + EYE_CHANNELS
_LIPS = 1  # the lips_open column of DOMINANCE: how strongly a viseme shows on the lips


def oculus_name(viseme: str) -> str:
    """Canonical Oculus name of one of our visemes (``I`` -> ``ih``)."""
    return OCULUS_NAME.get(viseme, viseme)


def cues_json(source: ExportSource) -> str:
    return json.dumps({"cues": [{"start": round(c.start, 3), "end": round(c.end, 3), "viseme": oculus_name(c.viseme)}
                                for c in source.cues]})


def cues_tsv(source: ExportSource) -> str:
    return "\n".join(f"{c.start:.3f}\t{c.end:.3f}\t{oculus_name(c.viseme)}" for c in source.cues) + "\n"


def viseme_weights(phones: list[Phone] | None, cues: list[Cue], fps: float, n: int) -> np.ndarray:
    """(n, 15) weights per video frame, each row summing to 1, columns in `OCULUS_VISEMES` order."""
    times = (np.arange(n) + 0.5) / fps
    weights = np.zeros((n, len(VISEMES)))
    if phones is None:  # no phones: each frame is the cue it falls in
        for cue in cues:
            weights[(times >= cue.start) & (times < cue.end), VISEMES.index(cue.viseme)] = 1.0
    else:
        for phone in phones:
            viseme = viseme_of(phone.label)
            lead = ROUNDING_LEAD_S if viseme in ROUNDED else LIPS_REACH_S
            before = np.clip(phone.start - times, 0.0, None)
            after = np.clip(times - phone.end, 0.0, None)
            pull = DOMINANCE[viseme][_LIPS] * np.exp(-before / lead - after / LIPS_REACH_S)
            if viseme == "sil" and phone.duration >= LONG_PAUSE_S:
                pull[(before == 0) & (after == 0)] *= 50.0
            weights[:, VISEMES.index(viseme)] += pull
    total = weights.sum(axis=1, keepdims=True)
    weights[total[:, 0] == 0, 0] = 1.0  # nothing said here: silence
    return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)


def _frames(source: ExportSource) -> tuple[int, np.ndarray, dict[str, np.ndarray]]:
    if source.track is None:
        raise TalkingHeadError("per-frame viseme weights need the MotionTrack (its frame count and head pose)")
    track = source.track
    n = track.n_frames
    weights = viseme_weights(source.phones, source.cues, track.fps, n)
    pose = {name: track.channels.get(name, np.zeros(n, np.float32)) for name in POSE_CHANNELS}
    return n, weights, pose


def weights_csv(source: ExportSource) -> str:
    """``frame,time,<15 visemes>,<head and eye channels>``: one row per video frame at the track's fps."""
    n, weights, pose = _frames(source)
    fps = source.track.fps if source.track else source.fps
    lines = [",".join(("frame", "time", *OCULUS_VISEMES, *POSE_CHANNELS))]
    for k in range(n):
        cells = [str(k), f"{k / fps:.4f}", *(f"{w:.4f}" for w in weights[k]),
                 *(f"{float(pose[name][k]):.4f}" for name in POSE_CHANNELS)]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def weights_json(source: ExportSource) -> str:
    """``{"fps", "n_frames", "visemes": [names], "weights": {name: [per frame]}, "head": {...}, "eyes": {...}}``."""
    n, weights, pose = _frames(source)
    fps = source.track.fps if source.track else source.fps
    return json.dumps({
        "fps": fps, "n_frames": n, "visemes": list(OCULUS_VISEMES),
        "weights": {name: np.round(weights[:, k], 4).tolist() for k, name in enumerate(OCULUS_VISEMES)},
        "head": {name: np.round(pose[name], 4).tolist() for name in HEAD_CHANNELS},
        "eyes": {name: np.round(pose[name], 4).tolist() for name in EYE_CHANNELS},
    })
