"""Render stage: a `FaceRig` and one frame of motion in, an RGB frame out."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from talkinghead.face import FaceRig
from talkinghead.face import topology as topo
from talkinghead.motion import MotionTrack
from talkinghead.render.mouth import MouthPainter
from talkinghead.render.pose import pose_offsets
from talkinghead.render.warp import MeshWarper


class Renderer:
    """Draws frames of one portrait. Set-up work (mesh, colours, grids) happens once, here.

    Example::

        from talkinghead.face import build_rig
        frame = Renderer(build_rig("me.jpg")).draw({"jaw_open": 0.6})
    """

    def __init__(self, rig: FaceRig) -> None:
        self.rig = rig
        mesh = rig.mesh
        self.rest = mesh.vertices[:, :2]
        self.warper = MeshWarper(rig.image, self.rest, mesh.triangles)
        self.mouth = MouthPainter(rig.image, self.rest, mesh.teeth_line, rig.face_width)
        oval = rig.landmarks[list(topo.FACE_OVAL)]
        self.pivot = np.array([oval[:, 0].mean(), oval[:, 1].mean() + 0.25 * rig.face_width,
                               oval[:, 2].mean() + 0.6 * rig.face_width])

    def deform(self, values: dict[str, float]) -> np.ndarray:
        """Mesh vertex positions (V x 2) for one frame's channel values."""
        points = self.rest.copy()
        for name, basis in self.rig.bases.items():
            amount = values.get(name, 0.0)
            if amount:
                points += amount * basis
        mesh = self.rig.mesh
        if any(values.get(name, 0.0) for name in ("head_yaw", "head_pitch", "head_roll", "head_x", "head_y",
                                                     "head_scale")):
            shaped = np.column_stack([points, mesh.vertices[:, 2]])
            points += pose_offsets(shaped, mesh.head_weight, self.pivot, values, self.rig.size)
        return points

    def draw(self, values: dict[str, float]) -> np.ndarray:
        """The RGB uint8 frame for one frame's channel values (absent channels rest at 0)."""
        deformed = self.deform(values)
        frame = self.warper.warp(deformed)
        self.mouth.paint(frame, deformed)
        return frame

    def frames(self, track: MotionTrack) -> Iterator[np.ndarray]:
        """Lazily draw every frame of ``track``."""
        for index in range(track.n_frames):
            yield self.draw(track.frame(index))


__all__ = ["Renderer"]
