"""Invisible watermark: a periodic spread-spectrum tile in the luma of every frame.

Why this design. Crops and rescales move the pixel grid under a mark, and re-encoding wipes fine detail.
So the mark is one 32x32-chip tile repeated over the frame (2 tiles across, whatever the size: 8-pixel
chips at 512x512), added to R, G and B alike (luma only; chroma subsampling cannot touch it) as whole
levels, larger where the first frame is smooth (there a reader sees the mark rather than picture detail,
and an encoder's adaptive quantiser is finest). Smaller chips do not survive "x264 crf 32 after a 50%
downscale" (a 4-pixel chip becomes 2 pixels, which crf 32 quantises away); larger ones leave too few chips
for the payload.

What the eye sees, and the trade-off. Each chip is a soft bump (the +/-1 chip blurred by a Gaussian of a
quarter chip), so there are no block edges: hard 8-pixel squares read as a JPEG-like mosaic on plain
backgrounds, soft bumps as a faint mottle. From 512 px up the plain pattern has a mean square of 1.0 (PSNR
48.1 dB; 46.3 dB after the informed gains below); renders of 256 px and less keep 6 (about 38.6 dB with
the gains), since halving them leaves 2-pixel chips that only a strong mark survives (`mean_square`).

Informed embedding. A blind reader sees the picture's own detail as noise, and in a still picture that
noise does not average away over frames: the picture pushes some coded bits the wrong way before any
attack. The embedder reads the first frame as the reader would, unmarked and marked, and lifts each coded
bit's chips by the gain (1 to `INFORMED_MAX`) that brings it to the typical bit's margin (`informed_gains`).
A crop or a rescale moves picture and mark together, so the correction holds after them. In the
development harness (3 portraits, 3 s clips; crf 32 + 50% downscale, 20% crop + 8% brightness + crf 28,
256 px halved + crf 30) this took the mark at mean square 1.5 from 4/9 to 7/9 reads, and 1.0 keeps 7/9.

Measured trade-off (harness as above, reads out of 9; visibility: ../shared/tools/wm_visibility.py on the
bundled portrait / the Obama dev portrait, renders encoded with the aq settings of video/mp4.py; the render
with no mark scores 0.76 / 1.05 there):

    mean square  informed gain  visibility   reads
    1.5          none (before)  -            4/9
    1.5          up to 2        -            7/9
    1.0 (chosen) up to 2        1.37 / 1.36  7/9
    1.0          up to 4        -            7/9
    0.7          up to 4        -            6/9
    0.5          up to 2        1.11 / 1.22  see docs/provenance.md
    0.35         up to 2        1.01 / 1.18  5/9 (crf 32 + 50% downscale fails on all three)
    texture only up to 3        1.17 (Obama) 0/9

No point reaches <= 1.0 on both portraits while the mark still reads after "crf 32 + 50% downscale":
the Obama render is at 1.05 with no mark at all. Tried and dropped: putting the energy only where texture
masks it (amplitude following the local texture, none in plain areas), with or without informed gains and
with a reader weighting texture by the expected amplitude: the picture's texture at the chip scale stays
several times the mark and x264 at crf 28-32 wipes fine texture first, so nothing reads after the attacks.
A carrier whose sign changes from frame to frame would average out for the eye and not for a reader that
knows the signs, but x264 at crf 28-32 codes a still background once and then skips it, so such a mark
freezes into whatever the key frame held. docs/provenance.md has the details.

Third round (docs/provenance.md, "Third round"; `benchmarks/watermark_tradeoff.py` measures a candidate in
about 90 s). Masks that leave plain areas clean (none where the frame's 9x9 std is under 3) read after the
hard attacks only with 5-6 grey levels RMS in the rest of the frame, which shows on faces as a mottle; at
2-3 levels nothing reads. Larger chips show less and survive downscaling better, but with this tile 16-pixel
chips leave about one chip per coded bit, and the sync energy no longer singles out the right shift. So the
design stays. On four of the eight real portraits measured, the render without any mark is already above
1.0 (the excess sits where the render differs from the photo: chin, collar, tie).

Fourth round (docs/provenance.md): carriers of 12.8-21 px with their own sync
pattern and a payload cut to the id and an 8-bit check survive "crf 32 + 50% downscale" almost untouched,
but a blind reader then sees the picture's own shading at the carrier scale as strongly as at 8 px with a
quarter of the chips: 19-27 reads of 50 against this design's 36, at no lower visibility (and on a dark
plain backdrop the large blobs show to the eye more than this design's mottle). So the design stays.

Fifth round (docs/provenance.md): informed coding. Dither modulation of each coded bit's sum reads at chance
after "crf 32 + 50% downscale" at this energy (the attack keeps 0.3-0.8 of the mark, not of the picture,
and adds noise as large as what is left: a gain-invariant lattice does not help) and adds no energy for the
sync; lowering the gains of bits the picture already sets right costs the sync half the scenes; other host
cancellation moves one read of 50. So the design stays.

Sixth round (docs/provenance.md): the mark in colour (BT.601 Cb at constant luma). The picture is far quieter
there (the Obama face crops read at sync 11-13 instead of 7), but H.264 keeps colour at half resolution, so
after a 50% downscale the chips are 2 colour samples and crf 30-32 wipes them (0 of 10 reads), and colour
carriers large enough to survive show as coloured blotches on neutral grey. So the design stays.

Seventh round (docs/provenance.md): the hard misses are not a sync failure: at the tile's true period and
place the Obama face crops' coded bits are 41-46% wrong after "crf 32 + 50% downscale". Dither modulation
per chip on 32-px carriers leaves 13-22% of chips wrong there at twice this mark's RMS, but needs a sync and
payload of its own and shows as much to the visibility measure. So the design stays.

Eighth round (docs/provenance.md): renders without a mark now score 0.71-0.95, so the excess is the mark's;
on obama2 even a seventh of this energy stays above 1.0 while the harness then reads 1 of 10 after "crf 32 +
50% downscale". The reader gained a second sync on the known prefix and tries half the width first (below):
the harness 37 -> 41 of 50, the benchmark's unattacked copies 92% -> 98%. A mark in the frame's global
sub-pixel motion was lost on face crops over plain backgrounds (only the moving face locates the frame).

Payload (64 bits): marker (4) | talkinghead version (12) | video id (32) | CRC-16 (16). It is coded with
a rate-1/3 convolutional code (constraint length 9; 216 coded bits) and each coded bit is spread over 4-5
chips of the tile, scattered at random with pseudo-random signs. The same tile sits in every frame, so a
reader can average many frames and all tiles of each frame: moving content averages away, the mark adds up.

Reading needs no knowledge of the original size or position:
1. average over the frames the luma's detail at the chip scale, each pixel weighted by how smooth its
   surroundings are (`weighted_detail`);
2. the tile's period: half the width in any copy that was not cropped (the video as written, an excerpt,
   another frame rate, a smaller copy), tried first; for crops, the mark is periodic, so the autocorrelation
   of that average has a spike at the tile period whatever the rescale (this gives back the scale), and the
   8 strongest spikes are tried next (`periods_to_try`);
3. around each candidate, the period is searched finely: fold the image onto one tile at that period
   (this averages all tiles, partial ones at the edges too) and, for every shift (a crop moves the tile),
   score two syncs: the squared sums of the chips of each coded bit added up, an *energy* that needs no
   knowledge of the bits, and the correlation with the first 48 coded bits, which depend only on the marker
   and the version and are the same in every mark this version writes (`known_prefix`); each peaks at the
   right period and shift only, the energy where the mark is strong, the prefix where a busy picture
   lifts the energy at every shift alike;
4. where a peak stands out (`DECODE_THRESHOLD`, `PREFIX_THRESHOLD`, in standard deviations of its surface),
   the chips there give soft coded bits; a list Viterbi decoder offers its best codewords (16 at the energy
   peak, 4 at the prefix peak), and the first whose marker and CRC-16 check out is the payload. Marks
   written by another version start with another prefix: the energy alone reads them, as it did before.

False positives: the payload check is what rules them out. An unmarked picture reaches a decoding
threshold at some of the periods tried (its energy peaks stand 4.5 to 6.5 deviations high, its prefix peaks
up to 6.2; a mark's energy stands 6.3 to 15 after the benchmark's attacks), and then each codeword offered
has a 2**-20 chance to carry the marker and a matching CRC at an energy peak, and 2**-16 at a prefix peak
(whose codewords start with the marker by construction). With 9 periods per read, fewer than one read in
1,400 of unmarked media could report a payload even if every period crossed both thresholds; measured, a
prefix peak crosses its threshold in about one unmarked read in four and an energy peak more rarely, so in
practice about one read in 60,000. A peak above `SYNC_THRESHOLD` without a payload is reported as "seen".

Embedding costs two saturating uint8 adds per frame (the pattern and its informed gains are worked out
once per video, about 0.1-0.2 s), so it is far below a millisecond at 512x512. Reading takes about 0.1 s
per candidate period searched on two cores: a marked clip is usually read at the first candidate, an
unmarked one costs all nine.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache

import cv2
import numpy as np
import scipy.fft

from talkinghead import __version__

MEAN_SQUARE_SMALL = 6.0  # of the pattern's levels at frames up to 256 px: PSNR 10*log10(255^2/6) = 40.3 dB
MEAN_SQUARE_LARGE = 1.0  # from 512 px up: PSNR 48.1 dB before the informed gains (module docstring)
INFORMED_MAX = 2.0  # the most a coded bit's chips are lifted (see informed_gains)
CHIP_SOFTNESS = 0.25  # sigma of the Gaussian that softens each chip, in chips
MIN_STRENGTH, MAX_STRENGTH = 0.25, 4.0  # relative level in textured / smooth areas (before scaling)
TILES_ACROSS = 2
CHIPS = 32
MARKER = 0xA  # 4 bits
ID_BITS = 32
ID_HEX = ID_BITS // 4
PAYLOAD_BITS = 4 + 12 + ID_BITS + 16
CONSTRAINT, GENERATORS = 9, (0o557, 0o663, 0o711)  # the convolutional code (see below)
CODED_BITS = len(GENERATORS) * (PAYLOAD_BITS + CONSTRAINT - 1)
LIST_PATHS = 16  # codewords the decoder offers to the CRC, best first
PATTERN_SEED = 0x7A1C_4EAD  # public: anyone may read the mark (see README, "Responsible use")
# reading
HIGH_PASS_CHIPS = 1.25  # the reader's high-pass box, in chips
NOISE_FLOOR = 0.5  # of the reader's weighting (see weighted_detail)
PERIOD_MIN, PERIOD_MAX = 0.25, 0.7  # periods tried, as shares of the shorter side (crops make it longer)
PERIOD_CANDIDATES = 8  # autocorrelation spikes tried as the period
REFINE_STEPS = (0.012, 0.006, 0.003, 0.0015)  # relative steps of the period search around each candidate
READ_PER_CHIP = 4  # pixels per chip when reading (the chip grid is searched at this sub-chip step)
CHIP_CLIP = 2.5  # chip values beyond this many robust deviations are clipped (edges in the picture)
DECODE_THRESHOLD = 5.5  # energy peak (see detection_score) from which the payload is decoded
PREFIX_BITS = 16  # payload bits every mark of this version starts with: the marker and the version
PREFIX_THRESHOLD = 5.0  # peak of the known-prefix correlation (see read_at_period) from which it is decoded
PREFIX_PATHS = 4  # codewords offered there (see "False positives" above)
SYNC_THRESHOLD = 7.0  # energy peak from which a mark is reported as seen even when its payload is not read
MAX_READ_SIDE = 720  # larger inputs are read at this width (the period stays >= 2 pixels per chip)


@dataclass(frozen=True)
class Layout:
    """The fixed tile: which coded bit each chip carries, with what sign (interleaved at random)."""

    bit_of_chip: np.ndarray  # (CHIPS, CHIPS) int: index into the coded bits
    chip_sign: np.ndarray  # (CHIPS, CHIPS) float32: +/-1 spreading signs
    groups: np.ndarray  # (CODED_BITS, CHIPS, CHIPS) float32: chip_sign on the chips of each coded bit, else 0
    group_norms: np.ndarray  # (CODED_BITS,): sqrt of the number of chips of each coded bit


@cache
def layout() -> Layout:
    rng = np.random.default_rng(PATTERN_SEED)
    n = CHIPS * CHIPS
    bit_of_chip = np.empty(n, int)
    bit_of_chip[rng.permutation(n)] = np.arange(n) % CODED_BITS
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), n)
    groups = np.zeros((CODED_BITS, n), np.float32)
    groups[bit_of_chip, np.arange(n)] = signs
    shape = (CHIPS, CHIPS)
    norms = np.sqrt(np.bincount(bit_of_chip, minlength=CODED_BITS)).astype(np.float32)
    return Layout(bit_of_chip.reshape(shape), signs.reshape(shape), groups.reshape(CODED_BITS, *shape), norms)


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


# ---- error-correcting code -------------------------------------------------------------------------------
# A rate-1/3 convolutional code, constraint length 9 (the generators of the IS-95 CDMA reverse link, free
# distance 18), closed by 8 zero tail bits; decoded with soft-decision Viterbi. At the same energy per payload
# bit it needs about 5 dB less signal than repeating each bit, which is what reading after "crf 32 + 50%
# downscale" needs.


@cache
def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """``outputs[state, bit]`` (+/-1 per generator) and ``next_state[state, bit]`` of the encoder."""
    states = np.arange(2 ** (CONSTRAINT - 1))[:, None]
    register = np.arange(2)[None, :] << (CONSTRAINT - 1) | states  # newest bit on top
    outputs = np.stack([_parity(register & g) for g in GENERATORS], axis=-1).astype(np.float32) * 2 - 1
    return outputs, register >> 1


def _parity(values: np.ndarray) -> np.ndarray:
    return np.array([bin(int(v)).count("1") & 1 for v in values.ravel()]).reshape(values.shape)


def encode(bits: np.ndarray) -> np.ndarray:
    """The coded bits (0/1) of ``bits`` followed by the zero tail."""
    outputs, next_state = _trellis()
    state, coded = 0, []
    for bit in np.concatenate([bits, np.zeros(CONSTRAINT - 1, bits.dtype)]).astype(int):
        coded.append(outputs[state, bit] > 0)
        state = int(next_state[state, bit])
    return np.concatenate(coded).astype(np.uint8)


def viterbi(soft: np.ndarray, paths: int = 1) -> list[np.ndarray]:
    """The payload bits of the ``paths`` codewords that best correlate with ``soft`` (positive = 1), best
    first, each ending in the zero state (a list Viterbi decoder: each state keeps its ``paths`` best
    paths)."""
    outputs, _ = _trellis()
    n_states = outputs.shape[0]
    steps = soft.reshape(-1, len(GENERATORS))
    metric = np.full((n_states, paths), -np.inf)
    metric[0, 0] = 0.0
    new = np.arange(n_states)
    incoming_bit = new >> (CONSTRAINT - 2)  # the bit that leads into each new state
    lower = (new & (n_states // 2 - 1)) << 1  # its two predecessors: lower and lower + 1
    back = np.empty((len(steps), n_states, paths), np.int32)  # 0..2*paths-1: predecessor * paths + rank
    for t, symbols in enumerate(steps):
        branch = outputs @ symbols  # (state, bit)
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


# ---- embedding -----------------------------------------------------------------------------------------


def coded_signs(video_id: str) -> np.ndarray:
    """The coded bits of ``video_id``'s payload as +/-1."""
    return encode(payload_bits(video_id)).astype(np.float32) * 2 - 1


