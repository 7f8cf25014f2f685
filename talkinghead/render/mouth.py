"""Mouth interior: what the photo cannot show when the lips part wider than they were.

The warp stretches the lips' own pixels across a new opening; we paint a cavity there instead: upper
teeth under the upper lip (the photo's own when it shows them, else a bundled exemplar of real teeth
warped along the lip and shaded), lower teeth above the lower lip when the jaw is open wide enough, the
tongue when asked for, and a darkened throat in the person's lip colour, darker towards the corners, with
a feathered edge. Everything happens in the small box around the mouth.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from talkinghead.assets import ASSETS
from talkinghead.face import topology as topo

OUTER_LIPS = np.array(topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER[::-1][1:-1])
INNER_UPPER = list(topo.LIPS_INNER_UPPER)
INNER_LOWER = list(topo.LIPS_INNER_LOWER)
FULL_DARK_AT = 0.03  # extra opening (share of face width) at which the cavity is fully painted
UPPER_TEETH_HEIGHT = 0.075  # visible upper incisors, share of face width
LOWER_TEETH_HEIGHT = 0.04
CROWN_HEIGHT = 0.06  # an upper incisor's crown, share of face width (lower ones: LOWER_CROWN_SHARE of it)
LOWER_CROWN_SHARE = 0.8
LOWER_TEETH_SHOW = 0.015  # at most this much of the lower teeth shows above the lower lip (face widths)
LOWER_ARCH_SHARE = 0.8  # the lower teeth's arch is narrower than the upper one
GRAIN_TILE = 256  # the cavity's grain repeats every this many pixels (invisible in noise)
CAVITY_GRAIN = 0.75  # the cavity's noise, a share of the cheeks' measured grain (the skin by the lips is smoother)
LOWER_TEETH_LIGHT = 0.8  # the lower teeth, further back and under the upper lip's shadow, get this much of the light
EXEMPLAR_TEETH_ROWS = 0.78  # the exemplar's upper-teeth part, as a share of its height
EXEMPLAR_TEETH_SPAN = (0.14, 0.86)  # the exemplar's teeth, as shares of its width (its ends show the dark mouth)
TEETH_SHADE = 0.9  # teeth inside the mouth are in shadow
TEETH_VS_EYE_WHITES = 1.1  # the brightest teeth, fully lit, over the photo's eye whites (real: 1.1-1.7 in shade)
ROUND_TEETH_SHADE = 0.35  # rounded lips push forward: the teeth behind them are in deeper shade
ROUND_SIDE_SHADE = 0.8  # ... deepest at the sides of the opening, furthest from the light coming in
ROUND_WARMTH = 0.5  # ... lit by what the mouth's red walls reflect: this share of the lips' hue
ROUND_TEETH_HIDE = 0.03  # and cover them: rounded lips hide this much more of each row (face widths)
SEAL_HALF_HEIGHT = 0.012  # closed lips of an open-mouth photo: half-height of the repainted seam, face widths
UPPER_LIP_REPAINT = 0.55  # closed lips: share of the upper lip's thickness above the seam that is repainted
SEAM_DARKEN, SEAM_WIDTH_PX = 0.08, 1.2  # the darker line where closed lips meet (at 0.18 dlib read the line
#                                        as a slit 1-2 px high on a 256 px grin: seal 0.028-0.030 over 12 renders
#                                        each, a third of them over 0.03; 0.024-0.025 now, 1 of 24)
GROWN_LIP_SHADE = 0.2  # closed lips: a lower lip grown fuller is this much darker at its top (the upper lip shades it)
SEAM_STEP_PX = 1.5  # the upper lip's colour gives way to the lower lip's over this many pixels at the seam
TEETH_WARMTH = 0.3  # share of the lip's hue in the teeth's, so they sit in the person's light
IVORY = np.array([1.0, 0.95, 0.84], np.float32)  # the hue of real teeth (not paper white)
CORNER_LIP_SHARE = 0.45  # where the opening is thinner than this share of its widest, the lips' inner side shows
INNER_LIP_SHADE = 0.55  # the lips' inner side in the mouth's shade
THROAT_CHROMA = 2.0  # the throat is the lips' colour in deep shade, redder (a real open mouth is dark red, not brown)
LIT_OPENING = 0.06  # an opening this wide (face widths) lets the full light in: on the teeth, and on the red walls
TONGUE_RISE = 0.4  # the tongue's back arches up this share of the opening above the lower lip, at the middle
TONGUE_SPAN = 0.75  # ... and spans this share of the opening's width
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
TEETH_SHEEN = 1.3  # a pixel between the lips this much brighter than the lips' median, and less saturated, is teeth
TEETH_GREY = 0.6  # ... and at most this share of their saturation (lip shine keeps the lip's hue)
SEEN_TEETH_SHARE = 0.02  # share of such pixels along the lips' middle above which a shut-looking mouth shows teeth
TEETH_SEARCH = (0.01, 0.025)  # searched above the upper / below the lower inner lip (face widths): landmarks of a
# barely parted mouth sit on the teeth's upper edge, so a sliver below them is missed


def _teeth_for(image: np.ndarray, rest: np.ndarray, lip_colour: np.ndarray, face_width: float) -> np.ndarray:
    """The exemplar made this person's: their light (a share of their lip colour), never brighter than their
    eye whites, as soft as the photo at the size it is drawn, with the photo's own grain (fixed to the teeth,
    so it moves with them and never flickers)."""
    exemplar = teeth_exemplar()
    luminance = exemplar @ np.array([0.299, 0.587, 0.114], np.float32)
    lip = lip_colour.astype(np.float32)
    tint = (1 - TEETH_WARMTH) * IVORY + TEETH_WARMTH * lip / max(float(lip @ LUMA), 1.0)
    teeth = luminance[..., None] * (tint / float(tint @ LUMA))[None, None, :]
    ceiling = TEETH_VS_EYE_WHITES * eye_white_level(image, rest) / TEETH_SHADE
    teeth *= min(1.0, ceiling / max(float(np.percentile(luminance, 95)), 1.0))
    drawn_width = 0.45 * face_width  # about the width of a smile's teeth in the frame
    scale = teeth.shape[1] / max(drawn_width, 1.0)  # texture pixels per frame pixel
    teeth = cv2.GaussianBlur(teeth, (0, 0), sigmaX=max(0.6 * scale, 0.3))
    grain = photo_grain(image, rest)
    noise = np.random.default_rng(7).normal(0.0, 1.0, teeth.shape[:2]).astype(np.float32)[..., None]
    return np.clip(teeth + grain * noise, 0, 255).astype(np.float32)


def eye_white_level(image: np.ndarray, rest: np.ndarray) -> float:
    """95th-percentile luminance inside the photo's eye openings (its whites), 200 if none can be read."""
    mask = np.zeros(image.shape[:2], np.uint8)
    for upper, lower in ((topo.EYE_LEFT_UPPER, topo.EYE_LEFT_LOWER), (topo.EYE_RIGHT_UPPER, topo.EYE_RIGHT_LOWER)):
        outline = rest[list(upper) + list(lower[::-1])]
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
    if mask.sum() < 10:
        return 200.0
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return float(np.percentile(gray[mask > 0], 95))


