"""Seventh-round model (docs/provenance.md): per-chip dither modulation on large, low-frequency carriers.

    WM_CHIP=16 WM_STEP=160 WM_ALPHA=0.8 WM_CARRIER=half PYTHONPATH=benchmarks nice .venv/bin/python \
        benchmarks/wm_dither_chips.py 0 2 5 8

Each chip of ``WM_CHIP`` px (at 512) carries one random bit on a zero-mean carrier inside the chip (the lowest
DCT basis, "half", or a sine that vanishes at the chip's edges, "smooth"; direction random per chip), so chips
never overlap and a crop loses only whole chips. In every frame each chip's projection on its carrier is moved
``WM_ALPHA`` of the way onto a dithered lattice of step ``WM_STEP`` (host rejection: the picture's own push is
cancelled, not outshouted). Read at the known place, soft lattice distances averaged over the clip. Scenes are
`watermark_tradeoff.py`'s cached 512-px renders (square ones). Prints per-chip bit error rates as encoded,
after halving + crf 32 and after +8% brightness + crf 28, and the pattern's RMS and its high-passed RMS over
the first frame's flat areas (the visibility measure's view of it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
from watermark import _brightness, _scale
from watermark_tradeoff import high_pass, luma, x264

CHIP = int(os.environ.get("WM_CHIP", 16))
STEP = float(os.environ.get("WM_STEP", 160))
ALPHA = float(os.environ.get("WM_ALPHA", 0.8))
CARRIER = os.environ.get("WM_CARRIER", "half")
WORK = Path("/tmp/th-wm-tradeoff")


def carriers() -> np.ndarray:
    """The two unit-norm carriers of one chip (across, down)."""
    u = (np.arange(CHIP) + 0.5) / CHIP
    if CARRIER == "half":
        w = np.tile(np.cos(np.pi * u), (CHIP, 1))
    else:
        w = np.sin(2 * np.pi * u)[None, :] * np.sin(np.pi * u)[:, None]
    return np.stack([w, w.T]).astype(np.float32) / np.linalg.norm(w)


def chips_of(y: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows, cols, CHIP, CHIP) view of the whole chips of ``y``."""
    return y[: rows * CHIP, : cols * CHIP].reshape(rows, CHIP, cols, CHIP).swapaxes(1, 2)


def projections(y: np.ndarray, direction: np.ndarray) -> np.ndarray:
    w = carriers()[direction]  # (rows, cols, CHIP, CHIP)
    return np.einsum("ijyx,ijyx->ij", chips_of(y, *direction.shape), w)


def embed(frame: np.ndarray, direction: np.ndarray, bits: np.ndarray, dither: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """The marked frame and the luma pattern added."""
    f = projections(luma(frame), direction)
    offset = dither * STEP + bits * STEP / 2
    delta = ALPHA * (offset + np.round((f - offset) / STEP) * STEP - f)
    pattern = np.zeros(frame.shape[:2], np.float32)
    rows, cols = direction.shape
    chips_of(pattern, rows, cols)[:] = delta[..., None, None] * carriers()[direction]
    return np.clip(frame + pattern[..., None], 0, 255).round().astype(np.uint8), pattern


def bit_errors(frames: list[np.ndarray], direction: np.ndarray, bits: np.ndarray, dither: np.ndarray) -> float:
    total = np.zeros(direction.shape)
    for frame in frames:
        y = luma(frame)
        if y.shape[1] != 512:  # read at the marked size
            y = cv2.resize(y, None, fx=512 / y.shape[1], fy=512 / y.shape[1], interpolation=cv2.INTER_LINEAR)
        f = projections(y, direction)
        distance = [np.abs((r := (f - dither * STEP - b * STEP / 2) / STEP) - np.round(r)) for b in (0, 1)]
        total += distance[0] - distance[1]
    return float(np.mean((total > 0) != (bits == 1)))


def main() -> None:
    rng = np.random.default_rng(1)
    for scene in map(int, sys.argv[1:]):
        raw = np.load(WORK / f"scene{scene}-512.npy")
        shape = (raw.shape[1] // CHIP, raw.shape[2] // CHIP)
        direction, bits, dither = rng.integers(0, 2, shape), rng.integers(0, 2, shape), rng.random(shape)
        marked, patterns = zip(*(embed(frame, direction, bits, dither) for frame in raw), strict=True)
        encoded = x264(list(marked), 20, product=True)[0]
        halved = x264([_scale(0.5)(f) for f in encoded], 32)[0]
        brighter = x264([_brightness(1.08)(f) for f in encoded], 28)[0]
        y = luma(raw[0])
        mean = cv2.blur(y, (9, 9))
        spread = np.sqrt(np.maximum(cv2.blur(y * y, (9, 9)) - mean * mean, 0))
        flat = cv2.erode((spread < 3).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        seen = float(np.sqrt(np.mean(high_pass(patterns[0])[flat] ** 2)))
        print(f"scene {scene}, chip {CHIP}, step {STEP:g}, alpha {ALPHA:g}, {CARRIER}: bit errors as encoded "
              f"{bit_errors(encoded, direction, bits, dither):.3f}, crf 32 + half "
              f"{bit_errors(halved, direction, bits, dither):.3f}, bright 8% + crf 28 "
              f"{bit_errors(brighter, direction, bits, dither):.3f}; pattern RMS "
              f"{np.sqrt(np.mean(patterns[0] ** 2)):.2f}, high-passed on flat areas {seen:.2f}", flush=True)


if __name__ == "__main__":
    main()
