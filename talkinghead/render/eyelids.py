"""Eyelids: a blink closes the eye with the upper lid's skin and its own lash line.

Drawn on the photo before the mesh warp, like the gaze, so head pose and expressions apply on top. Per eye, in
face-aligned coordinates (s across the eye, t down the face), the upper lid's margin descends from where the photo
has it to just past the lower lid. The photo's lash line slides down rigidly and lands on the new margin; between it
and the lid's old place the eye is covered by lid skin, made once per portrait by filling the eye opening in from
the skin around it (so it has the lid's colour and shading, and never a trace of iris, pupil or catchlight). Nothing
above the photo's lash line moves: the crease, the brow and glasses frames stay put, and the lens over the eye is the
photo's own.

The lid also follows the gaze: looking down lowers the upper lid with the iris, as real lids do.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from talkinghead.face import topology as topo
from talkinghead.face.bases import face_frame
from talkinghead.render.eyes import IRIS_TRAVEL

OVERSHOOT = 0.1  # a closed upper lid reaches this share of the opening past the lower lid's landmark line
LASH_LIFT = 0.1  # ... and shows the photo's lid from this share of the opening above its margin landmark
LASH_BAND = 0.35  # height of the lash line that slides, as a share of the opening (at least MIN_LASH_PX)
MIN_LASH_PX = 2.0
LID_SHADOW = 0.12  # a shut lid is this much darker at the lashes than one opening above them
GRAIN_LIMIT = 6.0  # the skin's fine grain laid over the filled-in lid (grey levels)
SKIN_PERCENTILES = (15, 100)  # around the eye, darker pixels are lashes or glasses frames, not skin
FILL_REACH = 0.5  # how far (share of the opening) the skin colour is averaged from
MIN_EYE_PX = 4.0
EYES = (  # (upper lid, lower lid, brow, motion channel)
    (topo.EYE_RIGHT_UPPER, topo.EYE_RIGHT_LOWER, topo.BROW_RIGHT, "blink_right"),
    (topo.EYE_LEFT_UPPER, topo.EYE_LEFT_LOWER, topo.BROW_LEFT, "blink_left"),
)


@dataclass
class _Lid:
    x0: int
    y0: int
    grid_x: np.ndarray  # float32 ROI pixel positions (h, w), ROI-relative
    grid_y: np.ndarray
    t: np.ndarray  # float32 down-the-face coordinate of each ROI pixel
    top: np.ndarray  # t of the photo's upper lid margin above each pixel (its column)
    opening: np.ndarray  # how far the margin travels to close the eye, per pixel (0 beyond the corners)
    lash: float  # height of the lash line that slides down
    skin: np.ndarray  # float32 ROI with the eye opening and lash line filled in with lid skin
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
    """Slide the upper lid of one eye down by ``amount`` of its full travel, in place."""
    travel = amount * lid.opening
    margin = lid.top + travel
    height, width = lid.t.shape
    region = image[lid.y0 : lid.y0 + height, lid.x0 : lid.x0 + width]
    slide = travel + amount * LASH_LIFT * lid.opening
    lashes = _slid(region, lid, slide)
    # lid skin from the old lash line down to the slid one, shaded darker towards the lashes (the lid curves
    # away over the eyeball); the slid lash line above the new margin
    curve = np.clip((margin - lid.t) / np.maximum(lid.opening, 1.0), 0.0, 1.0)
    skin = lid.skin * (1.0 - LID_SHADOW * amount * (1.0 - curve))[..., None]
    on_lashes = np.clip(lid.t - (margin - lid.lash) + 0.5, 0.0, 1.0)[..., None]
    lid_pixels = skin + on_lashes * (lashes - skin)
    # the old lash line is covered fully, fading into the skin above it over another lash height
    feather = amount * lid.lash + 0.5
    below_old_lashes = np.clip((lid.t - (lid.top - lid.lash - amount * lid.lash)) / feather, 0.0, 1.0)
    cover = (np.clip(margin - lid.t + 0.5, 0.0, 1.0) * below_old_lashes * (travel > 0.05))[..., None]
    region[:] = np.clip(region + cover * (lid_pixels - region) + 0.5, 0, 255).astype(np.uint8)


def _slid(region: np.ndarray, lid: _Lid, distance: np.ndarray) -> np.ndarray:
    """``region`` with every pixel showing what was ``distance`` above it (down the face), float32."""
    return cv2.remap(region, lid.grid_x - distance * lid.down[0], lid.grid_y - distance * lid.down[1],
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)


def _prepare_lid(image: np.ndarray, landmarks: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...],
                 brow: tuple[int, ...], channel: str) -> _Lid | None:
    across, down, _ = face_frame(landmarks)
    upper_xy, lower_xy = landmarks[list(upper), :2], landmarks[list(lower), :2]
    centre = (upper_xy.mean(axis=0) + lower_xy.mean(axis=0)) / 2
    upper_s, upper_t = (upper_xy - centre) @ across, (upper_xy - centre) @ down
    lower_s, lower_t = (lower_xy - centre) @ across, (lower_xy - centre) @ down
    eye_width = float(np.ptp(upper_s))
    mid_opening = float(np.interp(0.0, *_sorted(lower_s, lower_t)) - np.interp(0.0, *_sorted(upper_s, upper_t)))
    if eye_width < MIN_EYE_PX or mid_opening <= 0.5:
        return None  # too small, or shut in the photo already
    full_opening = mid_opening * (1.0 + OVERSHOOT)
    lash = max(LASH_BAND * mid_opening, MIN_LASH_PX)
    band = 2.0 * lash + 4.0
    # the region: the eye's width plus a little, from the top of the band to below the lower lid
    s_lo, s_hi = upper_s.min() - 2.0, upper_s.max() + 2.0
    t_lo, t_hi = float(upper_t.min()) - band - 2.0, float(lower_t.max()) + OVERSHOOT * mid_opening + 3.0
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
    opening = np.where(inside, np.maximum(bottom - top, 0.0) * (1.0 + OVERSHOOT), 0.0).astype(np.float32)
    covered = inside & (t > top - 2.0 * lash - 1.0) & (t < bottom + OVERSHOOT * mid_opening + 1.0)
    skin = _lid_skin(image[y0:y1, x0:x1], covered, mid_opening)
    return _Lid(
        x0=int(x0), y0=int(y0), grid_x=grid_x - x0, grid_y=grid_y - y0, t=t, top=top, opening=opening,
        lash=float(lash), skin=skin.astype(np.float32), down=down.astype(np.float32),
        gaze_per_sine=IRIS_TRAVEL * eye_width / full_opening, channel=channel,
    )


def _lid_skin(roi: np.ndarray, covered: np.ndarray, opening: float) -> np.ndarray:
    """The ROI with ``covered`` filled in from the skin around it (continuous with it at every edge).

    The hole gets a local average of the skin around it, leaving out the darkest pixels (lashes, glasses
    frames), so only skin flows into the lid, smoothly and without streaks; then the grain of the lid skin above
    it is laid over it, so the lid is not plastic."""
    image = roi.astype(np.float32)
    luminance = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY).astype(np.float32)
    around = ~cv2.dilate(covered.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if around.sum() < 8:
        return image
    low, high = np.percentile(luminance[around], SKIN_PERCENTILES)
    valid = (around & (luminance >= low) & (luminance <= high)).astype(np.float32)
    sigma = max(1.5, FILL_REACH * opening)
    weight = cv2.GaussianBlur(valid, (0, 0), sigma)
    total = cv2.GaussianBlur(image * valid[..., None], (0, 0), sigma)
    fallback = np.median(image[valid > 0], axis=0)
    local = np.where(weight[..., None] > 1e-3, total / np.maximum(weight[..., None], 1e-3), fallback)
    filled = local.astype(np.float32)
    # the skin's grain, mirrored down from the lid skin above (its fine horizontal folds carry on over the lid)
    grain = np.clip(image - cv2.GaussianBlur(image, (0, 0), 1.0), -GRAIN_LIMIT, GRAIN_LIMIT) * valid[..., None]
    rows = np.nonzero(covered.any(axis=1))[0]
    if rows.size:
        mirror = np.clip(2 * rows[0] - 1 - np.arange(len(image)), 0, len(image) - 1)
        filled += grain[mirror]
    return np.where(covered[..., None], filled, image).astype(np.float32)


def _sorted(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(s)
    return s[order], t[order]
