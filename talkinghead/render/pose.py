"""Head pose as vertex motion: rotate the face's 3D landmarks about a neck pivot, shift and scale.

Each vertex follows the head by its head weight: the face fully, the rings around it (hair, neck,
shoulders) less and less, the frame border not at all, so the background stays put and nothing tears.
"""

from __future__ import annotations

import numpy as np


def rotation_matrix(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """3x3 rotation in image axes (x right, y down, z away from the camera).

    Positive yaw moves the nose towards the image's right, positive pitch moves it down (a nod), positive
    roll turns the face clockwise on screen.
    """
    yaw, pitch, roll = np.radians([yaw_deg, pitch_deg, roll_deg])
    turn = np.array([[np.cos(yaw), 0, -np.sin(yaw)], [0, 1, 0], [np.sin(yaw), 0, np.cos(yaw)]])
    nod = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    tilt = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    return tilt @ nod @ turn


def pose_offsets(vertices: np.ndarray, head_weight: np.ndarray, pivot: np.ndarray, values: dict[str, float],
                 frame_size: tuple[int, int]) -> np.ndarray:
    """(V x 3) offsets (image x, y and depth) of the head pose in ``values`` (head_* channels).

    ``frame_size`` is (width, height): head_x and head_y are shares of it.
    """
    rotation = rotation_matrix(values.get("head_yaw", 0.0), values.get("head_pitch", 0.0),
                               values.get("head_roll", 0.0))
    scale = 1.0 + values.get("head_scale", 0.0)
    relative = vertices - pivot
    moved = scale * relative @ rotation.T
    shift = np.array([values.get("head_x", 0.0) * frame_size[0], values.get("head_y", 0.0) * frame_size[1], 0.0])
    return (moved - relative + shift) * head_weight[:, None]
