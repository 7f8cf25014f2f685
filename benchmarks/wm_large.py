"""Watermark variant for `watermark_tradeoff.py`: large soft carriers, an explicit sync pattern, a short payload.

    WM_CHIPS=16 WM_REPEAT=2 nice .venv/bin/python benchmarks/watermark_tradeoff.py --module wm_large

Fourth round of docs/provenance.md (figures there); kept so that the next attempt starts from it. It did not
beat the product's mark, so the product does not use it. Why it was tried: chips of 8 px at 512 cannot be
both invisible and robust (third round); chips of 16-32 px show far less to a high-pass measure and survive
downscaling and x264, but leave too few chips per tile for the product's 216 coded bits and for its
bit-energy sync. So here:

- the tile has CHIPS x CHIPS chips (2 tiles across, as in the product: 16 px chips at 512 for CHIPS=16,
  21 px for 12, 12.8 px for 20); each chip is a soft bump (Gaussian of CHIP_SOFTNESS chips);
- the payload is the 32-bit video id and a check of CHECK_BITS (low bits of a salted CRC-16), rate-1/2
  convolutional code (K=7, 92 coded bits), REPEAT chips per coded bit per tile; the other chips carry a
  fixed pseudo-random sync pattern;
- the reader reads at about READ_CHIP_PX pixels per chip, high-passes at the carrier's scale (the luma minus
  a Gaussian of HIGH_PASS_CHIPS chips: the shading goes, the carriers stay), weights by local energy as the
  product does, finds the period by autocorrelation as the product does, folds, finds the crop offset as the
  peak of the correlation with the sync pattern over all shifts and sub-chip phases (in standard deviations:
  the detection score), then decodes the data chips there (the check must match);
- energy: mean square MEAN_SQUARE at 512 px and up, more where the first frame is smooth (the product's
  map, capped at MAX_STRENGTH), informed gains per chip (1 to INFORMED_MAX), as in the product.

Sixth round: ``WM_CHROMA=1`` carries the pattern in BT.601 Cb instead of luma (G and B moved against each
other, luma kept; the reader reads Cb), as `wm_chroma.py` does for the product's tile.

Every constant can be set from the environment (WM_CHIPS, WM_REPEAT, WM_MS, WM_INFORMED, WM_MAXSTR, WM_FLOOR,
WM_FINE, WM_POW, WM_MEDIAN, WM_HP, WM_SOFT, WM_CHECK, WM_DECODE, ...) so that one file measures the whole table.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import scipy.fft

from talkinghead.provenance.watermark import Payload, Reading

CHIPS = int(os.environ.get("WM_CHIPS", 16))
TILES_ACROSS = 2
MEAN_SQUARE = float(os.environ.get("WM_MS", 4.0))  # of the pattern, grey levels squared, before informed gains
MEAN_SQUARE_SMALL = float(os.environ.get("WM_MS_SMALL", MEAN_SQUARE))  # at 256 px and less
CHIP_SOFTNESS = float(os.environ.get("WM_SOFT", 0.4))
INFORMED_MAX = float(os.environ.get("WM_INFORMED", 2.0))
HIGH_PASS_CHIPS = float(os.environ.get("WM_HP", 1.0))  # sigma of the Gaussian subtracted by the reader
MEDIAN_CHIPS = float(os.environ.get("WM_MEDIAN", 0))  # reader: luma minus its median over this many chips
NOISE_FLOOR = float(os.environ.get("WM_FLOOR", 2.0))
FINE_WEIGHT = bool(int(os.environ.get("WM_FINE", 0)))
WEIGHT_POWER = float(os.environ.get("WM_POW", 1.0))  # detail / (local energy + floor) ** power
ID_BITS, CHECK_BITS = 32, int(os.environ.get("WM_CHECK", 8))
PAYLOAD_BITS = ID_BITS + CHECK_BITS
CONSTRAINT, GENERATORS = 7, (0o171, 0o133)
CODED_BITS = len(GENERATORS) * (PAYLOAD_BITS + CONSTRAINT - 1)
REPEAT = int(os.environ.get("WM_REPEAT", 2))  # chips per coded bit per tile
MAX_STRENGTH = float(os.environ.get("WM_MAXSTR", 4.0))  # relative level on smooth areas (the product: 4)
LIST_PATHS = int(os.environ.get("WM_PATHS", 1))
PATTERN_SEED = 0x7A1C_4EAD
SALT = b"\xa5th"
PERIOD_MIN, PERIOD_MAX = 0.25, 0.7
PERIOD_CANDIDATES = 8
REFINE_STEPS = (0.02, 0.01, 0.005, 0.0025)
READ_PER_CHIP = 4
CHIP_CLIP = 2.5
READ_CHIP_PX = 6  # inputs are read at a size where a chip is about this many pixels
DECODE_THRESHOLD = float(os.environ.get("WM_DECODE", 5.0))
SYNC_THRESHOLD = float(os.environ.get("WM_SYNC", 7.0))

if REPEAT * CODED_BITS >= CHIPS * CHIPS:
    raise ValueError(f"{CODED_BITS} coded bits do not fit {CHIPS}x{CHIPS} chips")


@dataclass(frozen=True)
class Layout:
    data_pos: np.ndarray  # (CODED_BITS,) flat chip index of each coded bit
    data_sign: np.ndarray  # (CODED_BITS,) spreading sign
    sync: np.ndarray  # (CHIPS, CHIPS) +/-1 on sync chips, 0 on data chips


@cache
def layout() -> Layout:
    rng = np.random.default_rng(PATTERN_SEED)
    n = CHIPS * CHIPS
    order = rng.permutation(n)
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), n)
    sync = np.zeros(n, np.float32)
    used = REPEAT * CODED_BITS
    sync[order[used:]] = signs[order[used:]]
    return Layout(order[:used], signs[order[:used]], sync.reshape(CHIPS, CHIPS))


# ---- payload and code --------------------------------------------------------------------------------------


def _check(body: bytes) -> int:
    return binascii.crc_hqx(SALT + body, 0xFFFF) & ((1 << CHECK_BITS) - 1)


def payload_bits(video_id: str) -> np.ndarray:
    body = bytes.fromhex(video_id[: ID_BITS // 4])
    value = int.from_bytes(body, "big") << CHECK_BITS | _check(body)
    return np.array([(value >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)], np.uint8)


def parse_bits(bits: np.ndarray) -> Payload | None:
    value = int("".join(str(int(b)) for b in bits), 2)
    body = (value >> CHECK_BITS).to_bytes(ID_BITS // 8, "big")
    if value & ((1 << CHECK_BITS) - 1) != _check(body):
        return None
    return Payload("?", body.hex())


@cache
def _trellis() -> tuple[np.ndarray, np.ndarray]:
    states = np.arange(2 ** (CONSTRAINT - 1))[:, None]
    register = np.arange(2)[None, :] << (CONSTRAINT - 1) | states
    parity = np.vectorize(lambda v: bin(int(v)).count("1") & 1)
    outputs = np.stack([parity(register & g) for g in GENERATORS], axis=-1).astype(np.float32) * 2 - 1
    return outputs, register >> 1


def encode(bits: np.ndarray) -> np.ndarray:
    outputs, next_state = _trellis()
    state, coded = 0, []
    for bit in np.concatenate([bits, np.zeros(CONSTRAINT - 1, bits.dtype)]).astype(int):
        coded.append(outputs[state, bit] > 0)
        state = int(next_state[state, bit])
    return np.concatenate(coded).astype(np.uint8)


def viterbi(soft: np.ndarray, paths: int = 1) -> list[np.ndarray]:
    outputs, _ = _trellis()
    n_states = outputs.shape[0]
    steps = soft.reshape(-1, len(GENERATORS))
    metric = np.full((n_states, paths), -np.inf)
    metric[0, 0] = 0.0
    new = np.arange(n_states)
    incoming_bit = new >> (CONSTRAINT - 2)
    lower = (new & (n_states // 2 - 1)) << 1
    back = np.empty((len(steps), n_states, paths), np.int32)
    for t, symbols in enumerate(steps):
        branch = outputs @ symbols
        extended = np.concatenate([metric[lower] + branch[lower, incoming_bit][:, None],
                                   metric[lower + 1] + branch[lower + 1, incoming_bit][:, None]], axis=1)
        best = np.argsort(-extended, axis=1, kind="stable")[:, :paths]
        back[t] = best
        metric = np.take_along_axis(extended, best, axis=1)
    found = []
    for rank in range(paths):
        if not np.isfinite(metric[0, rank]):
            break
        bits = np.empty(len(steps), np.uint8)
        state = 0
        for t in range(len(steps) - 1, -1, -1):
            bits[t] = state >> (CONSTRAINT - 2)
            choice = int(back[t, state, rank])
            state, rank = int(lower[state]) + choice // paths, choice % paths
        found.append(bits[: len(steps) - (CONSTRAINT - 1)])
    return found


# ---- embedding -----------------------------------------------------------------------------------------------


CB_G, CB_B = -0.344136, 1.772
CHROMA = bool(int(os.environ.get("WM_CHROMA", 0)))  # carry the pattern in Cb, not luma


def chroma(frame: np.ndarray) -> np.ndarray:
    """BT.601 Cb without its offset, float32."""
    f = frame.astype(np.float32)
    y = f @ np.array([0.299, 0.587, 0.114], np.float32)
    return (f[..., 2] - y) * 0.564


def rgb_delta(pattern: np.ndarray) -> np.ndarray:
    """Whole-level RGB change for the pattern: in Cb at constant luma, or in luma (R, G and B alike)."""
    d = np.random.default_rng(PATTERN_SEED + 1).random(pattern.shape, np.float32)
    out = np.zeros((*pattern.shape, 3), np.float32)
    if CHROMA:
        out[..., 1] = np.floor(CB_G * pattern + d)
        out[..., 2] = np.floor(CB_B * pattern + (1 - d))
    else:
        out[...] = np.floor(pattern + d)[..., None]
    return out


def strength_map(frame: np.ndarray) -> np.ndarray:
    """The product's map (more where smooth, 0.25 to MAX_STRENGTH of the median), mean square 1."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 2.0)
    texture = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), 8.0)) + 0.5
    strength = np.clip(float(np.median(texture)) / texture, 0.25, MAX_STRENGTH)
    return strength / np.sqrt(np.mean(strength**2))


