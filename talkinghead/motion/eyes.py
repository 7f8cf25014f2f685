"""Eye channels: blinks as events with human statistics, and gaze that fixates, jumps and steadies.

Blinks: both eyes together, ~17 per minute while speaking, 180-380 ms, closing fast and opening slowly.
They are a renewal process run on a warped clock that goes faster at phrase ends and pauses (where people
blink most) and at stressed syllables, so the rate stays human while the timing follows the speech.

Gaze: fixations (about a second each) on points scattered around the main gaze direction, now and then a
look aside, joined by saccades whose duration grows with their size (the main sequence); small
microsaccades during fixations. The eyes hold their target while the head moves: eye-in-head gaze is the
target minus most of the head's rotation (vestibulo-ocular counter-rotation). ``gaze_yaw``/``gaze_pitch``
use the head's signs (+ towards the image's right, + down).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from talkinghead.audio.prosody import Prosody
from talkinghead.motion.timing import frames_of

BLINKS_PER_MIN = 17.0
BLINK_REGULARITY = 3.0       # gamma shape of the intervals: >1 means fewer very short gaps
MIN_BLINK_GAP_S = 0.8
LONGEST_BLINK_S = 0.4
PHRASE_END_BOOST_S = 2.5     # extra blink-clock seconds at each phrase end (a mean gap is ~3.5 s)
ACCENT_BOOST_S = 0.6         # and at each stressed syllable
CLOSE_S, HOLD_S, OPEN_S = (0.06, 0.09), (0.02, 0.05), (0.10, 0.22)
MIN_CLOSED_FRAMES = 2.75     # lid more than half closed for at least this many frame periods

FIXATION_S = 1.1             # mean fixation duration
SCATTER_DEG = (3.0, 2.0)     # spread of fixation targets around the main direction (yaw, pitch)
AVERT_CHANCE = 0.15          # share of fixations that look clearly aside
AVERT_DEG = (6.0, 10.0)
MICRO_GAP_S = 0.6            # mean time between microsaccades
MICRO_DEG = 0.3
COUNTER_ROTATION = 0.8       # share of head rotation the eyes cancel
EYE_RANGE_DEG = (30.0, 25.0)


def eye_channels(prosody: Prosody, rng: np.random.Generator, fps: float, n: int, head: dict[str, np.ndarray],
                 gaze: tuple[float, float] = (0.0, 0.0), blink_rate: np.ndarray | float = 1.0
                 ) -> dict[str, np.ndarray]:
    """Blinks (both eyes) and eye-in-head gaze per frame."""
    blink_rng, gaze_rng = rng.spawn(2)
    rate = np.broadcast_to(np.asarray(blink_rate, np.float64), (n,))
    blinks = blink_curve(blink_rng, n, fps, blink_propensity(prosody, fps, n) * rate,
                         BLINKS_PER_MIN * float(rate.mean()) if n else BLINKS_PER_MIN)
    target_yaw, target_pitch = gaze_targets(gaze_rng, n, fps, gaze)
    eye_yaw = target_yaw - COUNTER_ROTATION * head.get("head_yaw", 0.0)
    eye_pitch = target_pitch - COUNTER_ROTATION * head.get("head_pitch", 0.0)
    return {
        "blink_left": blinks,
        "blink_right": blinks.copy(),
        "gaze_yaw": np.clip(eye_yaw, -EYE_RANGE_DEG[0], EYE_RANGE_DEG[0]).astype(np.float32),
        "gaze_pitch": np.clip(eye_pitch, -EYE_RANGE_DEG[1], EYE_RANGE_DEG[1]).astype(np.float32),
    }


def blink_propensity(prosody: Prosody, fps: float, n: int) -> np.ndarray:
    """Relative blink likelihood per frame: 1, more at phrase ends and accents."""
    boost = np.zeros(n)
    np.add.at(boost, frames_of(prosody.pause_onsets() + 0.15, fps, n), PHRASE_END_BOOST_S * fps)
    np.add.at(boost, frames_of(prosody.accent_times, fps, n), ACCENT_BOOST_S * fps)
    # each boost spread over ~0.6 s; its area (in clock seconds) is kept
    return 1.0 + gaussian_filter1d(boost, 0.15 * fps, mode="constant")


def blink_curve(rng: np.random.Generator, n: int, fps: float, propensity: np.ndarray | float = 1.0,
                per_minute: float = BLINKS_PER_MIN) -> np.ndarray:
    """0..1 lid closure per frame.

    Blinks are spread over a clock that runs at ``propensity`` (per frame): boosts move blinks towards
    phrase ends, they do not add any, so every clip gets close to ``per_minute`` blinks a minute.
    """
    propensity = np.broadcast_to(np.asarray(propensity, np.float64), (n,))
    clock = np.concatenate([[0.0], np.cumsum(propensity)]) / fps  # warped seconds at each frame edge
    times = _blink_times(rng, clock, n / fps, per_minute)
    curve = np.zeros(n, np.float64)
    centres = (np.arange(n) + 0.5) / fps
    for start in times:
        close, hold, open_ = rng.uniform(*CLOSE_S), rng.uniform(*HOLD_S), rng.uniform(*OPEN_S)
        # at low frame rates stretch the blink so it is seen closed on at least two frames
        half_closed = 2 / 3 * close + hold + 0.5 * open_
        stretch = max(1.0, MIN_CLOSED_FRAMES / fps / half_closed)
        _add_blink(curve, centres, start, close * stretch, hold * stretch, open_ * stretch)
    return curve.astype(np.float32)


def _blink_times(rng: np.random.Generator, clock: np.ndarray, duration: float, per_minute: float) -> list[float]:
    """Blink start times (s).

    The count is the expected one, ``duration * per_minute / 60``, rounded up or down at random (so
    short clips get the right rate on average and long ones never stray by more than one blink). The
    blinks split the warped clock into gamma-like gaps (normalised gamma draws: Dirichlet spacings), so
    intervals vary like human ones; gaps under `MIN_BLINK_GAP_S` and blinks that would not finish
    before the end are dropped.
    """
    expected = duration * per_minute / 60.0
    count = int(expected) + int(rng.random() < expected - int(expected))
    gaps = rng.gamma(BLINK_REGULARITY, 1.0, count + 1)
    warped = np.cumsum(gaps)[:-1] / gaps.sum() * clock[-1]
    edges = np.arange(len(clock)) * (duration / max(len(clock) - 1, 1))
    times: list[float] = []
    for t in np.interp(warped, clock, edges):
        if (not times or t - times[-1] >= MIN_BLINK_GAP_S) and t + LONGEST_BLINK_S <= duration:
            times.append(float(t))
    return times


def _add_blink(curve: np.ndarray, centres: np.ndarray, start: float, close: float, hold: float,
               open_: float) -> None:
    """One blink: sine-shaped closing, a short full closure, slower cosine-shaped opening."""
    phase = centres - start
    closing = (phase >= 0) & (phase < close)
    shut = (phase >= close) & (phase < close + hold)
    opening = (phase >= close + hold) & (phase < close + hold + open_)
    curve[closing] = np.maximum(curve[closing], np.sin(0.5 * np.pi * phase[closing] / close))
    curve[shut] = 1.0
    rise = (phase[opening] - close - hold) / open_
    curve[opening] = np.maximum(curve[opening], np.cos(0.5 * np.pi * rise) ** 2)


def gaze_targets(rng: np.random.Generator, n: int, fps: float, main: tuple[float, float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Where the eyes point (degrees, relative to the face's rest) per frame: fixations and saccades."""
    duration = n / fps
    yaw = np.full(n, float(main[0]))
    pitch = np.full(n, float(main[1]))
    centres = (np.arange(n) + 0.5) / fps
    previous = np.array(main, float)
    t = rng.uniform(0.0, FIXATION_S)
    while t < duration:
        if rng.random() < AVERT_CHANCE:
            offset = np.array([rng.uniform(*AVERT_DEG) * rng.choice([-1.0, 1.0]), rng.uniform(-2.0, 4.0)])
        else:
            offset = rng.normal(0.0, SCATTER_DEG)
        target = np.array(main, float) + offset
        _saccade(yaw, pitch, centres, t, previous, target)
        previous = target
        t += max(0.25, rng.gamma(2.0, FIXATION_S / 2.0))
    # microsaccades: tiny jumps on top of the fixations
    t = rng.exponential(MICRO_GAP_S)
    offset = np.zeros(2)
    while t < duration:
        new_offset = rng.normal(0.0, MICRO_DEG, 2)  # around the fixation point, so they never drift
        _saccade(yaw, pitch, centres, t, offset, new_offset, relative=True)
        offset = new_offset
        t += rng.exponential(MICRO_GAP_S) + 0.15
    return yaw, pitch


def _saccade(yaw: np.ndarray, pitch: np.ndarray, centres: np.ndarray, start: float, source: np.ndarray,
             target: np.ndarray, relative: bool = False) -> None:
    """Move gaze from ``source`` to ``target`` from ``start`` on, over the main-sequence duration."""
    size = float(np.hypot(*(target - source)))
    length = 0.021 + 0.0022 * size
    progress = np.clip((centres - start) / length, 0.0, 1.0)
    eased = 0.5 - 0.5 * np.cos(np.pi * progress)
    after = centres >= start
    step = target - source
    if relative:
        yaw += eased * step[0]
        pitch += eased * step[1]
    else:
        yaw[after] = source[0] + eased[after] * step[0]
        pitch[after] = source[1] + eased[after] * step[1]