def photo_grain(image: np.ndarray, rest: np.ndarray) -> float:
    """The photo's pixel noise (grey levels, robust): the median absolute fine detail on the cheeks."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = np.abs(gray - cv2.GaussianBlur(gray, (0, 0), 1.0))
    points = rest[[topo.CHEEK_LEFT, topo.CHEEK_RIGHT]]
    centre = rest[[topo.LIP_CENTER_UPPER]].mean(axis=0)
    values = []
    for point in points:
        x, y = np.round(0.6 * point + 0.4 * centre).astype(int)
        patch = detail[max(y - 6, 0): y + 6, max(x - 6, 0): x + 6]
        if patch.size:
            values.append(float(np.median(patch)))
    return 1.25 * float(np.median(values)) if values else 1.0


@cache
def teeth_exemplar() -> np.ndarray:
    """The bundled real-teeth texture (RGB float32), unrolled from corner to corner of a smile."""
    image = cv2.imread(str(ASSETS / "teeth.png"), cv2.IMREAD_COLOR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32)


@dataclass(frozen=True)
class Bite:
    """Where synthesised teeth go in one frame: the upper incisors' biting edge (K x 2, fixed to the skull),
    the lower incisors' (on the jaw), and how rounded the lips are (0..1)."""

    upper_edge: np.ndarray
    lower_edge: np.ndarray
    rounding: float = 0.0