def chip_tile(video_id: str) -> np.ndarray:
    lay = layout()
    tile = lay.sync.ravel().copy()
    coded = encode(payload_bits(video_id)).astype(np.float32) * 2 - 1
    tile[lay.data_pos] = np.tile(coded, REPEAT) * lay.data_sign
    return tile.reshape(CHIPS, CHIPS)


def _blurred_tiles(chips: np.ndarray, height: int, width: int) -> np.ndarray:
    period = width / TILES_ACROSS
    rows = (np.arange(height) % period * CHIPS / period).astype(int)
    cols = (np.arange(width) % period * CHIPS / period).astype(int)
    sigma = CHIP_SOFTNESS * period / CHIPS
    return cv2.GaussianBlur(chips[rows[:, None], cols[None, :]].astype(np.float32), (0, 0), sigma)


def mean_square(width: int) -> float:
    share = float(np.clip((width - 256) / 256, 0.0, 1.0))
    return MEAN_SQUARE_SMALL + share * (MEAN_SQUARE - MEAN_SQUARE_SMALL)


def frame_pattern(video_id: str, height: int, width: int, strength: np.ndarray,
                  gains: np.ndarray | None = None) -> np.ndarray:
    chips = chip_tile(video_id)
    unit = _blurred_tiles(chips, height, width)
    unit /= np.sqrt(np.mean(unit**2)) + 1e-9
    wave = unit * strength
    gain = np.sqrt(mean_square(width) / max(float(np.mean(wave**2)), 1e-9))
    if gains is not None:
        wave = _blurred_tiles(chips * gains, height, width) / (np.sqrt(np.mean(_blurred_tiles(chips, height,
                                                                                               width) ** 2)) + 1e-9)
        wave *= strength
    wave = wave * gain
    return wave


