"""Articulator dynamics: jaw and lips move like masses on springs, never like switches.

Viseme targets change in steps at phone boundaries, and loudness changes from one 10 ms frame to the next;
real articulators cannot follow either. We model every mouth channel as a critically damped second-order
system driven towards its target, the model of speech gestures in Task Dynamics (Saltzman & Munhall 1989:
each gesture a critically damped mass-spring). Critically damped because it is the fastest response without
overshoot (a lip that overshoots its closure would bounce), second order because then both the speed and the
acceleration stay bounded (a first-order lag still starts moving with a jump in speed). We run the system
forward and then backward in time (a file render knows the future and a live stream has its look-ahead), so
the result has no lag: a mouth that opens late looks dubbed. With time constant ``tau`` a full step is
crossed in about ``6 tau`` (two passes), so the jaw (``JAW_TAU_S``) needs ~90 ms to open fully, the lips
(``LIPS_TAU_S``) ~70 ms, as real ones do; nothing opens and shuts within one 40 ms video frame. (Slower
articulators lower the correlation of the opening with the speech: these are the fastest that keep the
opening free of single-frame flaps on the dev clips.)

Bilabial closures are constraints, not targets: a smoothed /m/ of 35 ms between two open vowels would only
half close. So after the dynamics the lips are pulled shut over each closure (`close_lips`): they come to it
over ``CLOSE_S`` and part from it over ``RELEASE_S``; a closure lasts as long as its phone (at least two frames
when the phone lasts ``LONG_CLOSURE_S`` or more), and the lips never snap from shut to wide in one frame. The
approach is the shorter: the lips' own dynamics already slow their coming together, and a ramp as long as the
release on top of them began to shut the lips before the sound did (docs/lip-sync.md, "Closures").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from itertools import pairwise

import numpy as np
from scipy.signal import lfilter, lfilter_zi

JAW_TAU_S = 0.015
LIPS_TAU_S = 0.012
SHAPE_TAU_S = 0.02  # width, rounding and the other lip shapes: slower muscles, smaller moves
TAU_S = {"jaw_open": JAW_TAU_S, "lips_open": LIPS_TAU_S}
RELEASE_S = 0.04  # lips part from a closure over about this long (a stop releases fast)
CLOSE_S = 0.02  # ... and come to it over this long (see the module docstring)
JAW_AT_CLOSURE = 0.2  # the jaw may stay this open under sealed lips
JAW_RELEASE_S = 0.04
JAW_SETTLE_TAU_S = 0.012  # the jaw's dynamics once more after the closures are imposed (see move_articulators)
SHORT_OPENING_S = 0.16  # an opening between two closures shorter than this undershoots its target
LONG_CLOSURE_S = 0.06  # a closure at least this long shows on at least two frames at 25 fps
STEP_S = 0.005  # the dynamics run on this fine time grid, then are sampled at the video frames


def critically_damped(values: np.ndarray, tau_s: float, step_s: float) -> np.ndarray:
    """``values`` (on a grid of ``step_s``) through a critically damped second-order system, forward then
    backward (zero lag). Starts and ends at rest on the first and last value, so a clip's ends do not move."""
    if values.size < 2 or tau_s <= 0:
        return values.astype(np.float32)
    pole = float(np.exp(-step_s / tau_s))
    b, a = [(1.0 - pole) ** 2], [1.0, -2.0 * pole, pole * pole]
    state = _rest_state(pole)
    forward = lfilter(b, a, values, zi=state * values[0])[0]
    backward = lfilter(b, a, forward[::-1], zi=state * forward[-1])[0]
    return backward[::-1].astype(np.float32)


@cache
def _rest_state(pole: float) -> np.ndarray:
    """The filter's state at rest on 1 (`lfilter_zi`), once per pole: the live mode smooths every channel of
    every frame's window, and scipy's solver behind `lfilter_zi` tries a failing import on each call."""
    state = lfilter_zi([(1.0 - pole) ** 2], [1.0, -2.0 * pole, pole * pole])
    state.flags.writeable = False
    return state


def smooth_channels(channels: dict[str, np.ndarray], step_s: float) -> dict[str, np.ndarray]:
    """Every channel through its articulator's dynamics (jaw, lips, or the slower lip shapes)."""
    return {name: critically_damped(values, TAU_S.get(name, SHAPE_TAU_S), step_s)
            for name, values in channels.items()}


def closure_intervals(spans: Sequence[tuple[float, float]], fps: float) -> list[tuple[float, float]]:
    """Where the lips must be shut for each (start, end) bilabial span, in seconds, so that every closure shows
    on the video frame nearest its middle and a closure of ``LONG_CLOSURE_S`` or more on at least two frames."""
    out = []
    for start, end in spans:
        middle = 0.5 * (start + end)
        nearest = (np.floor(middle * fps - 0.5) + 0.5 + np.array([0.0, 1.0])) / fps  # frame centres around it
        centres = nearest if end - start >= LONG_CLOSURE_S else nearest[[np.argmin(np.abs(nearest - middle))]]
        out.append((min(start, centres.min() - STEP_S), max(end, centres.max() + STEP_S)))
    return out