def lips_mask(image_shape: tuple[int, ...], rest: np.ndarray) -> np.ndarray:
    """uint8 mask (255) of the lips between their outer and inner contours."""
    lips = np.zeros(image_shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(rest[OUTER_LIPS]).astype(np.int32)], 255)
    inner = np.array(INNER_UPPER + INNER_LOWER[-2:0:-1])
    cv2.fillPoly(lips, [np.round(rest[inner]).astype(np.int32)], 0)
    return lips


def teeth_between_lips(image: np.ndarray, rest: np.ndarray, face_width: float) -> tuple[float, float]:
    """How much of the photo's own teeth shows between lips its landmarks call (nearly) shut: the share of
    pixels along the middle 60% of the mouth, from just above the upper inner lip to a little below the lower
    one, that are brighter and greyer than the lips (teeth, not lip shine, which is as red as the lip); and how
    far the lowest of them lies below the lips' mid-line (pixels). Landmarks of a small face often put both
    inner lips on the teeth's upper edge, so the rig would see nothing to close while a sliver of teeth shows."""
    upper, lower = rest[INNER_UPPER], rest[INNER_LOWER]
    left, right = float(upper[:, 0].min()), float(upper[:, 0].max())
    height, width = image.shape[:2]
    xs = np.arange(np.ceil(left + 0.2 * (right - left)), np.floor(right - 0.2 * (right - left)), dtype=np.float32)
    xs = xs[(xs >= 0) & (xs < width)]
    lips = lips_mask(image.shape, rest)
    if len(xs) < 3 or not lips.any():
        return 0.0, 0.0
    top = _contour_at(upper, xs) - TEETH_SEARCH[0] * face_width
    bottom = _contour_at(lower, xs) + TEETH_SEARCH[1] * face_width
    middle = 0.5 * (_contour_at(upper, xs) + _contour_at(lower, xs))
    y0, y1 = max(int(np.floor(top.min())), 0), min(int(np.ceil(bottom.max())) + 1, height)
    if y1 - y0 < 1:
        return 0.0, 0.0
    saturation = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1].astype(np.float32)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lip_luma, lip_saturation = float(np.median(gray[lips > 0])), float(np.median(saturation[lips > 0]))
    rows = np.arange(y0, y1, dtype=np.float32)[:, None]
    band = (rows >= top[None, :]) & (rows <= bottom[None, :])
    columns = xs.astype(int)
    teeth = (gray[y0:y1, columns] > TEETH_SHEEN * lip_luma) & (saturation[y0:y1, columns] < TEETH_GREY * lip_saturation)
    teeth &= band
    if not band.any() or not teeth.any():
        return 0.0, 0.0
    depth = float(((rows - middle[None, :]) * teeth).max())
    return float(teeth.sum() / band.sum()), max(depth, 0.0)