def own_chips(frame: np.ndarray) -> np.ndarray:
    """The chip values a reader sees in this frame at the tile's own period and place."""
    acc = Accumulator()
    acc.add(frame)
    assert acc.total is not None
    return chip_phases(fold(acc.total, acc.total.shape[1] / TILES_ACROSS))[0]


def informed_gains(video_id: str, frame: np.ndarray, strength: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    chips = chip_tile(video_id)
    host = own_chips(frame) * chips
    pattern = frame_pattern(video_id, height, width, strength)
    marked = np.clip(frame.astype(np.float32) + rgb_delta(pattern), 0, 255).astype(np.uint8)
    pull = own_chips(marked) * chips - host
    target = float(np.median(pull))
    return np.clip((target - host) / np.maximum(pull, 1e-3 * max(target, 1e-6)), 1.0, INFORMED_MAX).astype(
        np.float32)


class Watermark:
    def __init__(self, video_id: str, height: int, width: int) -> None:
        self.video_id, self.height, self.width = video_id, height, width
        self.plus: np.ndarray | None = None
        self.minus: np.ndarray | None = None

    def apply(self, frame: np.ndarray) -> np.ndarray:
        if self.plus is None or self.minus is None:
            strength = strength_map(frame)
            gains = informed_gains(self.video_id, frame, strength) if INFORMED_MAX > 1 else None
            pattern = frame_pattern(self.video_id, self.height, self.width, strength, gains)
            delta = rgb_delta(pattern)
            self.plus = np.clip(delta, 0, 255).astype(np.uint8)
            self.minus = np.clip(-delta, 0, 255).astype(np.uint8)
        cv2.add(frame, self.plus, dst=frame)
        cv2.subtract(frame, self.minus, dst=frame)
        return frame


# ---- reading -------------------------------------------------------------------------------------------------


class Accumulator:
    def __init__(self) -> None:
        self.total: np.ndarray | None = None
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        if frame.ndim == 2:
            gray = frame.astype(np.float32)
        else:
            gray = chroma(frame) if CHROMA else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        target = TILES_ACROSS * CHIPS * READ_CHIP_PX
        if gray.shape[1] > target:
            scale = target / gray.shape[1]
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        residual = weighted_detail(gray)
        if self.total is None:
            self.total = np.zeros_like(residual)
        if residual.shape != self.total.shape:
            return
        self.total += residual
        self.frames += 1

    def read(self) -> Reading:
        if self.total is None or self.frames == 0:
            return Reading(0.0, 0.0, None, 0.0, 0)
        mean = self.total / self.frames
        best = Reading(0.0, 0.0, None, 0.0, self.frames)
        for period in candidate_periods(mean):
            reading = refine(mean, period, self.frames)
            if reading.found:
                return reading
            if reading.sync_score > best.sync_score:
                best = reading
        return best


def weighted_detail(gray: np.ndarray) -> np.ndarray:
    """Detail at the carrier's scale (luma minus a Gaussian of HIGH_PASS_CHIPS chips: the shading goes), each
    pixel weighted down where the picture's own detail at that scale is strong."""
    chip = gray.shape[1] / (TILES_ACROSS * CHIPS)
    if MEDIAN_CHIPS:  # an edge-keeping prediction of the picture: its edges and shading go, the bumps stay
        size = max(3, round(MEDIAN_CHIPS * chip) | 1)
        detail = gray - cv2.medianBlur(np.clip(gray + 0.5, 0, 255).astype(np.uint8), size).astype(np.float32)
    else:
        detail = gray - cv2.GaussianBlur(gray, (0, 0), HIGH_PASS_CHIPS * chip)
    if FINE_WEIGHT:  # trust by the fine texture around (the smooth carriers hardly add to it)
        fine = gray - cv2.GaussianBlur(gray, (0, 0), 0.1 * chip)
        energy = cv2.GaussianBlur(fine * fine, (0, 0), 0.5 * chip)
        weighted = detail / (energy + NOISE_FLOOR)
        limit = 3.0 * np.median(np.abs(weighted)) + 1e-9
        return np.clip(weighted, -limit, limit)
    energy = cv2.GaussianBlur(detail * detail, (0, 0), 1.5 * chip)
    return np.clip(detail / (energy + NOISE_FLOOR) ** WEIGHT_POWER, -1.0, 1.0)


def read_frames(frames: Iterable[np.ndarray]) -> Reading:
    acc = Accumulator()
    for frame in frames:
        acc.add(frame)
    return acc.read()


def candidate_periods(residual: np.ndarray, count: int = PERIOD_CANDIDATES) -> list[float]:
    height, width = residual.shape
    side, longest = min(height, width), max(height, width)
    low, high = round(side * PERIOD_MIN), min(round(longest * PERIOD_MAX), longest - 2)
    if high <= low + 2:
        return []
    spectrum = np.fft.rfft2(residual - residual.mean(), s=(2 * height, 2 * width))
    auto = np.fft.irfft2(np.abs(spectrum) ** 2, s=(2 * height, 2 * width))
    lags = np.arange(longest)
    total, terms = np.zeros(longest), np.zeros(longest)
    along_x, along_y, diagonal = lags[lags < width], lags[lags < height], lags[lags < side]
    total[along_x] += auto[0, along_x] / (height * (width - along_x))
    total[along_y] += auto[along_y, 0] / ((height - along_y) * width)
    total[diagonal] += (auto[diagonal, diagonal] + auto[diagonal, -diagonal]) / (
        (height - diagonal) * (width - diagonal))
    terms[along_x] += 1
    terms[along_y] += 1
    terms[diagonal] += 2
    score = total / np.maximum(terms, 1)
    chip = side / (TILES_ACROSS * CHIPS)
    window = 3 * max(1, round(chip)) + 1
    score = score - np.convolve(score, np.ones(window) / window, mode="same")
    picks: list[int] = []
    for lag in low + np.argsort(score[low : high + 1])[::-1]:
        if all(abs(lag - pick) > max(2, 0.02 * pick) for pick in picks):
            picks.append(int(lag))
        if len(picks) == count:
            break
    periods = []
    for lag in picks:
        left, mid, right = score[lag - 1], score[lag], score[min(lag + 1, longest - 1)]
        curve = left - 2 * mid + right
        offset = 0.5 * (left - right) / curve if curve < 0 else 0.0
        periods.append(lag + float(np.clip(offset, -0.5, 0.5)))
    return periods


def refine(residual: np.ndarray, period: float, frames: int) -> Reading:
    best = read_at_period(residual, period, frames, decode=False)
    for step in REFINE_STEPS:
        centre = best.period
        for candidate in (centre * (1 - step), centre * (1 + step)):
            reading = read_at_period(residual, candidate, frames, decode=False)
            if reading.sync_score > best.sync_score:
                best = reading
    return read_at_period(residual, best.period, frames) if best.sync_score >= DECODE_THRESHOLD else best


def fold(residual: np.ndarray, period: float) -> np.ndarray:
    tile = CHIPS * READ_PER_CHIP
    scale = tile / period
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(residual, None, fx=scale, fy=scale, interpolation=shrink)
    rows, cols = resized.shape
    if rows < tile // 2 or cols < tile // 2:
        return np.zeros((tile, tile), np.float32)
    index = (np.arange(rows) % tile)[:, None] * tile + (np.arange(cols) % tile)[None, :]
    total = np.bincount(index.ravel(), weights=resized.ravel(), minlength=tile * tile)
    count = np.bincount(index.ravel(), minlength=tile * tile)
    return (total / np.sqrt(np.maximum(count, 1))).reshape(tile, tile).astype(np.float32)


def chip_phases(tile: np.ndarray) -> np.ndarray:
    per = READ_PER_CHIP
    chips = np.stack([np.roll(tile, (-dy, -dx), axis=(0, 1)).reshape(CHIPS, per, CHIPS, per).mean(axis=(1, 3))
                      for dy in range(per) for dx in range(per)])
    chips -= np.median(chips, axis=(1, 2), keepdims=True)
    scale = 1.4826 * np.median(np.abs(chips), axis=(1, 2), keepdims=True) + 1e-9
    return np.clip(chips, -CHIP_CLIP * scale, CHIP_CLIP * scale)


@cache
def _sync_spectrum() -> np.ndarray:
    sync = layout().sync
    return np.conj(scipy.fft.rfft2(sync / np.sqrt(np.sum(sync**2))))


def read_at_period(residual: np.ndarray, period: float, frames: int, decode: bool = True) -> Reading:
    """Fold at ``period``; the sync pattern's correlation at every shift and sub-chip phase; its peak in
    standard deviations is the score; decode the data chips there."""
    phases = chip_phases(fold(residual, period))
    phases = phases / (phases.std(axis=(1, 2), keepdims=True) + 1e-9)
    corr = scipy.fft.irfft2(scipy.fft.rfft2(phases) * _sync_spectrum()[None], s=(CHIPS, CHIPS))
    score = float((corr.max() - corr.mean()) / (corr.std() + 1e-12))
    if not decode or score < DECODE_THRESHOLD:
        return Reading(score, period, None, 0.0, frames)
    phase, dy, dx = np.unravel_index(int(np.argmax(corr)), corr.shape)
    chips = np.roll(phases[phase], (-dy, -dx), axis=(0, 1)).ravel()
    lay = layout()
    soft = (chips[lay.data_pos] * lay.data_sign).reshape(REPEAT, CODED_BITS).sum(axis=0)
    margin = float(np.abs(soft).mean() / (soft.std() + 1e-9))
    payloads = (parse_bits(bits) for bits in viterbi(soft, LIST_PATHS))
    return Reading(score, period, next((p for p in payloads if p is not None), None), margin, frames)
