"""Deformation bases: how far each mesh vertex moves (in output pixels) per unit of a motion channel.

Built once per portrait, in a face-aligned frame (u = across the eyes, v = down the face) and in units of
the face width, so the same channel value means the same expression on any photo at any size. A frame's
shape is the rest mesh plus the sum of value x basis over the channels (linear, so cheap to evaluate).
"""

from __future__ import annotations

import numpy as np

from talkinghead.face import topology as topo

# Largest movement at channel value 1, as a share of the face width.
JAW_DROP = 0.13
LIP_PART_LOWER, LIP_PART_UPPER = 0.035, 0.02
LIP_SPREAD = 0.05
BLINK_CLOSE = 0.97
BROW_LIFT = 0.045
SMILE_LIFT, SMILE_SPREAD = 0.035, 0.03
# How far the jaw's pull reaches past the face oval, per ring level (1..4).
RING_JAW_FOLLOW = np.array([1.0, 0.6, 0.25, 0.0, 0.0, 0.0])


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vectors across (u) and down (v) the face, and the face width in pixels."""
    across = landmarks[topo.EYE_OUTER_LEFT, :2] - landmarks[topo.EYE_OUTER_RIGHT, :2]
    u = across / np.linalg.norm(across)
    v = np.array([-u[1], u[0]])
    width = float(np.linalg.norm(landmarks[topo.CHEEK_LEFT, :2] - landmarks[topo.CHEEK_RIGHT, :2]))
    return u, v, width


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def build_bases(vertices: np.ndarray, ring: np.ndarray, teeth_line: np.ndarray,
                landmarks: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel (V x 2) displacement fields for the mesh ``vertices``."""
    u, v, width = face_frame(landmarks)
    mouth = (landmarks[topo.LIP_CENTER_UPPER, :2] + landmarks[topo.LIP_CENTER_LOWER, :2]) / 2
    rel = vertices[:, :2] - mouth
    s, t = rel @ u / width, rel @ v / width
    half_mouth = float(abs((landmarks[291, :2] - landmarks[61, :2]) @ u)) / 2 / width
    count = len(vertices)
    lower_lip = list(set(topo.LIPS_OUTER_LOWER + topo.LIPS_INNER_LOWER) - set(topo.MOUTH_CORNERS))
    upper_lip = list(set(topo.LIPS_OUTER_UPPER + topo.LIPS_INNER_UPPER) - set(topo.MOUTH_CORNERS))
    corners = list(topo.MOUTH_CORNERS)
    lip_taper = 1.0 - 0.6 * _smoothstep(0.3, 1.0, np.abs(s) / half_mouth)

    jaw = _smoothstep(-0.01, 0.05, t) * (1.0 - _smoothstep(0.22, 0.55, np.abs(s)))
    jaw *= RING_JAW_FOLLOW[np.minimum(ring, len(RING_JAW_FOLLOW) - 1)]
    jaw[lower_lip] = lip_taper[lower_lip]
    jaw[upper_lip] = 0.0
    jaw[corners] = 0.35
    jaw[teeth_line] = 0.0

    lips = np.zeros((count, 2))
    lips[lower_lip] = np.outer(lip_taper[lower_lip] * LIP_PART_LOWER * width, v)
    lips[upper_lip] = np.outer(lip_taper[upper_lip] * -LIP_PART_UPPER * width, v)

    near_mouth = np.exp(-((s / (half_mouth * 1.6)) ** 2 + (t / 0.12) ** 2)) * (ring == 0)
    near_mouth[teeth_line] = 0.0
    sideways = np.sign(s) * np.clip(np.abs(s) / half_mouth, 0, 1)
    spread = np.outer(near_mouth * sideways * LIP_SPREAD * width, u)
    smile = np.outer(near_mouth * np.abs(sideways) * -SMILE_LIFT * width, v) + spread * (SMILE_SPREAD / LIP_SPREAD)

    return {
        "jaw_open": np.outer(jaw * JAW_DROP * width, v),
        "lips_open": lips,
        "lip_width": spread,
        "smile": smile,
        "blink_right": _blink(vertices, landmarks, topo.EYE_RIGHT_UPPER, topo.EYE_RIGHT_LOWER,
                              topo.EYE_RIGHT_UPPER_RINGS, u, v),
        "blink_left": _blink(vertices, landmarks, topo.EYE_LEFT_UPPER, topo.EYE_LEFT_LOWER,
                             topo.EYE_LEFT_UPPER_RINGS, u, v),
        "brow_raise": _brow(vertices, landmarks, v, width),
    }


def _blink(vertices: np.ndarray, landmarks: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...],
           rings: tuple[tuple[int, ...], ...], u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Upper lid down onto the lower lid; the skin above follows part of the way (lid skin stretches)."""
    field = np.zeros((len(vertices), 2))
    low = landmarks[list(lower), :2]
    order = np.argsort(low @ u)
    low_s, low_t = (low @ u)[order], (low @ v)[order]
    lid = list(upper[1:-1])
    lid_s, lid_t = landmarks[lid, :2] @ u, landmarks[lid, :2] @ v
    drop = (np.interp(lid_s, low_s, low_t) - lid_t) * BLINK_CLOSE
    field[lid] = np.outer(drop, v)
    for ring, follow in zip(rings, (0.45, 0.15), strict=False):
        ring_s = landmarks[list(ring), :2] @ u
        field[list(ring)] = np.outer(np.interp(ring_s, lid_s, drop) * follow, v)
    return field


def _brow(vertices: np.ndarray, landmarks: np.ndarray, v: np.ndarray, width: float) -> np.ndarray:
    field = np.zeros((len(vertices), 2))
    brows = list(topo.BROW_RIGHT + topo.BROW_LEFT)
    field[brows] = -BROW_LIFT * width * v
    rings = list(topo.EYE_RIGHT_UPPER_RINGS[1] + topo.EYE_LEFT_UPPER_RINGS[1])
    field[rings] = -0.3 * BROW_LIFT * width * v
    return field
