"""Per-coded-bit model of informed coding after "crf 32 + 50% downscale" (fifth round, docs/provenance.md).

    PYTHONPATH=benchmarks nice .venv/bin/python benchmarks/wm_informed_model.py [--work /tmp/th-wm-tradeoff]
        [--scenes 0 2 5 8 16 17]

For each harness scene (512-px render cached by `watermark_tradeoff.py`) it measures what the reader sums for
each coded bit, at the tile's own period and place (signed by the bit, so positive = right): the picture's push
on the first frame (h0), the plain pattern's pull (p), today's mark (gains g), and, over the 3 s clip encoded as
the product encodes and then halved and re-encoded at crf 32, the sums of the unmarked (hatt) and marked (satt)
clips. It fits satt = hatt + a * g * p + eps (a: how much of the mark the attack leaves; eps: the attack's own
noise), then asks how many coded bits a scheme gets wrong when the attack is (1) absent, (2) a pure gain a,
(3) a gain and eps, (4) what was measured (the picture's push stays while the mark shrinks by a). Schemes:
today's spread spectrum, and spread-transform dither modulation (each bit's sum quantised onto a dithered
lattice, distortion compensation alpha, step chosen so the embedding energy mean(g^2) equals today's; read
with the true a, which a real reader would have to estimate).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import wm_informed as wm
from watermark_tradeoff import VIDEO_ID, _scale, x264


def reader_sums(frames: list[np.ndarray], coded: np.ndarray) -> np.ndarray:
    acc = wm.Accumulator()
    for frame in frames:
        acc.add(frame)
    assert acc.total is not None
    chips = wm.chip_phases(wm.fold(acc.total / acc.frames, acc.total.shape[1] / wm.TILES_ACROSS))[0]
    return np.einsum("gyx,yx->g", wm.layout().groups, chips) * coded


def measure(raw: np.ndarray, coded: np.ndarray) -> dict[str, np.ndarray]:
    first = raw[0]
    strength = wm.strength_map(first)
    plain = wm.frame_pattern(VIDEO_ID, *first.shape[:2], strength)
    h0 = wm.coded_sums(first) * coded
    mark = wm.Watermark(VIDEO_ID, *raw.shape[1:3])
    marked = [mark.apply(frame.copy()) for frame in raw]

    def attack(frames: list[np.ndarray]) -> list[np.ndarray]:
        return x264([_scale(0.5)(f) for f in x264(frames, 20, product=True)[0]], 32)[0]

    return {"h0": h0, "p": wm.coded_sums(wm._marked(first, plain)) * coded - h0,
            "g": wm.informed_gains(VIDEO_ID, first, strength),
            "satt": reader_sums(attack(marked), coded), "hatt": reader_sums(attack(list(raw)), coded)}


def coset_margin(y: np.ndarray, step: float, dither: np.ndarray) -> np.ndarray:
    """Distance to the bit-0 coset minus distance to the bit-1 coset (positive = the bit, as every bit here
    is signed to be 1)."""
    def distance(bit: int) -> np.ndarray:
        r = (y - dither - bit * step / 2) / step
        return np.abs(r - np.round(r)) * step
    return distance(0) - distance(1)


def stdm_mark(h0: np.ndarray, p: np.ndarray, energy: float, alpha: float, unit: np.ndarray
              ) -> tuple[np.ndarray, float, np.ndarray]:
    """The mark per bit that moves alpha of the way to the nearest bit-1 lattice point, the step being set by
    bisection so that mean((mark / p)^2) equals ``energy``."""
    def make(step: float) -> tuple[np.ndarray, np.ndarray]:
        dither = unit * step
        nearest = dither + step / 2 + np.round((h0 - dither - step / 2) / step) * step
        return alpha * (nearest - h0), dither
    low, high = 1e-3, 50.0
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if np.mean((make(mid)[0] / p) ** 2) < energy else (low, mid)
    mark, dither = make(high)
    return mark, high, dither


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/th-wm-tradeoff"))
    parser.add_argument("--scenes", type=int, nargs="*", default=[0, 2, 5, 8, 16, 17])
    args = parser.parse_args()
    coded = wm.encode(wm.payload_bits(VIDEO_ID)).astype(np.float32) * 2 - 1
    rng = np.random.default_rng(0)
    rows: dict[tuple[str, str], list[float]] = {}
    for scene in args.scenes:
        m = measure(np.load(args.work / f"scene{scene}-512.npy"), coded)
        h0, p, g, satt, hatt = m["h0"], m["p"], m["g"], m["satt"], m["hatt"]
        today = g * p
        a = float(np.dot(satt - hatt, today) / np.dot(today, today))
        eps = satt - hatt - a * today
        print(f"scene {scene}: mark kept x{a:.2f}; picture's push std {h0.std():.2f} -> {hatt.std():.2f} "
              f"(correlation {np.corrcoef(h0, hatt)[0, 1]:.2f}); attack noise std {eps.std():.2f}; "
              f"today's mark mean {today.mean():.2f} before the attack", flush=True)
        schemes = {"today's spread spectrum": (today, None, None)}
        for alpha in (0.7, 1.0):
            mark, step, dither = stdm_mark(h0, p, float(np.mean(g**2)), alpha, rng.random(len(h0)))
            schemes[f"STDM alpha {alpha}"] = (mark, step, dither)
        for name, (mark, step, dither) in schemes.items():
            cases = {"no attack": (h0 + mark, 1.0), "gain a only": (a * (h0 + mark), a),
                     "gain a + attack noise": (a * (h0 + mark) + eps, a),
                     "measured": (hatt + a * mark + eps, a)}
            for case, (y, gain) in cases.items():
                margin = y if step is None else coset_margin(y / gain, step, dither)
                rows.setdefault((name, case), []).append(float(np.mean(margin < 0)))
    print("\nshare of coded bits wrong, scenes " + " ".join(map(str, args.scenes)))
    for (name, case), values in rows.items():
        print(f"{name:24s} {case:22s} " + " ".join(f"{v:.2f}" for v in values))


if __name__ == "__main__":
    main()
