"""Eyelids: a blink closes the eye with the upper lid's own skin, stretched down, and its own lash line.

Drawn on the photo before the mesh warp, like the gaze, so head pose and expressions apply on top. Per eye, in
face-aligned coordinates (s across the eye, t down the face), the upper lid's margin descends from where the photo
has it to just past the lower lid. Every pixel of the lid comes from the photo's own lid above the margin, so no
trace of iris, pupil, white or catchlight can show: the lash line (a thin band just above the margin) slides down
rigidly and lands on the new margin, and the lid skin between it and an anchor below the brow stretches to fill
the gap, its crease flattening as the skin goes taut over the eyeball. Nothing above the anchor moves: brows and
glasses frames stay put. At the anchor the stretched lid is the photo's own pixels, the taut skin taking over
only further down, so the lid is continuous with what is above it: on a hooded eye (the brow and its shadow sit
on the lashes: no lit lid skin to stretch) the lid that unfolds from under the fold starts in the fold's own
shade and lightens down the lid, never a pale patch with an edge under the fold.

The lid also follows the gaze: looking down lowers the upper lid with the iris, as real lids do.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit

from talkinghead.face import topology as topo
from talkinghead.face.bases import face_frame
from talkinghead.render.eyes import IRIS_TRAVEL

LOWER_RISE = 0.3  # the lower lid rises this share of the opening to meet the upper one
OVERLAP = 0.15  # ... which reaches this share of the opening past the meeting line (its lashes cover it)
LOWER_REACH = 0.8  # the lower lid's skin stretches from this many openings below its margin
CORNER_FADE = 0.3  # the closure fades out where the eye is narrower than this share of its middle opening
TONE_SIGMA = 0.35  # the scale (share of the opening) of the skin shading a shut lid takes from around it
SKIN_SPREAD = 2.5  # around the eye, pixels this many spreads darker than the skin's median are not skin
TONE_ACROSS = 0.12  # ... smoothed over this share of the eye's width
STREAKS_FROM = 3.0  # skin stretched more than this many times starts to show streaks, not skin: it gives its
STREAKS_SPAN = 2.5  # detail up for the skin's grain, all of it when stretched this much more
GRAIN_SIGMA = (1.2, 0.5)  # the grain laid on stretched skin: noise this fine across and down (pixels),
#                           like the lid's fine folds
CORNER_REACH = 0.15  # the closure fades in over this share of the eye's width from each corner
TAUT = 0.7  # share of its own shading (crease, lit bulge) a shut lid gives up for the shading around it
LASH_LIFT = 0.15  # the slid lash line is the photo's lid from this share of the opening above its margin landmark
MAX_LASH_BAND = 0.6  # the photo's dark lash line above the margin is at most this high (share of the opening)
LASH_DARKNESS = 0.35  # ... and ends where the lid is lighter than this share of the way from lashes to skin
MIN_LASH_PX = 1.5
CEILING_PERCENTILE = 5  # the skin ends, for the whole eye, where it ends lowest over its columns (nearly)
FRAME_DARKNESS = 0.15  # above the lid's skin, only what is about as dark as the lashes (a frame, the brow) stops it
SHUT_LASH = 0.1  # a shut lid's lash line is one curve, this share of the eye's width high (the lashes
#                   of both lids meet and point down over the lower lid)
LASH_DARKEN = 0.5  # ... and this much darker from its middle down to the meeting line
LASH_FALL = 0.8  # the shut lashes hang this share of the shut line's height below the meeting line,
LASH_FALL_DARKEN = 0.5  # ... darkening the lower lid there by up to this much (fading out at their tips)
LID_SHADOW = 0.35  # the shut lid's skin darkens by this much towards the lashes (its edge curves away)
FRINGE = 0.5
TAUT_RAMP = 0.5  # the taut, smoothed skin takes over from the photo's own stretched lid over this share of
#                  the way from the anchor to the lash line (at the anchor the lid is the photo's own pixels)
SHADE_REACH = 0.7  # ... and its tone goes from the anchor's (a hood's shade) to the lit lid's over this share
SKIN_REACH = 0.8  # the stretching lid skin is anchored this many openings above the lash line
BROW_CLEAR = 0.4  # ... and at least this many openings below the brow's lower edge
MIN_EYE_PX = 4.0
EYES = (  # (upper lid, lower lid, lower edge of the brow, motion channel)
    (topo.EYE_RIGHT_UPPER, topo.EYE_RIGHT_LOWER, topo.BROW_RIGHT[6:], "blink_right"),
    (topo.EYE_LEFT_UPPER, topo.EYE_LEFT_LOWER, topo.BROW_LEFT[6:], "blink_left"),
)


@dataclass
class _Lid:
    x0: int
    y0: int
    grid_x: np.ndarray  # float32 ROI pixel positions (h, w), ROI-relative
    grid_y: np.ndarray
    t: np.ndarray  # float32 down-the-face coordinate of each ROI pixel
    top: np.ndarray  # t of the photo's upper lid margin in each pixel's column
    bottom: np.ndarray  # t of the photo's lower lid margin
    anchor: np.ndarray  # t where the upper lid's skin starts to stretch (nothing above it moves)
    lower_anchor: np.ndarray  # t where the lower lid's skin starts to stretch (nothing below it moves)
    opening: np.ndarray  # bottom - top inside the eye (0 beyond the corners)
    presence: np.ndarray  # 1 across the eye, fading to 0 at its corners: how much of the closure applies
    lash: float  # height of the photo's lash line (it slides down and thins)
    shut_lash: float  # height of the lash line when the eye is shut
    shading: np.ndarray  # float32 ROI: the skin's local average tone (lashes, eye and brow left out)
    tone_above: np.ndarray  # shading at each column's anchor (the fold's shade where no lit lid skin shows)
    tone_below: np.ndarray  # shading of the lower lid's skin below each column's margin
    grain: np.ndarray  # float32 (h, w, 1): fine noise as strong as the skin's own grain around the eye
    down: np.ndarray  # unit vector down the face, in image axes
    gaze_per_sine: float  # margin travel (share of the full closure) per unit sine of the gaze pitch
    channel: str


class EyelidCloser:
    """Lowers both upper lids of one portrait by the blink channels (0 open .. 1 shut) and the gaze pitch."""

    def __init__(self, image: np.ndarray, landmarks: np.ndarray) -> None:
        self.lids = [lid for spec in EYES if (lid := _prepare_lid(image, landmarks, *spec)) is not None]

    def closure(self, lid: _Lid, values: dict[str, float]) -> float:
        """The share of the way the lid is closed: the blink, plus the lid following a downward gaze."""
        blink = float(np.clip(values.get(lid.channel, 0.0), 0.0, 1.0))
        follow = lid.gaze_per_sine * max(np.sin(np.radians(values.get("gaze_pitch", 0.0))), 0.0)
        return float(np.clip(blink + (1.0 - blink) * follow, 0.0, 1.0))

    def apply(self, image: np.ndarray, values: dict[str, float], copy: bool = True) -> np.ndarray:
        """``image`` with the lids lowered (``image`` itself when both eyes are open; a copy unless ``copy`` is
        False, when the caller's own copy may be drawn on)."""
        amounts = [self.closure(lid, values) for lid in self.lids]
        if max(amounts, default=0.0) < 1e-3:
            return image
        out = image.copy() if copy else image
        for lid, amount in zip(self.lids, amounts, strict=True):
            if amount >= 1e-3:
                _lower(out, lid, amount)
        return out


def _lower(image: np.ndarray, lid: _Lid, amount: float) -> None:
    """Close the lids of one eye by ``amount`` of their full travel, in place."""
    height, width = lid.t.shape
    region = image[lid.y0 : lid.y0 + height, lid.x0 : lid.x0 + width]
    _close_lids(region, region.copy(), amount, lid.t, lid.top, lid.bottom, lid.anchor, lid.lower_anchor, lid.opening,
                lid.presence, lid.shading, lid.tone_above, lid.tone_below, lid.grain, lid.lash, lid.shut_lash,
                float(lid.down[0]), float(lid.down[1]))


@njit(cache=True, nogil=True)
def _sample(image: np.ndarray, x: float, y: float, channel: int) -> float:
    """Bilinear sample of ``image`` at (x, y), the border replicated (as OpenCV's remap does)."""
    height, width = image.shape[:2]
    x = min(max(x, 0.0), width - 1.0)
    y = min(max(y, 0.0), height - 1.0)
    x0, y0 = int(x), int(y)
    x1, y1 = min(x0 + 1, width - 1), min(y0 + 1, height - 1)
    fx, fy = x - x0, y - y0
    top = image[y0, x0, channel] * (1.0 - fx) + image[y0, x1, channel] * fx
    bottom = image[y1, x0, channel] * (1.0 - fx) + image[y1, x1, channel] * fx
    return top * (1.0 - fy) + bottom * fy


@njit(cache=True, nogil=True)
def _close_lids(out: np.ndarray, photo: np.ndarray, amount: float, t: np.ndarray, top: np.ndarray,
                bottom: np.ndarray, anchor: np.ndarray, lower_anchor: np.ndarray, opening: np.ndarray,
                presence: np.ndarray, shading: np.ndarray, tone_above: np.ndarray, tone_below: np.ndarray,
                grain: np.ndarray, photo_lash: float, shut_lash: float, down_x: float, down_y: float) -> None:
    """Per pixel of one eye's region (in face-aligned t, down the face), where the lids' pixels come from.

    The lids meet a little above the lower lid's margin (the lower lid rises a share of the opening). Upper
    lid, in the photo's t: the lash band slides (and thins) onto the new margin, and the skin between the
    anchor and the band stretches over the gap it leaves; that skin goes taut, its shading (and the crease's)
    giving way to a smooth blend of the skin's tone at the anchor and below the eye (so no lighter patch or
    second lid line is left where the eye was), and where stretched far (streaks, not skin) its detail gives
    way to the skin's own grain. The taut skin takes over gradually from the anchor (none at it, all of it
    from TAUT_RAMP of the way down), so the lid starts as the photo's pixels there, with no edge, and its
    tone leaves the anchor's (on a hooded eye, the fold's shade) for the lit lid's over SHADE_REACH of it:
    the fold's shadow on the lid below it. (Shade carried all the way down to the lashes read to dlib as an
    open eye on a painted hood: 0.38-0.94 of open at 320-448 px, 0.30-0.38 with the shadow ending part-way.)
    The lashes of a shut lid point down over the meeting line, a darker line than the open lid's lash band.
    Lower lid: its skin between the margin and an anchor below stretches up."""
    height, width = t.shape
    for row in range(height):
        for col in range(width):
            closed = amount * presence[row, col]
            if closed < 1e-4:
                continue
            here, lid_top, lid_bottom, gap = t[row, col], top[row, col], bottom[row, col], opening[row, col]
            upper_anchor, low_anchor = anchor[row, col], lower_anchor[row, col]
            lower_margin = lid_bottom - closed * LOWER_RISE * gap
            margin = lid_top + closed * (lid_bottom - lid_top - (LOWER_RISE - OVERLAP) * gap)
            lash_source_bottom = lid_top - closed * LASH_LIFT * gap
            skin_source_end = lash_source_bottom - photo_lash
            lash = photo_lash + closed * (shut_lash - photo_lash)
            skin_end = margin - lash
            stretch = (skin_source_end - upper_anchor) / max(skin_end - upper_anchor, 1e-3)
            # skin above skin_end, the lash band below it, blended over one pixel (a hard switch drew the band's
            # top edge as a staircase wherever the lid slopes across the pixel grid)
            skin_share = min(max(skin_end - here + 0.5, 0.0), 1.0)
            upper = here
            if here > upper_anchor:
                upper = min(upper_anchor + (here - upper_anchor) * stretch, skin_source_end)
            band = skin_source_end + max(here - skin_end, 0.0) * (photo_lash / lash)
            lower = here
            if lower_margin < here < low_anchor:
                lower_stretch = (low_anchor - lid_bottom) / max(low_anchor - lower_margin, 1e-3)
                lower = low_anchor - (low_anchor - here) * lower_stretch
            cover = min(max(margin - here + 0.5, 0.0), 1.0)
            fall = 0.0  # the lashes hanging over the lower lid, from the margin's own pixel down
            if here > margin - 1.0:
                fall = min(max(1.0 - (here - margin) / max(LASH_FALL * lash, 1.0), 0.0), 1.0)
            if cover == 0.0 and lower == here and fall == 0.0:
                continue
            stretched_skin = skin_share > 0.0 and here > upper_anchor
            across = min(max((here - upper_anchor) / max(skin_end - upper_anchor, 1.0), 0.0), 1.0)
            taking = min(across / TAUT_RAMP, 1.0)
            taking *= taking * (3.0 - 2.0 * taking)
            lit = min(across / SHADE_REACH, 1.0)
            lit *= lit * (3.0 - 2.0 * lit)
            smooth = closed * min(max((1.0 / max(stretch, 1e-3) - STREAKS_FROM) / STREAKS_SPAN, 0.0), 1.0)
            in_lash = min(max(2.0 * (here - margin + lash) / max(lash, 1.0), 0.0), 1.0)  # darkest down to the margin
            fringe = min(max(1.0 - (margin - here) / max(FRINGE * gap, 1.0), 0.0), 1.0) if skin_share > 0.0 else 0.0
            darken = (1.0 - LASH_DARKEN * closed * in_lash) * (1.0 - LID_SHADOW * closed * fringe)
            for channel in range(3):
                value = _sample(photo, col - (here - lower) * down_x, row - (here - lower) * down_y, channel)
                value *= 1.0 - LASH_FALL_DARKEN * closed * fall  # the lashes hanging over the lower lid
                if cover > 0.0:
                    lid = 0.0
                    if skin_share > 0.0:
                        x, y = col - (here - upper) * down_x, row - (here - upper) * down_y
                        lid = _sample(photo, x, y, channel)
                        if stretched_skin:
                            tone = tone_above[row, col, channel] + lit * (
                                tone_below[row, col, channel] - tone_above[row, col, channel])
                            lid += taking * closed * TAUT * (tone - _sample(shading, x, y, channel))
                            lid += taking * smooth * (tone + grain[row, col, 0] - lid)
                    if skin_share < 1.0:
                        lashes = _sample(photo, col - (here - band) * down_x, row - (here - band) * down_y, channel)
                        lid = lashes + skin_share * (lid - lashes)
                    value += cover * (lid * darken - value)
                out[row, col, channel] = min(max(value + 0.5, 0.0), 255.0)


def _sampled(image: np.ndarray, lid: _Lid, shift: np.ndarray) -> np.ndarray:
    """``image`` (the lid's ROI) with every pixel showing what was ``shift`` above it (down the face), float32."""
    shift = shift.astype(np.float32)
    return cv2.remap(image, lid.grid_x - shift * lid.down[0], lid.grid_y - shift * lid.down[1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE).astype(np.float32)


def _prepare_lid(image: np.ndarray, landmarks: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...],
                 brow: tuple[int, ...], channel: str) -> _Lid | None:
    across, down, _ = face_frame(landmarks)
    upper_xy, lower_xy = landmarks[list(upper), :2], landmarks[list(lower), :2]
    centre = (upper_xy.mean(axis=0) + lower_xy.mean(axis=0)) / 2
    upper_s, upper_t = (upper_xy - centre) @ across, (upper_xy - centre) @ down
    lower_s, lower_t = (lower_xy - centre) @ across, (lower_xy - centre) @ down
    brow_xy = landmarks[list(brow), :2]
    brow_s, brow_t = (brow_xy - centre) @ across, (brow_xy - centre) @ down
    eye_width = float(np.ptp(upper_s))
    mid_opening = float(np.interp(0.0, *_sorted(lower_s, lower_t)) - np.interp(0.0, *_sorted(upper_s, upper_t)))
    if eye_width < MIN_EYE_PX or mid_opening <= 0.5:
        return None  # too small, or shut in the photo already
    lash_search = MAX_LASH_BAND * mid_opening + MIN_LASH_PX
    reach = SKIN_REACH * mid_opening + lash_search
    # the region: the eye's width plus a little, from the upper anchor to the lower one
    s_lo, s_hi = upper_s.min() - 2.0, upper_s.max() + 2.0
    t_lo, t_hi = float(upper_t.min()) - reach - 2.0, float(lower_t.max()) + LOWER_REACH * mid_opening + 3.0
    corners = np.array([centre + s * across + t * down for s in (s_lo, s_hi) for t in (t_lo, t_hi)])
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 1, (image.shape[1], image.shape[0]))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    grid_x, grid_y = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    rel_x, rel_y = grid_x - centre[0], grid_y - centre[1]
    s = rel_x * across[0] + rel_y * across[1]
    t = (rel_x * down[0] + rel_y * down[1]).astype(np.float32)
    top = np.interp(s, *_sorted(upper_s, upper_t)).astype(np.float32)
    bottom = np.interp(s, *_sorted(lower_s, lower_t)).astype(np.float32)
    inside = (s > upper_s.min()) & (s < upper_s.max())
    # the lids close fully across the eye and fade out over the last pixels to its corners
    opening = np.where(inside, np.maximum(bottom - top, 0.0), 0.0).astype(np.float32)
    from_corner = np.minimum(s - upper_s.min(), upper_s.max() - s) / (CORNER_REACH * eye_width)
    presence = np.clip(np.minimum(opening / (CORNER_FADE * mid_opening), from_corner), 0.0, 1.0)
    presence = (presence * presence * (3.0 - 2.0 * presence)).astype(np.float32)
    roi = image[y0:y1, x0:x1]
    lash, ceiling = _lid_profile(roi, t, top, inside, mid_opening, reach)
    # a frame just above the lashes stays put: the lash band that slides down stops short of it, and the lid's
    # skin stretches from below it
    lash = min(lash, max(ceiling - LASH_LIFT * mid_opening - 2.0, MIN_LASH_PX))
    below_brow = np.interp(s, *_sorted(brow_s, brow_t)) + BROW_CLEAR * mid_opening
    anchor = np.maximum(top - lash - SKIN_REACH * mid_opening, below_brow)
    anchor = np.maximum(np.minimum(anchor, top - lash - 2.0), top - ceiling + 1.0)  # the frame wins
    lower_anchor = bottom + LOWER_REACH * mid_opening
    lid = _Lid(
        x0=int(x0), y0=int(y0), grid_x=grid_x - x0, grid_y=grid_y - y0, t=t, top=top, bottom=bottom,
        anchor=anchor.astype(np.float32), lower_anchor=lower_anchor.astype(np.float32), opening=opening,
        presence=presence, lash=float(lash), shut_lash=max(SHUT_LASH * eye_width, MIN_LASH_PX),
        down=down.astype(np.float32),
        gaze_per_sine=IRIS_TRAVEL * eye_width / (mid_opening * (1.0 - LOWER_RISE + OVERLAP)), channel=channel,
        shading=np.zeros_like(roi, np.float32), tone_above=np.zeros_like(roi, np.float32),
        tone_below=np.zeros_like(roi, np.float32), grain=np.zeros((*t.shape, 1), np.float32),
    )
    # the skin's shading: a local average of the lid and cheek skin only (no lashes, eye, brow or frame in it)
    skin = ((t < top - lash) & (t > anchor - 1.0)) | ((t > bottom + 1.0) & (t < lower_anchor + 2.0))
    grey = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if skin.any():  # lashes, brow hairs or a glasses frame are far darker than the skin's own folds
        median = float(np.median(grey[skin]))
        spread = 1.4826 * float(np.median(np.abs(grey[skin] - median)))
        skin &= grey >= median - SKIN_SPREAD * max(spread, 2.0)
    sigma = max(TONE_SIGMA * mid_opening, 1.0)
    weight = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), sigma)
    total = cv2.GaussianBlur(roi.astype(np.float32) * skin[..., None], (0, 0), sigma)
    lid.shading = (total / np.maximum(weight, 1e-3)[..., None]).astype(np.float32)
    lid.grain = _grain(roi, skin, lid.shading)
    # the tones the shut lid blends between, smoothed across the eye (single brow hairs make no streaks)
    across_eye = (0, 0), max(TONE_ACROSS * eye_width, 1.0)
    lid.tone_above = cv2.GaussianBlur(_anchor_tone(lid, roi), *across_eye)
    lid.tone_below = cv2.GaussianBlur(_sampled(lid.shading, lid, t - (bottom + 0.5 * LOWER_REACH * mid_opening)),
                                      *across_eye)
    return lid