def chip_tile(video_id: str) -> np.ndarray:
    """The 32x32 tile of +/-1 chips carrying ``video_id``."""
    lay = layout()
    return (lay.chip_sign * coded_signs(video_id)[lay.bit_of_chip]).astype(np.float32)


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


def mean_square(width: int) -> float:
    """The pattern's mean square (grey levels squared) for frames ``width`` pixels wide.

    Full strength where a chip is 4 pixels or less (renders of 256 px and smaller: such fine chips are hard
    to see, and such renders are the ones that a downscale and a re-encode reduce to 2-pixel chips), the
    low strength that keeps plain areas clean from 8-pixel chips up (512 px and larger), in between linearly.
    """
    chip = width / (TILES_ACROSS * CHIPS)
    share = float(np.clip((chip - 4.0) / 4.0, 0.0, 1.0))
    return MEAN_SQUARE_SMALL + share * (MEAN_SQUARE_LARGE - MEAN_SQUARE_SMALL)


def soft_chips(chips: np.ndarray, height: int, width: int) -> np.ndarray:
    """A tile of chip values (+/-1, or scaled by `informed_gains`) repeated with period width / TILES_ACROSS,
    each chip a soft bump (blurred by a Gaussian of ``CHIP_SOFTNESS`` chips): no edges, so no grid of squares
    to see. Scaled so that a tile of +/-1 chips has mean square 1."""
    return _blurred_tiles(chips, height, width) / _unit_rms(height, width)


