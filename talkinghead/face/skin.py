"""How much a point of the photo looks like the person's own chin: skin or beard, not a collar or a suit.

The jaw's pull reaches past the face outline (the neck skin stretches as the chin drops, a beard hangs from
it), but clothes stay where they are: a collar pushed down with every syllable bobs like rubber. The colour
model is the photo's own chin and jaw (MediaPipe's face-surface points there), so it holds for any skin tone
and for a beard covering the chin; colours are compared in CIELAB, by their colour (a*, b*) first and their
lightness only a little, so skin in the shadow under the chin still counts as skin while a white collar or a
dark suit (both near grey) does not, even beside pale skin.
"""

from __future__ import annotations

import cv2
import numpy as np

from talkinghead.face import topology as topo

SAMPLE_BELOW_MOUTH = 0.1  # face points this far (face widths) below the mouth's middle sample the chin's colours
COLOUR_BLUR = 0.015  # colours are read from the photo blurred by this share of the face width (noise, pores)
LIGHTNESS_WEIGHT = 0.25  # weight of L* beside a* and b* (shadow changes lightness far more than colour)
SKIN_DISTANCE = 8.0  # colour distance (to the nearest chin sample) still counted as the chin's own colour
CLOTH_DISTANCE = 16.0  # ... and from which on a point counts as something else (measured on five portraits:
# neck skin 0.1-9, a beard painted over the chin 0.1-5, white collars 14-31, dark suits 28-33, a black
# turtleneck 19-25; a grey shirt beside pale skin only 8-10, so that one still follows)


def chin_likeness(image: np.ndarray, landmarks: np.ndarray, points: np.ndarray) -> np.ndarray:
    """0..1 per point of ``points`` (N x 2, image pixels): 1 where the photo there has the colours of the
    person's own chin and jaw (skin, beard), falling smoothly to 0 for colours far from all of them."""
    face_width = float(np.linalg.norm(landmarks[topo.CHEEK_LEFT, :2] - landmarks[topo.CHEEK_RIGHT, :2]))
    blurred = cv2.GaussianBlur(image.astype(np.float32), (0, 0), max(1.0, COLOUR_BLUR * face_width))
    chin = _chin_points(landmarks)
    if not len(chin) or not len(points):  # no chin to learn from (degenerate landmarks): everything follows
        return np.ones(len(points))
    samples = _colour_features(_read(blurred, landmarks[chin, :2]))
    colours = _colour_features(_read(blurred, points))
    distance = np.sqrt(((colours[:, None, :] - samples[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    t = np.clip((distance - SKIN_DISTANCE) / (CLOTH_DISTANCE - SKIN_DISTANCE), 0.0, 1.0)
    return 1.0 - t * t * (3 - 2 * t)


def _chin_points(landmarks: np.ndarray) -> np.ndarray:
    """Face-surface points below the mouth, not on the outline (which may lie on the background)."""
    across = landmarks[topo.EYE_OUTER_LEFT, :2] - landmarks[topo.EYE_OUTER_RIGHT, :2]
    down = np.array([-across[1], across[0]]) / np.linalg.norm(across)
    face_width = float(np.linalg.norm(landmarks[topo.CHEEK_LEFT, :2] - landmarks[topo.CHEEK_RIGHT, :2]))
    mouth = (landmarks[topo.LIP_CENTER_UPPER, :2] + landmarks[topo.LIP_CENTER_LOWER, :2]) / 2
    below = (landmarks[: topo.MESH_POINTS, :2] - mouth) @ down / face_width
    chosen = below > SAMPLE_BELOW_MOUTH
    chosen[list(topo.FACE_OVAL)] = False
    return np.nonzero(chosen)[0]


def _read(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """RGB of ``image`` at the pixels nearest to ``points`` (clamped into the image)."""
    height, width = image.shape[:2]
    cols = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
    rows = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
    return image[rows, cols]


def _colour_features(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (L* 0..100) with L* scaled down by `LIGHTNESS_WEIGHT`, per RGB colour (0..255)."""
    lab = cv2.cvtColor(rgb[None].astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[0]
    return lab * np.array([LIGHTNESS_WEIGHT, 1.0, 1.0], np.float32)