def _anchor_tone(lid: _Lid, roi: np.ndarray) -> np.ndarray:
    """The tone a shut lid starts from at its anchor: the photo's own pixels just below it, whatever they are
    (lit lid skin, or on a hooded eye the fold's shade, where the lid unfolds from under the fold in its
    shadow). The stretched lid starts as those very pixels, so a tone taken anywhere else (a lit tone guessed
    from skin farther off) leaves an edge at the anchor: a flat light patch under a dark brow."""
    return _sampled(cv2.GaussianBlur(roi.astype(np.float32), (0, 0), 1.0), lid, lid.t - lid.anchor - 1.0)


def _grain(roi: np.ndarray, skin: np.ndarray, shading: np.ndarray) -> np.ndarray:
    """Fine noise (fixed per portrait, so it never flickers) as strong as the grain of the skin around the eye."""
    grey = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    strength = float(np.std(detail[skin])) if skin.sum() > 8 else 0.0
    noise = cv2.GaussianBlur(np.random.default_rng(0).standard_normal(grey.shape).astype(np.float32), (0, 0),
                             sigmaX=GRAIN_SIGMA[0], sigmaY=GRAIN_SIGMA[1])
    return (noise * strength / max(float(np.std(noise)), 1e-6))[..., None]


def _lid_profile(roi: np.ndarray, t: np.ndarray, top: np.ndarray, inside: np.ndarray, opening: float,
                 reach: float) -> tuple[float, float]:
    """How far above the lid margin landmarks the photo's dark lash line reaches, and where the lit lid skin
    above it ends (at a glasses frame, the brow or the search's end), in pixels, one pair per eye.

    Landmarks put the margin at the lid's edge, but lashes (and, on hooded eyes, the shadowed lid) darken the
    lid above it; all of that band must slide down, or its top shows as a second lid line when the eye is
    shut. Above it, only lit skin may stretch: a glasses frame or the brow stays where it is. Per column of
    the eye, walking up from the margin: the dark band, then the skin until the next dark pixel."""
    grey = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY).astype(np.float32)
    height = top - t  # positive above the margin
    lashes, ceilings = [], []
    for column in np.nonzero(inside.any(axis=0))[0]:
        above = inside[:, column] & (height[:, column] >= 0.0) & (height[:, column] <= reach)
        if above.sum() < 4:
            continue
        order = np.argsort(height[above, column])
        levels, heights = grey[above, column][order], height[above, column][order]
        near = heights <= MAX_LASH_BAND * opening + MIN_LASH_PX
        darkest = int(np.argmin(np.where(near, levels, np.inf)))
        skin_level = float(np.percentile(levels[darkest:], 75))
        threshold = levels[darkest] + LASH_DARKNESS * (skin_level - levels[darkest])
        lit = np.nonzero(levels[darkest:] >= threshold)[0]
        if not lit.size:
            continue
        lash_end = darkest + int(lit[0])
        frame_level = levels[darkest] + FRAME_DARKNESS * (skin_level - levels[darkest])
        dark_again = np.nonzero(levels[lash_end:] < frame_level)[0]
        lashes.append(heights[lash_end])
        ceilings.append(heights[lash_end + int(dark_again[0])] if dark_again.size else heights[-1])
    if not lashes:
        return MIN_LASH_PX, reach
    lash = float(np.clip(_middle_median(lashes), MIN_LASH_PX, max(MAX_LASH_BAND * opening, MIN_LASH_PX)))
    return lash, max(float(np.percentile(ceilings, CEILING_PERCENTILE)), MIN_LASH_PX + 2.0)


def _middle_median(values: list[float]) -> float:
    """The median of the middle half of a row of columns (the eye's corners measure nothing reliable)."""
    middle = values[len(values) // 4 : max(len(values) * 3 // 4, 1)]
    return float(np.median(middle))


def _sorted(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(s)
    return s[order], t[order]