@cache
def _unit_rms(height: int, width: int) -> float:
    return float(np.sqrt(np.mean(_blurred_tiles(layout().chip_sign, height, width) ** 2)))


def _blurred_tiles(chips: np.ndarray, height: int, width: int) -> np.ndarray:
    """The chips drawn at period width / TILES_ACROSS over the frame and blurred."""
    period = width / TILES_ACROSS
    rows = (np.arange(height) % period * CHIPS / period).astype(int)
    cols = (np.arange(width) % period * CHIPS / period).astype(int)
    sigma = CHIP_SOFTNESS * period / CHIPS
    return cv2.GaussianBlur(chips[rows[:, None], cols[None, :]].astype(np.float32), (0, 0), sigma)


def frame_pattern(video_id: str, height: int, width: int, strength: np.ndarray | None = None,
                  gains: np.ndarray | None = None) -> np.ndarray:
    """The signed integer pattern for a ``height`` x ``width`` frame: soft chips (each coded bit's chips
    scaled by ``gains``, see `informed_gains`) times ``strength`` (uniform when None), with a fixed dither to
    whole levels, scaled to the mean square of `mean_square` (before the gains)."""
    chips = chip_tile(video_id)
    shape = np.ones((height, width), np.float32) if strength is None else strength
    plain = np.abs(soft_chips(chips, height, width)) * shape
    carrier = soft_chips(chips * gains[layout().bit_of_chip], height, width) if gains is not None else None
    dither = _dither(height, width)
    target = mean_square(width)
    gain = np.sqrt(target / max(float(np.mean(plain**2)), 1e-6))
    for _ in range(3):  # rounding changes the mean square a little: correct the gain twice
        levels = np.floor(plain * gain + dither)
        gain *= np.sqrt(target / max(float(np.mean(levels**2)), 1e-6))
    if carrier is None:
        return np.sign(soft_chips(chips, height, width)) * levels
    wave = carrier * shape * gain
    return np.sign(wave) * np.floor(np.abs(wave) + dither)


