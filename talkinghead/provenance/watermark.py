"""Invisible watermark: a periodic spread-spectrum tile in the luma of every frame.

Why this design. Crops and rescales move the pixel grid under a mark, and re-encoding wipes fine detail.
So the mark is one 32x32-chip tile repeated over the frame (4 tiles across, whatever the size), added to
R, G and B alike (luma only; chroma subsampling cannot touch it) as whole levels, 1-5, larger where the
first frame is smooth (there a reader's high-pass sees the mark rather than picture detail, and an encoder's
adaptive quantiser is finest), scaled to a mean square of 5.5 (PSNR 40.7 dB). A quarter of the chips
are a fixed pseudo-random *sync* pattern, the rest spread the payload bits (each bit over 12 chips of every
tile, with its own pseudo-random signs). The same tile sits in every frame, so a reader can average
many frames and all tiles of each frame: content averages away, the mark adds up.

Reading needs no knowledge of the original size or position:
1. average the high-passed luma of the frames;
2. the mark is periodic, so the autocorrelation of that average peaks at the tile period, whatever the
   rescale (this gives back the scale); when compression hides those peaks, every period is tried;
3. resample so one period is ``READ_TILE`` pixels and fold the image onto one tile (this averages all tiles);
4. a circular cross-correlation with the sync pattern gives back the shift a crop caused, and its peak says
   how sure we are;
5. the payload chips, aligned, are read by soft correlation and Chase decoding (the least reliable bits
   may flip); a CRC-16 and the fixed marker pick the right candidate and reject noise.

Embedding costs two saturating uint8 adds per frame (the pattern is drawn once per video), so it is far
below a millisecond at 512x512.

Payload (64 bits): marker (4) | talkinghead version (12) | video id (32) | CRC-16 (16).
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from talkinghead import __version__

MEAN_SQUARE = 5.5  # of the pattern's levels: PSNR 10*log10(255^2/5.5) = 40.7 dB
MIN_STRENGTH, MAX_STRENGTH = 0.5, 2.0  # relative level in textured / smooth areas (before scaling)
TILES_ACROSS = 4
CHIPS = 32
READ_TILE = 128  # pixels per tile when reading (4 per chip; chips are read from their central 2x2)
MARKER = 0xA  # 4 bits
ID_BITS = 32
ID_HEX = ID_BITS // 4
PAYLOAD_BITS = 4 + 12 + ID_BITS + 16
SYNC_SHARE = 4  # one chip in 4 is sync, the rest carry the payload (~12 chips per bit per tile)
PATTERN_SEED = 0x7A1C_4EAD  # public: anyone may read the mark (see README, "Responsible use")
CHASE_BITS = 8  # least reliable payload bits the decoder may flip
SYNC_THRESHOLD = 7.0  # sync peak, in standard deviations of the correlation surface
MAX_READ_SIDE = 720  # larger inputs are read at this width (the period stays >= 2 pixels per chip)


@dataclass(frozen=True)
class Layout:
    """The fixed tile: which chips are sync, which payload bit each other chip carries, with what sign."""

    sync: np.ndarray  # (CHIPS, CHIPS) float32: +/-1 on sync chips, 0 elsewhere
    bit_of_chip: np.ndarray  # (CHIPS, CHIPS) int: payload bit index, -1 on sync chips
    chip_sign: np.ndarray  # (CHIPS, CHIPS) float32: +/-1 spreading signs


@cache
def layout() -> Layout:
    rng = np.random.default_rng(PATTERN_SEED)
    n = CHIPS * CHIPS
    order = rng.permutation(n)
    is_sync = np.zeros(n, bool)
    n_sync = n // SYNC_SHARE
    is_sync[order[:n_sync]] = True
    bit_of_chip = np.full(n, -1)
    bit_of_chip[order[n_sync:]] = np.arange(n - n_sync) % PAYLOAD_BITS
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), n)
    sync = np.where(is_sync, signs, 0).astype(np.float32)
    shape = (CHIPS, CHIPS)
    return Layout(sync.reshape(shape), bit_of_chip.reshape(shape), signs.reshape(shape))


# ---- payload -----------------------------------------------------------------------------------------


def version_code(version: str = __version__) -> int:
    """Pack "major.minor.patch" into 12 bits (4/4/4); out-of-range parts saturate at 15."""
    parts = ([int(p) for p in version.split(".")[:3] if p.isdigit()] + [0, 0, 0])[:3]
    major, minor, patch = (min(part, 15) for part in parts)
    return major << 8 | minor << 4 | patch


def version_text(code: int) -> str:
    return f"{code >> 8}.{code >> 4 & 15}.{code & 15}"


def payload_bits(video_id: str, version: str = __version__) -> np.ndarray:
    """The 64 payload bits for ``video_id`` (8 hex digits)."""
    head = MARKER << 12 | version_code(version)
    body = head.to_bytes(2, "big") + bytes.fromhex(video_id[:ID_HEX])
    if len(body) != 2 + ID_BITS // 8:
        raise ValueError(f"video id must have at least {ID_HEX} hex digits, got {video_id!r}")
    data = body + binascii.crc_hqx(body, 0xFFFF).to_bytes(2, "big")
    return np.unpackbits(np.frombuffer(data, np.uint8))


@dataclass(frozen=True)
class Payload:
    version: str
    video_id: str


def parse_bits(bits: np.ndarray) -> Payload | None:
    """The payload, or None when the marker or the CRC does not match."""
    data = np.packbits(bits.astype(np.uint8)).tobytes()
    body, crc = data[:-2], int.from_bytes(data[-2:], "big")
    head = int.from_bytes(body[:2], "big")
    if head >> 12 != MARKER or binascii.crc_hqx(body, 0xFFFF) != crc:
        return None
    return Payload(version_text(head & 0xFFF), body[2:].hex())


# ---- embedding -----------------------------------------------------------------------------------------


def chip_tile(video_id: str) -> np.ndarray:
    """The 32x32 tile of +/-1 chips carrying ``video_id``."""
    lay = layout()
    bits = payload_bits(video_id).astype(np.float32) * 2 - 1
    message = lay.chip_sign * bits[np.maximum(lay.bit_of_chip, 0)]
    return np.where(lay.bit_of_chip < 0, lay.sync, message).astype(np.float32)


def strength_map(frame: np.ndarray) -> np.ndarray:
    """Where to put the mark's energy (mean square 1): more where the picture is smooth.

    Smooth areas are where an encoder's adaptive quantiser spends its finest steps and where a reader's
    high-pass sees the mark rather than picture detail; measured, this reads better after compression
    than putting the energy into texture.
    """
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 2.0)
    texture = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), 8.0)) + 0.5
    strength = np.clip(float(np.median(texture)) / texture, MIN_STRENGTH, MAX_STRENGTH)
    return strength / np.sqrt(np.mean(strength**2))


def frame_pattern(video_id: str, height: int, width: int, strength: np.ndarray | None = None) -> np.ndarray:
    """The signed integer pattern for a ``height`` x ``width`` frame: the tile repeated with period width/4.

    Levels follow ``strength`` (uniform when None) with a fixed dither to whole numbers, scaled so the mean
    square is ``MEAN_SQUARE``: as strong as a 40 dB PSNR allows, with a margin.
    """
    period = width / TILES_ACROSS
    rows = (np.arange(height) % period * CHIPS / period).astype(int)
    cols = (np.arange(width) % period * CHIPS / period).astype(int)
    signs = chip_tile(video_id)[rows[:, None], cols[None, :]]
    dither = np.random.default_rng(PATTERN_SEED + 1).random((height, width), np.float32)
    strength = np.ones((height, width), np.float32) if strength is None else strength
    gain = np.sqrt(MEAN_SQUARE)
    for _ in range(3):  # rounding changes the mean square a little: correct the gain twice
        levels = np.floor(strength * gain + dither)
        gain *= np.sqrt(MEAN_SQUARE / max(float(np.mean(levels**2)), 1e-6))
    return signs * levels


class Watermark:
    """Adds the mark for one video to frames of one size; the pattern is drawn once, on the first frame."""

    def __init__(self, video_id: str, height: int, width: int) -> None:
        self.video_id, self.height, self.width = video_id, height, width
        self.plus: np.ndarray | None = None
        self.minus: np.ndarray | None = None

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Mark the RGB uint8 ``frame`` in place (saturating adds) and return it."""
        if self.plus is None or self.minus is None:
            pattern = frame_pattern(self.video_id, self.height, self.width, strength_map(frame))
            self.plus = np.repeat(np.clip(pattern, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
            self.minus = np.repeat(np.clip(-pattern, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
        cv2.add(frame, self.plus, dst=frame)
        cv2.subtract(frame, self.minus, dst=frame)
        return frame


# ---- reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What the reader found: ``payload`` is set only when the marker and CRC check out."""

    sync_score: float  # sync correlation peak in standard deviations (>= SYNC_THRESHOLD: mark present)
    period: float  # the tile period found, in pixels of the input
    payload: Payload | None
    bit_margin: float  # mean |soft bit| / its spread: how clearly the bits were read
    frames: int

    @property
    def found(self) -> bool:
        return self.payload is not None

    @property
    def confidence(self) -> float:
        """0..1: how sure we are the talkinghead mark is there."""
        if self.payload is None:
            return 0.0
        return float(min(1.0, 0.9 + 0.1 * min(1.0, (self.sync_score - SYNC_THRESHOLD) / SYNC_THRESHOLD)))


class Accumulator:
    """Averages the high-passed luma of frames (RGB uint8, any size); feed frames, then `read`."""

    def __init__(self) -> None:
        self.total: np.ndarray | None = None
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
        gray = gray.astype(np.float32)
        if gray.shape[1] > MAX_READ_SIDE:
            scale = MAX_READ_SIDE / gray.shape[1]
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        # Only the sign of the fine detail: edges of the picture must not outweigh the faint mark, and after a
        # coarse re-encode the sign is what survives (measured: twice the sync score of a clipped residual).
        residual = np.sign(gray - cv2.blur(gray, (5, 5)))
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
        # Fast path: the autocorrelation's peaks. When heavy compression hides them, scan all periods.
        for periods in (candidate_periods(mean), scan_periods(mean)):
            for period in periods:
                reading = read_at_period(mean, period, self.frames)
                if reading.found:
                    return reading
                if reading.sync_score > best.sync_score:
                    best = reading
            if best.sync_score >= SYNC_THRESHOLD:
                break
        return best


def read_frames(frames: Iterable[np.ndarray]) -> Reading:
    """Read the mark from frames of one video (or one image)."""
    acc = Accumulator()
    for frame in frames:
        acc.add(frame)
    return acc.read()


def candidate_periods(residual: np.ndarray, count: int = 6) -> list[float]:
    """Tile periods (pixels) where the residual's autocorrelation peaks, best first, sub-pixel."""
    height, width = residual.shape
    side = min(height, width)
    spectrum = np.fft.rfft2(residual - residual.mean(), s=(2 * height, 2 * width))
    auto = np.fft.irfft2(np.abs(spectrum) ** 2, s=(2 * height, 2 * width))
    lags = np.arange(side)
    along_x = auto[0, :side] / (height * (width - lags))
    along_y = auto[:side, 0] / ((height - lags) * width)
    score = along_x + along_y
    low, high = max(8, side // 10), side // 2
    if high <= low + 2:
        return []
    window = score[low : high + 1]
    picks = []
    for index in np.argsort(window)[::-1]:
        lag = low + int(index)
        if any(abs(lag - p) <= 2 for p in picks):
            continue
        picks.append(lag)
        if len(picks) == count:
            break
    periods = []
    for lag in picks:
        left, mid, right = score[lag - 1], score[lag], score[min(lag + 1, side - 1)]
        curve = left - 2 * mid + right
        offset = 0.5 * (left - right) / curve if curve < 0 else 0.0
        periods.append(lag + float(np.clip(offset, -0.5, 0.5)))
    return periods


def scan_periods(residual: np.ndarray, step: float = 0.005) -> list[float]:
    """Every tile period from a tenth to half the picture, 0.5% apart (fine enough to fold four tiles)."""
    side = min(residual.shape)
    low, high = max(8.0, side / 10), side / 2
    if high <= low:
        return []
    count = int(np.log(high / low) / np.log1p(step)) + 1
    return list(low * (1 + step) ** np.arange(count))


def fold(residual: np.ndarray, period: float) -> np.ndarray:
    """Resample so one period is READ_TILE pixels and average all whole tiles into one."""
    scale = READ_TILE / period
    resized = cv2.resize(residual, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    rows, cols = (resized.shape[0] // READ_TILE) * READ_TILE, (resized.shape[1] // READ_TILE) * READ_TILE
    if rows == 0 or cols == 0:
        return np.zeros((READ_TILE, READ_TILE), np.float32)
    blocks = resized[:rows, :cols].reshape(rows // READ_TILE, READ_TILE, cols // READ_TILE, READ_TILE)
    return blocks.mean(axis=(0, 2))


def read_at_period(residual: np.ndarray, period: float, frames: int) -> Reading:
    tile = fold(residual, period)
    lay = layout()
    per_chip = READ_TILE // CHIPS
    sync = np.kron(lay.sync, np.ones((per_chip, per_chip), np.float32))
    corr = np.fft.irfft2(np.fft.rfft2(tile) * np.conj(np.fft.rfft2(sync)), s=tile.shape)
    peak = np.unravel_index(int(np.argmax(corr)), corr.shape)
    spread = float(corr.std())
    score = float((corr[peak] - corr.mean()) / spread) if spread > 0 else 0.0
    if score < SYNC_THRESHOLD:
        return Reading(score, period, None, 0.0, frames)
    aligned = np.roll(tile, (-peak[0], -peak[1]), axis=(0, 1))
    inner = slice(per_chip // 4, per_chip - per_chip // 4)  # away from chip edges, where shifts blur
    chips = aligned.reshape(CHIPS, per_chip, CHIPS, per_chip)[:, inner, :, inner].mean(axis=(1, 3))
    chips *= lay.chip_sign
    message = lay.bit_of_chip >= 0
    soft = np.bincount(lay.bit_of_chip[message], weights=chips[message], minlength=PAYLOAD_BITS)
    margin = float(np.abs(soft).mean() / (soft.std() + 1e-9))
    return Reading(score, period, decode_soft(soft), margin, frames)


def decode_soft(soft: np.ndarray) -> Payload | None:
    """Chase decoding: the hard decision, then every pattern of flips of the least reliable bits.

    The CRC says which candidate is right. Only tried once the sync pattern is found, so the extra
    candidates (2**CHASE_BITS) leave a false reading at about 2**(CHASE_BITS - 20) per marked-looking read.
    """
    hard = soft > 0
    weakest = np.argsort(np.abs(soft))[:CHASE_BITS]
    flips = (np.arange(2**CHASE_BITS)[:, None] >> np.arange(CHASE_BITS)) & 1
    for flip in flips[np.argsort(flips.sum(axis=1), kind="stable")]:  # fewest flips first
        candidate = hard.copy()
        candidate[weakest] ^= flip.astype(bool)
        payload = parse_bits(candidate)
        if payload is not None:
            return payload
    return None
