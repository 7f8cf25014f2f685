"""Head channels: a smooth random sway excited by prosody.

Two layers per axis. A base of low-pass noise (a slow drift plus a faster sway) whose strength follows
the speech: full while speaking, livelier with more accents and louder voice, settling to a quiet
breathing sway in pauses. On top, gestures at pitch accents: a nod (down, then back a little past rest)
with a small tilt and turn, each a smooth bump that starts just before the stressed syllable. A soft
limit keeps the head in frame however long the clip is; the low-pass filters leave no frame jitter.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from talkinghead.audio.prosody import Prosody
from talkinghead.motion.timing import pulse_train, resample_to_frames

# standard deviation of the base sway while speaking at motion_scale 1 (degrees, or share of the frame)
SWAY_STD = {"head_yaw": 5.5, "head_pitch": 3.8, "head_roll": 4.2, "head_x": 0.005, "head_y": 0.004,
            "head_scale": 0.006}
# soft limits: the head never goes further than this from rest
LIMIT = {"head_yaw": 15.0, "head_pitch": 12.0, "head_roll": 10.0, "head_x": 0.04, "head_y": 0.04,
         "head_scale": 0.05}
PAUSE_LEVEL = 0.3        # share of the sway's size left in pauses
PAUSE_PACE = 0.25        # and of its speed
SLOW_S, FAST_S = 0.9, 0.2  # smoothing (Gaussian sigma) of the drift and of the sway
NOD_DEG = (4.0, 8.0)     # nod size range on a full-strength accent (before the rebound takes its share)
TILT_DEG = (0.8, 2.5)    # roll and yaw on an accent, random side
NOD_RISE_S = 0.14
NOD_LEAD_S = 0.1         # gestures start this long before the accented syllable's peak
START_EASE_S = 0.6       # a file's video opens on the photo's own pose and eases into motion over this


def head_channels(prosody: Prosody, rng: np.random.Generator, fps: float, n: int,
                  energy: np.ndarray, pitch_offset: np.ndarray) -> dict[str, np.ndarray]:
    """yaw/pitch/roll (degrees), x/y shift and scale per frame.

    ``energy`` (per frame) multiplies all motion (motion scale x emotion); ``pitch_offset`` (degrees per
    frame) is where the head rests (an emotion's posture).
    """
    drive = _drive(prosody, fps, n)
    excitement = PAUSE_LEVEL + (1.0 - PAUSE_LEVEL) * drive
    # the sway runs on its own clock, fast in lively speech and slow in pauses: speed follows the voice
    clock = np.cumsum(PAUSE_PACE + (1.0 - PAUSE_PACE) * drive)
    energy = np.asarray(energy, np.float64)
    gestures = _accent_gestures(prosody, rng, fps, n)
    channels = {}
    for name, std in SWAY_STD.items():
        slow = smooth_noise(rng, n, fps, SLOW_S)
        fast = warped_noise(rng, clock, fps, FAST_S)
        sway = (0.3 * slow + 0.95 * fast) * std
        value = (sway * excitement + gestures.get(name, 0.0)) * energy
        if name == "head_pitch":
            value = value + pitch_offset
        channels[name] = soft_limit(value, LIMIT[name]).astype(np.float32)
    return channels


def ease_in_from_photo(channels: dict[str, np.ndarray], fps: float) -> dict[str, np.ndarray]:
    """The head channels with the pose eased in from rest over `START_EASE_S` (smoothstep).

    Why: the video's first frame is then the photo itself (a faithful poster frame, and a first frame a viewer
    can compare with the photo), and the head sets off from where the photo has it instead of appearing
    already turned.

    >>> ease_in_from_photo({"head_yaw": np.ones(40, np.float32)}, fps=25.0)["head_yaw"][[0, 5, 15, 39]]
    array([0.        , 0.25925925, 1.        , 1.        ], dtype=float32)
    """
    if not channels:
        return channels
    n = len(next(iter(channels.values())))
    ramp = np.clip(np.arange(n) / (START_EASE_S * fps), 0.0, 1.0)
    ramp = (ramp * ramp * (3.0 - 2.0 * ramp)).astype(np.float32)
    return {name: (values * ramp).astype(np.float32) for name, values in channels.items()}


def _drive(prosody: Prosody, fps: float, n: int) -> np.ndarray:
    """How much the speech drives the head per frame: 0 in pauses, ~1 in speech, more when lively."""
    speaking = resample_to_frames(prosody.speaking.astype(np.float32), prosody.rate, fps, n)
    loud = resample_to_frames(prosody.envelope, prosody.rate, fps, n)
    accent_rate = gaussian_filter1d(prosody.accents.astype(np.float64) > 0, 1.5 * prosody.rate) * prosody.rate
    lively = np.clip(0.7 + 0.3 * resample_to_frames(accent_rate, prosody.rate, fps, n), 0.7, 1.4)
    drive = speaking * (0.4 + 0.6 * loud) * lively
    return gaussian_filter1d(drive, 0.12 * fps, mode="nearest") if n > 1 else drive


def _accent_gestures(prosody: Prosody, rng: np.random.Generator, fps: float, n: int) -> dict[str, np.ndarray]:
    """A nod with a small tilt and turn at every accent, sized by its strength."""
    frames = np.flatnonzero(prosody.accents)
    strength = prosody.accents[frames].astype(np.float64)
    onsets = frames / prosody.rate - NOD_LEAD_S
    count = len(frames)
    nod = strength * rng.uniform(*NOD_DEG, count)
    roll = strength * rng.uniform(*TILT_DEG, count) * rng.choice([-1.0, 1.0], count)
    yaw = strength * rng.uniform(*TILT_DEG, count) * rng.choice([-1.0, 1.0], count)
    return {
        # a nod goes down and comes back a little past rest, with no net drift however many accents come
        "head_pitch": pulse_train(onsets, nod, NOD_RISE_S, fps, n) - pulse_train(onsets, 0.5 * nod, 2 * NOD_RISE_S,
                                                                                fps, n),
        "head_roll": pulse_train(onsets, roll, 1.5 * NOD_RISE_S, fps, n),
        "head_yaw": pulse_train(onsets, yaw, 1.5 * NOD_RISE_S, fps, n),
    }


def smooth_noise(rng: np.random.Generator, n: int, fps: float, sigma_s: float = 0.45) -> np.ndarray:
    """Unit-variance low-pass noise (Gaussian-filtered, sigma ``sigma_s``): no frame-to-frame jitter.

    Normalised by the filter's own gain, not by the sample's spread, so a short clip is not inflated.
    """
    sigma = max(sigma_s * fps, 0.5)
    pad = int(3 * sigma) + 1
    white = rng.standard_normal(n + 2 * pad)
    kernel_norm = 1.0 / np.sqrt(2.0 * np.sqrt(np.pi) * sigma)  # std of Gaussian-filtered unit noise
    return (gaussian_filter1d(white, sigma)[pad : pad + n] / kernel_norm).astype(np.float32)


def warped_noise(rng: np.random.Generator, clock: np.ndarray, fps: float, sigma_s: float) -> np.ndarray:
    """`smooth_noise` read at ``clock`` (in frames, increasing): it changes faster where the clock runs faster."""
    length = int(np.ceil(clock[-1])) + 2 if len(clock) else 1
    noise = smooth_noise(rng, length, fps, sigma_s)
    return np.interp(clock, np.arange(length), noise)


def soft_limit(values: np.ndarray, limit: float) -> np.ndarray:
    """Unchanged near rest, approaching ``limit`` smoothly (tanh) instead of crossing it."""
    return limit * np.tanh(np.asarray(values, np.float64) / limit)