@cache
def _dither(height: int, width: int) -> np.ndarray:
    """The fixed dither to whole levels (drawn once per frame size)."""
    dither = np.random.default_rng(PATTERN_SEED + 1).random((height, width), np.float32)
    dither.flags.writeable = False
    return dither


def coded_sums(frame: np.ndarray) -> np.ndarray:
    """What the reader sums for each coded bit on this one frame, at the tile's own period and place."""
    acc = Accumulator()
    acc.add(frame)
    assert acc.total is not None
    chips = chip_phases(fold(acc.total, acc.total.shape[1] / TILES_ACROSS))[0]
    return np.einsum("gyx,yx->g", layout().groups, chips)


def informed_gains(video_id: str, frame: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """A gain per coded bit that lifts the bits the picture itself works against (informed embedding).

    A blind reader sees the picture's own detail as noise, and in a still picture that noise does not average
    away over frames: some coded bits start with the picture pushing them the wrong way. Reading this frame as
    the reader would, once unmarked and once marked, gives per bit the picture's push and the mark's pull;
    each bit gets the gain (1 to `INFORMED_MAX`) that brings it to the typical bit's margin. A crop or rescale
    moves picture and mark together, so the correction holds after them.
    """
    height, width = frame.shape[:2]
    coded = coded_signs(video_id)
    host = coded_sums(frame) * coded
    pattern = frame_pattern(video_id, height, width, strength)
    marked = np.clip(frame.astype(np.int16) + pattern[..., None].astype(np.int16), 0, 255).astype(np.uint8)
    pull = coded_sums(marked) * coded - host
    target = float(np.median(pull))
    return np.clip((target - host) / np.maximum(pull, 1e-3 * max(target, 1e-6)), 1.0, INFORMED_MAX).astype(
        np.float32)


class Watermark:
    """Adds the mark for one video to frames of one size; the pattern is drawn once, on the first frame."""

    def __init__(self, video_id: str, height: int, width: int) -> None:
        self.video_id, self.height, self.width = video_id, height, width
        self.plus: np.ndarray | None = None
        self.minus: np.ndarray | None = None

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Mark the RGB uint8 ``frame`` in place (saturating adds) and return it."""
        if self.plus is None or self.minus is None:
            strength = strength_map(frame)
            gains = informed_gains(self.video_id, frame, strength) if INFORMED_MAX > 1 else None
            pattern = frame_pattern(self.video_id, self.height, self.width, strength, gains)
            self.plus = np.repeat(np.clip(pattern, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
            self.minus = np.repeat(np.clip(-pattern, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
        cv2.add(frame, self.plus, dst=frame)
        cv2.subtract(frame, self.minus, dst=frame)
        return frame


# ---- reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What the reader found: ``payload`` is set only when the marker and CRC check out."""

    sync_score: float  # energy peak in standard deviations (>= SYNC_THRESHOLD: a mark is present)
    period: float  # the tile period found, in pixels of the input
    payload: Payload | None
    bit_margin: float  # mean |soft bit| / its spread: how clearly the bits were read
    frames: int
    prefix_score: float = 0.0  # peak of the known-prefix correlation in standard deviations (read_at_period)

    @property
    def strength(self) -> float:
        """How far the better of the two syncs stands above its decoding threshold (>= 1: decoded)."""
        return max(self.sync_score / DECODE_THRESHOLD, self.prefix_score / PREFIX_THRESHOLD)

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
    """Averages the weighted high-pass of the luma of frames (RGB uint8, any size); feed frames, then `read`."""

    def __init__(self) -> None:
        self.total: np.ndarray | None = None
        self.frames = 0
        self.input_width = 0  # of the first frame; frames wider than MAX_READ_SIDE are read smaller

    def add(self, frame: np.ndarray) -> None:
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
        gray = gray.astype(np.float32)
        if gray.shape[1] > MAX_READ_SIDE:
            scale = MAX_READ_SIDE / gray.shape[1]
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        residual = weighted_detail(gray)
        if self.total is None:
            self.total = np.zeros_like(residual)
            self.input_width = frame.shape[1]
        if residual.shape != self.total.shape:
            return
        self.total += residual
        self.frames += 1

    def read(self) -> Reading:
        if self.total is None or self.frames == 0:
            return Reading(0.0, 0.0, None, 0.0, 0)
        mean = self.total / self.frames
        best = Reading(0.0, 0.0, None, 0.0, self.frames)
        for period in periods_to_try(mean):
            reading = refine(mean, period, self.frames)
            if reading.found:
                best = reading
                break
            if reading.sync_score > best.sync_score:
                best = reading
        return replace(best, period=best.period * self.input_width / mean.shape[1])  # in the input's pixels


def refine(residual: np.ndarray, period: float, frames: int) -> Reading:
    """The strongest reading near ``period`` (an autocorrelation peak, off by up to ~1.5%).

    With two tiles folded, a period 0.4% off already blurs the chips at the far tile, so the energy is
    searched coarse to fine: steps of 1.2%, 0.6%, 0.3%, then 0.15% around the best so far.
    """
    best = read_at_period(residual, period, frames, decode=False)
    for step in REFINE_STEPS:
        centre = best.period
        for candidate in (centre * (1 - step), centre * (1 + step)):
            reading = read_at_period(residual, candidate, frames, decode=False)
            if reading.strength > best.strength:
                best = reading
    return read_at_period(residual, best.period, frames) if best.strength >= 1 else best


def weighted_detail(gray: np.ndarray) -> np.ndarray:
    """The luma's detail at the chip scale, weighted by how much to trust each pixel.

    The chip size is guessed from the width (right unless the frame was cropped, and close enough then).
    Detail is divided by its local energy (plus a floor): in textured areas the picture, not the mark, makes
    the detail, so they count little; in smooth areas, where the mark lives, the weight is high. Clipped to
    +/-1 so that no edge outweighs the rest. Measured after "crf 32 + 50% downscale": per-chip signal to
    noise 1.4x that of the sign of the detail.
    """
    chip = gray.shape[1] / (TILES_ACROSS * CHIPS)
    box = max(3, round(chip * HIGH_PASS_CHIPS) | 1)
    detail = gray - cv2.blur(gray, (box, box))
    energy = cv2.blur(detail * detail, (3 * box, 3 * box))
    return np.clip(detail / (energy + NOISE_FLOOR), -1.0, 1.0)


def read_frames(frames: Iterable[np.ndarray]) -> Reading:
    """Read the mark from frames of one video (or one image)."""
    acc = Accumulator()
    for frame in frames:
        acc.add(frame)
    return acc.read()


def periods_to_try(residual: np.ndarray) -> list[float]:
    """Half the width first: the tile's period in any copy that was not cropped, however rescaled (the video
    as written, an excerpt, another frame rate, a smaller copy). Then the autocorrelation's `candidate_periods`,
    for crops; on a busy picture (a full crop on a texture) the tile's spike can rank far down among them."""
    uncropped = residual.shape[1] / TILES_ACROSS
    return [uncropped, *(p for p in candidate_periods(residual) if abs(p / uncropped - 1) > REFINE_STEPS[0])]


def candidate_periods(residual: np.ndarray, count: int = PERIOD_CANDIDATES) -> list[float]:
    """Tile periods (pixels) where the residual's autocorrelation peaks, best first, sub-pixel.

    The tile repeats along x, y and both diagonals, so the four autocorrelations add up at its period. The
    picture's own autocorrelation falls off smoothly with the lag, the mark's is a spike about a chip wide:
    a running mean over three chips is subtracted so that only spikes remain.
    """
    height, width = residual.shape
    side, longest = min(height, width), max(height, width)
    # the period is half the marked frame's width: in a wide frame that is more than the height allows
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
    score = total / terms  # the mean of the directions a lag fits in (all four up to the shorter side)
    chip = side / (TILES_ACROSS * CHIPS)
    score = score - np.convolve(score, np.ones(3 * round(chip) + 1) / (3 * round(chip) + 1), mode="same")
    picks: list[int] = []
    for lag in low + np.argsort(score[low : high + 1])[::-1]:
        if all(abs(lag - pick) > max(2, 0.01 * pick) for pick in picks):
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


def fold(residual: np.ndarray, period: float) -> np.ndarray:
    """Resample so one period is CHIPS * READ_PER_CHIP pixels and add every pixel (whole tiles and the partial
    ones at the edges) into one tile, divided by the square root of how many fell on each spot (so that all
    spots carry noise of one variance)."""
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


@cache
def _group_spectra() -> np.ndarray:
    """Conjugate spectra of the coded-bit chip groups, each scaled to unit norm (so that the group sums of
    pure noise share one variance)."""
    lay = layout()
    return np.conj(scipy.fft.rfft2(lay.groups / lay.group_norms[:, None, None])).astype(np.complex64)


def chip_phases(tile: np.ndarray) -> np.ndarray:
    """(READ_PER_CHIP**2, CHIPS, CHIPS): the chip averages of ``tile`` for each sub-chip offset, centred and
    clipped to CHIP_CLIP robust deviations (a strong edge of the picture must not pass for a coded bit)."""
    per = READ_PER_CHIP
    chips = np.stack([np.roll(tile, (-dy, -dx), axis=(0, 1)).reshape(CHIPS, per, CHIPS, per).mean(axis=(1, 3))
                      for dy in range(per) for dx in range(per)])
    chips -= np.median(chips, axis=(1, 2), keepdims=True)
    scale = 1.4826 * np.median(np.abs(chips), axis=(1, 2), keepdims=True) + 1e-9
    return np.clip(chips, -CHIP_CLIP * scale, CHIP_CLIP * scale)


def detection_score(surface: np.ndarray) -> float:
    """How far the peak of a sync ``surface`` (one value per shift) stands above the rest, in standard deviations.

    Without a mark the energy's peak stays low (measured on unmarked renders, still images and their attacked
    copies: at most 6.2 over all shifts and periods tried), the known-prefix correlation's too (at most 6.2,
    half the reads under 4.7); a mark puts one entry far above (energy 8 to 15 after the attacks of the
    benchmark; where a busy picture drowns the energy, the prefix still reaches 5.4-6.6).
    """
    return float((surface.max() - surface.mean()) / (surface.std() + 1e-12))


@cache
def known_prefix() -> np.ndarray:
    """The first coded bits (+/-1) of every mark this version writes: a convolutional code's first
    ``3 * PREFIX_BITS`` outputs depend only on the first ``PREFIX_BITS`` payload bits (marker and version)."""
    return coded_signs("0" * ID_HEX)[: len(GENERATORS) * PREFIX_BITS]


def read_at_period(residual: np.ndarray, period: float, frames: int, decode: bool = True) -> Reading:
    """Fold at ``period``, find the shift where the coded-bit groups fit a mark best, decode there.

    Two syncs, each decoded at its own peak: the energy (the sum of the squared group sums), which needs no
    knowledge of the bits and uses every chip, and the correlation with the bits the reader knows
    (`known_prefix`), which uses a fifth of them but coherently. Where the picture itself is busy (a full
    crop on a texture) its detail lifts the energy at every shift alike and the energy peak drowns, while
    the known bits still stand out (docs/provenance.md, "Eighth round").
    """
    phases = chip_phases(fold(residual, period))
    spectra = scipy.fft.rfft2(phases)[:, None] * _group_spectra()[None]
    sums = scipy.fft.irfft2(spectra, s=(CHIPS, CHIPS))  # (phase, coded bit, shift y, shift x)
    energy = np.einsum("pgyx,pgyx->pyx", sums, sums)
    prefix = known_prefix()
    coherent = np.einsum("pgyx,g->pyx", sums[:, : prefix.size], prefix)
    reading = Reading(detection_score(energy), period, None, 0.0, frames, detection_score(coherent))
    if not decode:
        return reading
    for surface, score, threshold, paths in ((energy, reading.sync_score, DECODE_THRESHOLD, LIST_PATHS),
                                             (coherent, reading.prefix_score, PREFIX_THRESHOLD, PREFIX_PATHS)):
        if score < threshold:
            continue
        phase, dy, dx = np.unravel_index(int(np.argmax(surface)), surface.shape)
        soft = sums[phase, :, dy, dx] * layout().group_norms  # back to plain sums: the decoder's soft input
        payload = next((p for p in map(parse_bits, viterbi(soft, paths)) if p is not None), None)
        if payload is not None:
            return replace(reading, payload=payload, bit_margin=float(np.abs(soft).mean() / (soft.std() + 1e-9)))
    return reading