def hold_below(values: np.ndarray, times: np.ndarray, intervals: Sequence[tuple[float, float]], ceiling: float,
               release_s: float, approach_s: float | None = None) -> np.ndarray:
    """``values`` at ``times``, held at or below ``ceiling`` inside each interval, easing in over ``approach_s``
    before it (``release_s`` if None) and back over ``release_s`` after it (a smoothstep of the distance, so
    speed and acceleration stay bounded).

    >>> t = np.arange(8) * 0.01
    >>> print(hold_below(np.ones(8), t, [(0.03, 0.04)], 0.0, 0.03, approach_s=0.01).round(2))
    [1.   1.   1.   0.   0.   0.26 0.74 1.  ]
    """
    approach_s = release_s if approach_s is None else approach_s
    factor = np.ones(values.shape, dtype=np.float32)
    for start, end in intervals:
        distance = np.maximum((start - times) / approach_s, (times - end) / release_s).clip(0.0, None)
        ramp = np.clip(distance, 0.0, 1.0)
        factor = np.minimum(factor, ramp * ramp * (3.0 - 2.0 * ramp))
    above = np.clip(values - ceiling, 0.0, None)
    return (values - above * (1.0 - factor)).astype(np.float32)


def close_lips(channels: dict[str, np.ndarray], times: np.ndarray, intervals: Sequence[tuple[float, float]],
               rests: Sequence[tuple[float, float]] = ()) -> None:
    """Lips shut over each closure interval (``lips_open`` 0) and the jaw raised to ``JAW_AT_CLOSURE`` at most
    (lips can seal over a slightly open jaw, not a wide one); over each of ``rests`` (pauses) the lips shut and
    the jaw closes all the way, the mouth at rest. In place."""
    shut = [*intervals, *rests]
    channels["lips_open"] = hold_below(channels["lips_open"], times, shut, 0.0, RELEASE_S, approach_s=CLOSE_S)
    channels["jaw_open"] = hold_below(channels["jaw_open"], times, intervals, JAW_AT_CLOSURE, JAW_RELEASE_S)
    if rests:
        channels["jaw_open"] = hold_below(channels["jaw_open"], times, rests, 0.0, JAW_RELEASE_S)


def undershoot(channels: dict[str, np.ndarray], times: np.ndarray, closures: Sequence[tuple[float, float]]) -> None:
    """Between two closures less than ``SHORT_OPENING_S`` apart the mouth opens in proportion to the time it
    has (target undershoot: a vowel squeezed between two bilabials never reaches its target), so it never
    opens wide for a single video frame and shuts again. In place."""
    ordered = sorted(closures)
    for (_, end), (start, _) in pairwise(ordered):
        room = start - end
        if 0.0 < room < SHORT_OPENING_S:
            inside = (times > end) & (times < start)
            for name in ("jaw_open", "lips_open"):
                channels[name][inside] *= room / SHORT_OPENING_S


def fine_times(n: int, fps: float) -> np.ndarray:
    """The fine time grid (``STEP_S``) covering ``n`` video frames at ``fps``."""
    return np.arange(0.0, max(n, 1) / fps + STEP_S, STEP_S)


def at_frames(values: np.ndarray, grid: np.ndarray, fps: float, n: int) -> np.ndarray:
    """Values on the fine ``grid`` sampled at the video frames' centres."""
    return np.interp((np.arange(n) + 0.5) / fps, grid, values).astype(np.float32)


def move_articulators(targets: dict[str, np.ndarray], grid: np.ndarray, closures: Sequence[tuple[float, float]],
                      rests: Sequence[tuple[float, float]] = ()) -> dict[str, np.ndarray]:
    """Channels on the fine ``grid`` as the articulators follow ``targets``, shut over ``closures`` and at rest
    over ``rests`` (pauses).

    The closures enter twice: as targets (so the mouth heads for them in time, and a short vowel between two
    closures opens less, as real ones do: target undershoot), then as constraints (so they are reached)."""
    shaped = dict(targets)
    if "lips_open" in shaped and "jaw_open" in shaped:
        close_lips(shaped, grid, closures, rests)
        undershoot(shaped, grid, closures)
    step = float(grid[1] - grid[0]) if grid.size > 1 else STEP_S
    moved = smooth_channels(shaped, step)
    if "lips_open" in moved and "jaw_open" in moved:
        close_lips(moved, grid, closures, rests)
        # the jaw is heavy: it leaves and meets a closure along its own dynamics, never in a peak of one frame
        moved["jaw_open"] = critically_damped(moved["jaw_open"], JAW_SETTLE_TAU_S, step)
    return moved