def _feathered(polygon: np.ndarray, shape: tuple[int, ...]) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The box (x0, y0, x1, y1) around ``polygon`` (K x 2, frame pixels) with a small margin, inside a frame of
    ``shape``, and the polygon's anti-aliased, slightly feathered coverage over it (h x w x 1, 0..1); None
    when the box is too small to paint."""
    height, width = shape[:2]
    x0, y0 = np.maximum(np.floor(polygon.min(axis=0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(polygon.max(axis=0)).astype(int) + 3, (width, height))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((polygon - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    return (int(x0), int(y0), int(x1), int(y1)), cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32)[..., None] / 255.0


class MouthPainter:
    """Paints the cavity for one portrait; colours come from the person's lips, once."""

    def __init__(self, image: np.ndarray, rest: np.ndarray, teeth_line: np.ndarray, face_width: float,
                 down: np.ndarray, closing_field: np.ndarray | None = None) -> None:
        self.face_width = face_width
        self.down = down
        self.photo_teeth = len(teeth_line) > 0
        top = teeth_line if self.photo_teeth else np.array(topo.LIPS_INNER_UPPER[1:-1])
        self.top_middle = int(top[len(top) // 2])
        self.cavity = np.array([INNER_LOWER[0], *top, INNER_LOWER[-1], *INNER_LOWER[-2:0:-1]])
        self.rest_gap = self._gap(rest)
        # how much taller the lower lip grows when the photo's parted lips are closed (a grin's relax, zeros else)
        closed = rest if closing_field is None else rest + closing_field
        self.lower_lip_growth = np.maximum(_lower_lip_thickness(closed) - _lower_lip_thickness(rest), 0.0)
        share, depth = teeth_between_lips(image, rest, face_width)
        # the photo shows teeth between its lips (open mouth, or a sliver the landmarks miss): shut lips repaint
        # the seam, reaching down over the lowest of those teeth
        self.shows_teeth = self.photo_teeth or share > SEEN_TEETH_SHARE
        self.seal_reach = 0.0 if self.photo_teeth or not self.shows_teeth else depth  # an open mouth's closing
        # squeezes its teeth away; a sliver's lies below lips that barely move
        lips = lips_mask(image.shape, rest)
        lip_colour = np.array(cv2.mean(image, mask=lips)[:3]) if lips.any() else np.array([150.0, 80, 80])
        self.slit = (lip_colour * 0.28).astype(np.float32)  # a narrow opening: a shadow line between the lips
        self.throat = np.clip(self.slit.mean() + THROAT_CHROMA * (self.slit - self.slit.mean()), 0, 255)  # a wide one
        self.lip_hue = (lip_colour / max(float(lip_colour.mean()), 1.0)).astype(np.float32)
        self.inner_lip = (lip_colour * INNER_LIP_SHADE).astype(np.float32)
        self.tongue = (lip_colour * 0.75 + np.array([25.0, 0, 0])).astype(np.float32)
        self.teeth = _teeth_for(image, rest, lip_colour, face_width)
        # the cavity carries the photo's grain too (a flat painted colour reads as drawn), fixed to the mouth
        self.grain = photo_grain(image, rest)
        self.mouth_at = rest[self.top_middle]
        self.noise = np.random.default_rng(11).normal(0.0, 1.0, (GRAIN_TILE, GRAIN_TILE)).astype(np.float32)

    def paint(self, frame: np.ndarray, deformed: np.ndarray, tongue_show: float = 0.0, closing: float = 0.0,
              bite: Bite | None = None, relaxed: float | None = None) -> None:
        """Paint the cavity into ``frame`` in place, for the mesh vertices ``deformed`` (V x 2); ``closing``
        (0..1) is how far a photo's own open mouth is being shut, where the lips' seam is painted (``relaxed``:
        how far a grin's lips have relaxed fuller as they shut, default ``closing``); ``bite``
        places the synthesised teeth (skull and jaw), when the photo has none to show."""
        if self.shows_teeth and closing > 0.0:
            self._seal(frame, deformed, closing, closing if relaxed is None else relaxed)
        if self.photo_teeth and bite is not None and bite.rounding > 0.0:
            self._shade_rounded(frame, deformed, bite.rounding, closing if relaxed is None else relaxed)
        strength = np.clip((self._gap(deformed) - self.rest_gap) / (FULL_DARK_AT * self.face_width), 0.0, 1.0)
        if strength <= 0.0:
            return
        polygon = deformed[self.cavity]
        found = _feathered(polygon, frame.shape)
        if found is None:
            return
        (x0, y0, x1, y1), inside = found
        alpha = inside * strength
        xs = np.arange(x0, x1, dtype=np.float32)
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        upper = _contour_at(deformed[INNER_UPPER], xs)
        lower = _contour_at(deformed[INNER_LOWER], xs)
        opening = float(np.median(lower - upper))
        colour = self._throat(xs, ys, polygon, upper, lower, tongue_show, opening)
        colour = colour + self._grain(deformed, x0, y0, x1, y1)
        if not self.photo_teeth and bite is not None:
            colour = self._bitten(colour, xs, ys, bite, opening)
        elif bite is not None:  # the photo's upper teeth stay with its upper lip; lower ones rise from the jaw
            lip = deformed[INNER_LOWER[1:-1]]
            room = opening - UPPER_TEETH_HEIGHT * self.face_width
            edge = lip - np.clip(room, 0.0, LOWER_TEETH_SHOW * self.face_width) * self.down
            colour = self._crowns(colour, xs, ys, edge, -1.0, LOWER_CROWN_SHARE * CROWN_HEIGHT * self.face_width,
                                  LOWER_ARCH_SHARE, LOWER_TEETH_LIGHT * self._light(opening, bite.rounding))
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = np.clip(region + alpha * (colour - region), 0, 255).astype(np.uint8)

    def _shade_rounded(self, frame: np.ndarray, deformed: np.ndarray, rounding: float, sealed: float) -> None:
        """A photo's own open mouth under rounded lips: the lips push forward and the teeth and mouth behind
        them fall into the shade they do on synthesised teeth (`ROUND_TEETH_SHADE` at full rounding), so an
        oo or w shows a dark opening, not the photo's lit teeth: deepest at the opening's sides, furthest from
        the light that comes in through its middle, and lit by what the mouth's red walls reflect (teeth
        darkened grey read as a grey block). Lips pressed shut (``sealed``) keep only the even shade: their
        seam is no opening. Feathered at the lips' inner edge."""
        found = _feathered(deformed[np.array(INNER_UPPER + INNER_LOWER[-2:0:-1])], frame.shape)
        if found is None:
            return
        (x0, y0, x1, y1), inside = found
        rounding = min(rounding, 1.0)
        polygon = deformed[np.array(INNER_UPPER)]
        middle, half = float(polygon[:, 0].mean()), max(float(np.ptp(polygon[:, 0])) / 2, 1.0)
        across = ((np.arange(x0, x1, dtype=np.float32) - middle) / half)[None, :, None]
        parted = rounding * (1.0 - sealed)
        shade = (1.0 - (1.0 - ROUND_TEETH_SHADE) * rounding) * np.clip(1.0 - ROUND_SIDE_SHADE * parted * across**2,
                                                                       0.0, 1.0)
        region = frame[y0:y1, x0:x1].astype(np.float32)
        warm = 1.0 + parted * ROUND_WARMTH * (self.lip_hue - 1.0)
        shaded = region * shade * (warm / float(LUMA @ warm)) + (1.0 - shade) * 0.5 * self.throat  # warm, not grey
        frame[y0:y1, x0:x1] = np.clip(region + inside * (shaded - region), 0, 255).astype(np.uint8)

    def _bitten(self, colour: np.ndarray, xs: np.ndarray, ys: np.ndarray, bite: Bite, opening: float) -> np.ndarray:
        """Upper teeth hanging from the skull's incisal edge, lower teeth standing on the jaw's, the upper in
        front; darker when the opening is small or the lips are rounded (less light gets in)."""
        light = self._light(opening, bite.rounding)
        crown = CROWN_HEIGHT * self.face_width
        hidden = ROUND_TEETH_HIDE * bite.rounding * self.face_width * self.down  # behind the rounded lips
        lower = self._crowns(colour, xs, ys, bite.lower_edge + hidden, -1.0, LOWER_CROWN_SHARE * crown,
                             LOWER_ARCH_SHARE, LOWER_TEETH_LIGHT * light)
        return self._crowns(lower, xs, ys, bite.upper_edge - hidden, 1.0, crown, 1.0, light)

    def _light(self, opening: float, rounding: float) -> float:
        """How much light reaches the teeth: less through a small opening, and behind rounded lips."""
        light = 0.6 + 0.4 * self._lit(opening)
        return light * (1 - (1 - ROUND_TEETH_SHADE) * rounding)

    def _lit(self, opening: float) -> float:
        """How far an opening of ``opening`` pixels is from a slit (0) to one the full light gets into (1)."""
        return min(opening / (LIT_OPENING * self.face_width), 1.0)

    def _grain(self, deformed: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """The photo's grain over the box, from a fixed noise tile that moves with the mouth."""
        dx, dy = np.round(deformed[self.top_middle] - self.mouth_at).astype(int)
        rows, cols = (np.arange(y0, y1) - dy) % GRAIN_TILE, (np.arange(x0, x1) - dx) % GRAIN_TILE
        return (CAVITY_GRAIN * self.grain * self.noise[np.ix_(rows, cols)])[..., None]

    def _crowns(self, colour: np.ndarray, xs: np.ndarray, ys: np.ndarray, edge: np.ndarray, up: float,
                crown: float, arch: float, light: float) -> np.ndarray:
        """One row of teeth from the exemplar: its biting edge along ``edge`` (K x 2), crowns reaching
        ``crown`` pixels up (``up`` = 1) or down (-1), across an arch ``arch`` times the edge's width."""
        edge_y = _contour_at(edge, xs)[None, :]
        v = up * (edge_y - ys) / crown  # 0 at the biting edge, 1 at the gum
        centre, half = float(edge[:, 0].mean()), max(arch * np.ptp(edge[:, 0]) / 2, 1.0)
        u = np.clip(0.5 + 0.5 * (xs - centre) / half, 0.0, 1.0)
        tex_h, tex_w = self.teeth.shape[:2]
        edge_row = EXEMPLAR_TEETH_ROWS * (tex_h - 1)
        u = EXEMPLAR_TEETH_SPAN[0] + (EXEMPLAR_TEETH_SPAN[1] - EXEMPLAR_TEETH_SPAN[0]) * u  # not its dark ends
        map_x = np.broadcast_to(u[None, :] * (tex_w - 1), v.shape).astype(np.float32)
        map_y = ((1.0 - np.clip(v, 0.0, 1.0)) * edge_row).astype(np.float32)
        teeth = cv2.remap(self.teeth, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        at_edge = np.clip(v * crown + 0.5, 0.0, 1.0)  # anti-aliased biting edge
        across = np.abs(xs - centre) / half
        inside = np.clip((1.0 - across) * 6.0, 0.0, 1.0)[None, :]  # the arch ends behind the cheeks
        corner = np.clip(1.0 - 0.5 * across**2, 0.5, 1.0)[None, :]  # the back teeth in softer shade, never black
        weight = (at_edge * (v <= 1.0) * inside)[..., None]
        shade = (TEETH_SHADE * light * corner)[..., None]
        return colour + weight * (teeth * shade - colour)

    def _throat(self, xs: np.ndarray, ys: np.ndarray, polygon: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                tongue_show: float, opening: float) -> np.ndarray:
        """Dark red cavity with the tongue's back arching up from the lower lip, lit towards the front (the
        lower teeth) and fading into the throat with no edge; darker at the corners; the tongue tip on demand.
        Its red grows with the ``opening`` (pixels): a slit between sealing lips is a shadow line, not a red one."""
        throat = self.slit + self._lit(opening) * (self.throat - self.slit)
        middle = polygon[:, 0].mean()
        across = (xs - middle) / max(np.ptp(polygon[:, 0]) / 2, 1.0)
        shade = np.clip(1.0 - 0.35 * across**2, 0.65, 1.0)[None, :]
        height = np.maximum(lower - upper, 0.0)
        arch = np.clip(1.0 - (across / TONGUE_SPAN) ** 2, 0.0, 1.0)
        rise = TONGUE_RISE * arch * np.maximum(height, 1.0)
        forward = np.clip((ys - (lower - rise)) / np.maximum(rise, 1.0), 0.0, 1.0)
        tongue = (forward * np.sqrt(arch))[..., None]
        colour = (throat + tongue * (self.tongue - throat)) * shade[..., None]
        # where the opening thins out towards the corners one sees the lips' shaded inner side, not a black hole
        thin = np.clip(1.0 - height / max(CORNER_LIP_SHARE * float(height.max()), 1.0), 0.0, 1.0)[None, :, None]
        colour = colour + thin * (self.inner_lip - colour)
        if tongue_show > 0:
            centre_y = np.interp(middle, xs, upper) + 0.6 * UPPER_TEETH_HEIGHT * self.face_width
            radius_x, radius_y = 0.3 * np.ptp(polygon[:, 0]), 0.5 * UPPER_TEETH_HEIGHT * self.face_width
            inside = ((xs[None, :] - middle) / radius_x) ** 2 + ((ys - centre_y) / radius_y) ** 2
            tip = np.clip(1.5 - inside, 0.0, 1.0)[..., None] * min(tongue_show, 1.0)
            colour = colour + tip * (self.tongue * 1.1 - colour)
        return colour

    def _seal(self, frame: np.ndarray, deformed: np.ndarray, closing: float, relaxed: float) -> None:
        """Closed lips of a photo taken with its mouth open: the squeezed strip where its teeth were (and the
        dark corners of its smile, and the upper lip's dark inner edge) becomes lip, upper then lower, each in
        the colour of the drawn lip just outside the repainted band (so it continues the lip without an edge),
        meeting at a soft darker line that follows the smooth mid-line of the lips from corner to corner."""
        upper, lower = deformed[INNER_UPPER], deformed[INNER_LOWER]
        corners = deformed[[OUTER_LIPS[0], topo.LIPS_OUTER_UPPER[-1]]]
        left, right = sorted((float(corners[0, 0]), float(corners[1, 0])))
        half = max(SEAL_HALF_HEIGHT * self.face_width, 1.5, self.seal_reach + 1.0)
        ys_all = np.concatenate([upper[:, 1], lower[:, 1]])
        height, width = frame.shape[:2]
        x0, x1 = max(int(np.floor(left)) - 1, 0), min(int(np.ceil(right)) + 2, width)
        y0 = max(int(np.floor(min(ys_all.min(), deformed[list(topo.LIPS_OUTER_UPPER), 1].min()))) - 3, 0)
        y1 = min(int(np.ceil(max(ys_all.max() + 2 * half, deformed[list(topo.LIPS_OUTER_LOWER), 1].max()))) + 3, height)
        if x1 - x0 < 3 or y1 - y0 < 3:
            return
        xs = np.arange(x0, x1, dtype=np.float32)
        seam = 0.5 * (_contour_at(upper, xs) + _contour_at(lower, xs))
        ends = np.array([left, float(deformed[INNER_UPPER[0], 0]), float(deformed[INNER_UPPER[-1], 0]), right])
        ends.sort()
        middle = (xs > ends[1]) & (xs < ends[2])
        seam = np.interp(xs, [ends[0], *xs[middle], ends[3]],
                         [_corner_y(deformed, ends[0]), *seam[middle], _corner_y(deformed, ends[3])]).astype(np.float32)
        seam = cv2.GaussianBlur(seam[None, :], (0, 0), sigmaX=max(1.0, 0.01 * self.face_width))[0]
        region = frame[y0:y1, x0:x1].astype(np.float32)
        rows = np.arange(y0, y1, dtype=np.float32)[:, None]
        # the upper lip's inner half (its dark inner edge, the photo's gums) is repainted in the colour of its
        # middle, so the closed lips read as one lip on another, not as a dark slit
        thickness = np.maximum(seam - _contour_at(deformed[list(topo.LIPS_OUTER_UPPER)], xs), 2.0 * half)
        reach_up = (UPPER_LIP_REPAINT / 1.6) * thickness[None, :]
        # a lower lip that grew fuller as it closed (a grin's, `build_closing`) is repainted over all it grew: its
        # pale inner side, stretched over that height, would read as a gap under the seam
        grown = min(relaxed, 1.0) * self.lower_lip_growth
        grown_at = _contour_at(np.column_stack([deformed[INNER_LOWER, 0], grown]), xs)
        # where the lips could not be brought together (held by the frame's still border), the paint covers
        # what remains between them, half above the seam and half below (a remainder within the seam's own
        # half-height is already covered)
        apart = 0.5 * np.maximum(_contour_at(lower, xs) - _contour_at(upper, xs), 0.0)
        apart *= np.clip(apart / half - 1.0, 0.0, 1.0) * min(closing, 1.0)
        reach_up = np.maximum(reach_up, apart[None, :] + 1.0)
        reach_down = half + grown_at + apart
        above, below = self._colours_beside(frame, xs, seam - UPPER_LIP_REPAINT * thickness,
                                            seam + 1.6 * reach_down + 1.0)
        reach_down = reach_down[None, :]
        offset = rows - seam[None, :]
        mix = np.clip(0.5 + offset / SEAM_STEP_PX, 0.0, 1.0)  # the lip colour changes at the seam, not above it
        lips = above[None] + mix[..., None] * (below - above)[None]
        line = 1.0 - SEAM_DARKEN * np.exp(-((offset / SEAM_WIDTH_PX) ** 2))
        lips *= line[..., None]
        grown_shade = GROWN_LIP_SHADE * np.clip(grown_at - 0.5, 0.0, 1.0)[None, :]  # from half a pixel grown
        lips *= (1.0 - grown_shade * np.clip(1.0 - offset / reach_down, 0.0, 1.0) * (offset > 0))[..., None]
        along = np.clip(np.minimum(xs - left, right - xs) / max(0.06 * (right - left), 1.0), 0.0, 1.0)
        edge = np.where(offset < 0, -offset / reach_up, offset / reach_down)
        inside = np.clip((1.6 - edge) / 0.6, 0.0, 1.0) * (along * along * (3 - 2 * along))[None, :]
        alpha = (inside * min(closing, 1.0) ** 2)[..., None]
        frame[y0:y1, x0:x1] = np.clip(region + alpha * (lips - region), 0, 255).astype(np.uint8)

    def _colours_beside(self, frame: np.ndarray, xs: np.ndarray, top: np.ndarray,
                        bottom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The drawn lips' own colours just outside the seam's paint, above (``top``) and below (``bottom``) it
        per column, smoothed along the mouth: the painted lips continue the lips around them without an edge."""
        sigma = max(1.0, 0.02 * self.face_width)
        out = []
        for ys in (top, bottom):
            sampled = cv2.remap(frame, xs[None, :].astype(np.float32), ys[None, :].astype(np.float32),
                                cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0].astype(np.float32)
            out.append(cv2.GaussianBlur(sampled[None], (0, 0), sigmaX=sigma)[0])
        return out[0], out[1]

    def _gap(self, points: np.ndarray) -> float:
        """Height of the cavity at its middle, in pixels."""
        return float(np.linalg.norm(points[topo.LIP_CENTER_LOWER] - points[self.top_middle]))


def _lower_lip_thickness(points: np.ndarray) -> np.ndarray:
    """The lower lip's height under each of its inner-edge points (pixels)."""
    inner = points[INNER_LOWER]
    return _contour_at(points[list(topo.LIPS_OUTER_LOWER)], inner[:, 0]) - inner[:, 1]


def _corner_y(deformed: np.ndarray, x: float) -> float:
    """y of the mouth corner nearest ``x`` (outer corners)."""
    corners = deformed[[topo.LIPS_OUTER_UPPER[0], topo.LIPS_OUTER_UPPER[-1]]]
    return float(corners[np.argmin(np.abs(corners[:, 0] - x)), 1])


def _contour_at(contour: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The contour's y at each x (linear between its points, flat beyond its ends)."""
    order = np.argsort(contour[:, 0])
    return np.interp(xs, contour[order, 0], contour[order, 1]).astype(np.float32)
