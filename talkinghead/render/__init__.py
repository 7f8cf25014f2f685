"""Render stage: a `FaceRig` and one frame of motion in, an RGB frame out."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from talkinghead.face import FaceRig
from talkinghead.face import topology as topo
from talkinghead.face.bases import JAW_SHARE_OF_PHOTO_GAP, face_frame
from talkinghead.face.mesh import TEETH_LINE_HEIGHT
from talkinghead.motion import MotionTrack
from talkinghead.motion.track import HEAD_CHANNELS
from talkinghead.render.eyelids import EyelidCloser
from talkinghead.render.eyes import GazeShifter
from talkinghead.render.mouth import MouthPainter
from talkinghead.render.pose import pose_offsets
from talkinghead.render.warp import MeshWarper

PHOTO_GAP_SHARES = {"jaw_open": JAW_SHARE_OF_PHOTO_GAP, "lips_open": 1.0 - JAW_SHARE_OF_PHOTO_GAP}
TEETH_UPPER_LIP = list(topo.LIPS_INNER_UPPER[1:-1])
TEETH_LOWER_LIP = list(topo.LIPS_INNER_LOWER[1:-1])


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
        self.gaze = GazeShifter(rig.image, rig.landmarks)
        self.lids = EyelidCloser(rig.image, rig.landmarks)
        self.mouth = MouthPainter(rig.image, self.rest, mesh.teeth_line, rig.face_width)
        oval = rig.landmarks[list(topo.FACE_OVAL)]
        self.pivot = np.array([oval[:, 0].mean(), oval[:, 1].mean() + 0.25 * rig.face_width,
                               oval[:, 2].mean() + 0.6 * rig.face_width])
        self.face_down = face_frame(rig.landmarks)[1]

    def deform(self, values: dict[str, float]) -> np.ndarray:
        """Mesh vertex positions (V x 3: x, y in output pixels, depth) for one frame's channel values.

        Each channel moves the mesh by (value - the photo's value) x its basis, except that closing a
        mouth the photo shows open follows the rig's closing field (shaped by the photo's own lip gap).
        """
        rig, mesh = self.rig, self.rig.mesh
        points = self.rest.copy()
        closing = 0.0
        for name, basis in rig.bases.items():
            photo_value = rig.neutral.get(name, 0.0)
            amount = values.get(name, 0.0) - photo_value
            if amount < 0 and name in PHOTO_GAP_SHARES and photo_value > 0:
                closing += PHOTO_GAP_SHARES[name] * min(-amount / photo_value, 1.0)
            elif amount:
                points += amount * basis
        if closing:
            points += closing * rig.closing
        if len(mesh.teeth_line):
            self._keep_teeth_line_between_lips(points)
        shaped = np.column_stack([points, mesh.vertices[:, 2]])
        if any(values.get(name, 0.0) for name in HEAD_CHANNELS):
            shaped += pose_offsets(shaped, mesh.head_weight, self.pivot, values, (rig.width, rig.height))
        return shaped

    def _keep_teeth_line_between_lips(self, points: np.ndarray) -> None:
        """The teeth line stays with the skull as the mouth opens, but when the lips close past it the line is
        squeezed between them in proportion, so no triangle between the lips ever folds over."""
        teeth = self.rig.mesh.teeth_line
        upper, lower = points[TEETH_UPPER_LIP], points[TEETH_LOWER_LIP]
        squeezed = upper + (1.0 - TEETH_LINE_HEIGHT) * (lower - upper)
        down = self.face_down
        depth, top, bottom = points[teeth] @ down, upper @ down, squeezed @ down
        outside = (depth < top) | (depth > bottom)
        points[teeth[outside]] = squeezed[outside]

    def draw(self, values: dict[str, float]) -> np.ndarray:
        """The RGB uint8 frame for one frame's channel values (absent channels rest at 0)."""
        deformed = self.deform(values)
        source = self.gaze.apply(self.rig.image, values.get("gaze_yaw", 0.0), values.get("gaze_pitch", 0.0))
        source = self.lids.apply(source, values, copy=source is self.rig.image)
        frame = self.warper.warp(deformed, source)
        self.mouth.paint(frame, deformed[:, :2], values.get("tongue_show", 0.0))
        return frame

    def frames(self, track: MotionTrack) -> Iterator[np.ndarray]:
        """Lazily draw every frame of ``track``."""
        for index in range(track.n_frames):
            yield self.draw(track.frame(index))


__all__ = ["Renderer"]
