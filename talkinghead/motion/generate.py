"""Speech + Controls -> MotionTrack: a first, envelope-driven motion model.

The mouth follows the speech loudness (averaged over each video frame, so nothing flickers); the head
drifts on smooth, seeded random motion that grows with speech and settles in pauses; the eyes blink at
human rates. Later models (phoneme visemes, prosody-driven head) replace these functions one by one
behind the same `generate_motion` signature.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d

from talkinghead.audio import Speech
from talkinghead.controls import Controls
from talkinghead.motion.track import MotionTrack

HEAD_STD = {"head_yaw": 2.2, "head_pitch": 1.6, "head_roll": 1.0, "head_x": 0.004, "head_y": 0.003}
HEAD_SMOOTH_S = 0.45
BLINK_MEAN_GAP_S = 3.6
BLINK_DURATION_S = (0.16, 0.30)


def n_frames_for(duration_s: float, fps: float) -> int:
    """Frames for a clip: round(duration x fps), at least one."""
    return max(1, round(duration_s * fps))


def generate_motion(speech: Speech, controls: Controls) -> MotionTrack:
    """The full track for ``speech``; same speech and controls (seed included) give the same track."""
    n = n_frames_for(speech.duration, controls.fps)
    rng = np.random.default_rng(controls.seed)
    track = MotionTrack.still(controls.fps, n)
    openness = mouth_openness(speech, controls.fps, n)
    track.channels["jaw_open"][:] = 0.8 * openness**1.2
    track.channels["lips_open"][:] = 0.6 * openness
    liveliness = 0.5 + 0.5 * _resample(gaussian_filter1d(speech.activity, 50.0), speech.feature_rate, controls.fps, n)
    for name, std in HEAD_STD.items():
        track.channels[name][:] = smooth_noise(rng, n, controls.fps) * std * controls.motion_scale * liveliness
    blinks = blink_curve(rng, n, controls.fps)
    track.channels["blink_left"][:] = blinks
    track.channels["blink_right"][:] = blinks
    return track


def mouth_openness(speech: Speech, fps: float, n: int) -> np.ndarray:
    """0..1 per video frame from loudness relative to the recording's own speaking level."""
    level = speech.energy_db
    floor = float(np.percentile(level, 10))
    loud = float(np.percentile(level, 97))
    if loud - floor < 6.0:
        return np.zeros(n, np.float32)
    open_ = np.clip((level - floor - 8.0) / (loud - floor - 8.0 + 1e-6), 0.0, 1.0) * speech.activity
    per_frame = uniform_filter1d(open_, size=max(1, round(speech.feature_rate / fps)), mode="nearest")
    return np.clip(_resample(per_frame, speech.feature_rate, fps, n), 0.0, 1.0).astype(np.float32)


def smooth_noise(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    """Unit-variance low-pass noise: smooth enough to have no frame-to-frame jitter."""
    sigma = HEAD_SMOOTH_S * fps
    pad = int(3 * sigma)
    noise = gaussian_filter1d(rng.standard_normal(n + 2 * pad), sigma)[pad : pad + n]
    return (noise / (noise.std() + 1e-9) if n > 1 else noise * 0).astype(np.float32)


def blink_curve(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    """0..1 lid closure per frame: blinks at ~15/min, quick close, slower open."""
    curve = np.zeros(n, np.float32)
    times = np.arange(n) / fps
    start = rng.uniform(0.6, 2.5)
    while start < n / fps:
        duration = rng.uniform(*BLINK_DURATION_S)
        close = 0.35 * duration
        phase = times - start
        closing = (phase >= 0) & (phase < close)
        opening = (phase >= close) & (phase < duration)
        curve[closing] = np.maximum(curve[closing], np.sin(0.5 * np.pi * phase[closing] / close))
        rise = (phase[opening] - close) / (duration - close)
        curve[opening] = np.maximum(curve[opening], np.cos(0.5 * np.pi * rise) ** 2)
        start += duration + rng.gamma(2.0, BLINK_MEAN_GAP_S / 2.0)
    return curve


def _resample(values: np.ndarray, rate: float, fps: float, n: int) -> np.ndarray:
    """Sample a ``rate`` Hz series at the centres of ``n`` video frames."""
    source_times = np.arange(len(values)) / rate
    frame_times = (np.arange(n) + 0.5) / fps
    return np.interp(frame_times, source_times, values).astype(np.float32)
