"""Render stage: a `FaceRig` and one frame of motion in, an RGB frame out."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from talkinghead.face import FaceRig
from talkinghead.face import topology as topo
from talkinghead.face.bases import JAW_DROP, JAW_SHARE_OF_PHOTO_GAP, face_frame, lips_whole
from talkinghead.face.mesh import TEETH_LINE_HEIGHT
from talkinghead.motion import MotionTrack
from talkinghead.motion.track import HEAD_CHANNELS
from talkinghead.render.eyelids import EyelidCloser
from talkinghead.render.eyes import GazeShifter
from talkinghead.render.folds import FoldGuard
from talkinghead.render.mouth import Bite, MouthPainter
from talkinghead.render.pose import pose_offsets
from talkinghead.render.warp import MeshWarper

PHOTO_GAP_SHARES = {"jaw_open": JAW_SHARE_OF_PHOTO_GAP, "lips_open": 1.0 - JAW_SHARE_OF_PHOTO_GAP}
TEETH_UPPER_LIP = list(topo.LIPS_INNER_UPPER[1:-1])
TEETH_LOWER_LIP = list(topo.LIPS_INNER_LOWER[1:-1])
UPPER_INNER_LIP = list(topo.LIPS_INNER_UPPER)
UPPER_TEETH_SHOW = 0.02  # the upper incisors' edge below the resting upper lip, share of face width
BITE_OVERLAP = 0.012  # closed, the lower incisors' edge sits this far above the upper ones' (behind them)
SEALED_ROUNDING = 0.4  # share of the lips' rounding kept while they are pressed shut
SEAL_BELOW = 0.1  # lips_open under which the lips press together over a slightly open jaw
OUTER_LOWER_LIP_SEAL = 0.5  # share of the jaw's drop the lower lip's outer edge keeps back (the lip stretches)


def lip_seal(lips_open: float) -> float:
    """1 when the lips are commanded shut, 0 from ``SEAL_BELOW`` up, smooth between."""
    t = min(max(lips_open / SEAL_BELOW, 0.0), 1.0)
    return 1.0 - t * t * (3.0 - 2.0 * t)


def sealed_rounding(values: dict[str, float]) -> dict[str, float]:
    """Lips commanded shut round less (``SEALED_ROUNDING`` of their pucker and narrowing): an /m/ before /u/
    is pressed lips with the corners a little in, and full rounding would part them in its arch."""
    seal = lip_seal(values.get("lips_open", 0.0))
    pucker, width = values.get("lip_pucker", 0.0), values.get("lip_width", 0.0)
    if not seal or (pucker <= 0 and width >= 0):
        return values
    keep = 1.0 - (1.0 - SEALED_ROUNDING) * seal
    return {**values, "lip_pucker": pucker * keep if pucker > 0 else pucker,
            "lip_width": width * keep if width < 0 else width}


def lip_seal_field(rig: FaceRig) -> np.ndarray:
    """The part of the jaw's drop that sealed lips hold back: all of it at the lower lip's inner edge and the
    corners, half at its outer edge (so the lip stretches over the dropped jaw instead of leaving a gap), and
    in between inside the lip."""
    jaw_basis = rig.bases["jaw_open"]
    field = np.zeros_like(jaw_basis)
    inner = list(topo.LIPS_INNER_LOWER)
    outer = list(topo.LIPS_OUTER_LOWER[1:-1])
    field[inner] = jaw_basis[inner]
    field[outer] = OUTER_LOWER_LIP_SEAL * jaw_basis[outer]
    mesh = rig.mesh
    return lips_whole(field, mesh.vertices, mesh.ring, mesh.teeth_line, rig.landmarks)


def fixed_vertices(rig: FaceRig) -> np.ndarray:
    """Vertices the fold guard leaves where the motion put them: the lips and everything between them (their
    shapes are the speech) and everything off the face surface (hair, neck, clothes and the frame border keep
    the moves that hold collars still)."""
    rest = rig.mesh.vertices[:, :2]
    outline = rest[list(topo.LIPS_OUTER_UPPER) + list(topo.LIPS_OUTER_LOWER)[::-1]].astype(np.float32)
    fixed = np.array([cv2.pointPolygonTest(outline, (float(x), float(y)), True) >= -0.5 for x, y in rest])
    return fixed | (rig.mesh.ring > 0)


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
        self.lip_relax = rig.lip_relax if rig.lip_relax is not None and rig.lip_relax.any() else None
        relaxed = rig.closing if self.lip_relax is None else rig.closing + self.lip_relax
        self.mouth = MouthPainter(rig.image, self.rest, mesh.teeth_line, rig.face_width, face_frame(rig.landmarks)[1],
                                  relaxed)
        oval = rig.landmarks[list(topo.FACE_OVAL)]
        self.pivot = np.array([oval[:, 0].mean(), oval[:, 1].mean() + 0.25 * rig.face_width,
                               oval[:, 2].mean() + 0.6 * rig.face_width])
        self.face_down = face_frame(rig.landmarks)[1]
        self.seal_field = lip_seal_field(rig)
        self.pucker_parting = np.outer(rig.bases["lip_pucker"] @ self.face_down, self.face_down)
        self.folds = FoldGuard(self.rest, mesh.triangles, fixed_vertices(rig))

    def deform(self, values: dict[str, float]) -> np.ndarray:
        """Mesh vertex positions (V x 3: x, y in output pixels, depth) for one frame's channel values.

        Each channel moves the mesh by (value - the photo's value) x its basis, except that closing a
        mouth the photo shows open follows the rig's closing field (shaped by the photo's own lip gap).
        """
        return self._deform(self.within_head_room(values))

    def within_head_room(self, values: dict[str, float]) -> dict[str, float]:
        """``values`` with the head's pose scaled by the rig's `head_room` (a face the photo's edge cuts
        turns less, so the still frame border does not tear it)."""
        room = self.rig.head_room
        if room == 1.0:
            return values
        return {**values, **{name: values[name] * room for name in HEAD_CHANNELS if name in values}}

    def _deform(self, values: dict[str, float]) -> np.ndarray:
        rig, mesh = self.rig, self.rig.mesh
        points = self.rest.copy()
        values = sealed_rounding(self.with_photo_expression(values))
        for name, basis in rig.bases.items():
            photo_value = rig.neutral.get(name, 0.0)
            amount = values.get(name, 0.0) - photo_value
            if amount > 0 or (amount < 0 and not (name in PHOTO_GAP_SHARES and photo_value > 0)):
                points += amount * basis
        seal = lip_seal(values.get("lips_open", 0.0))
        jaw_drop = values.get("jaw_open", 0.0) - rig.neutral.get("jaw_open", 0.0)
        if seal and jaw_drop > 0:
            points -= seal * jaw_drop * self.seal_field
        pucker = values.get("lip_pucker", 0.0)
        if seal and pucker > 0:  # lips pressed shut do not part in rounding's arch; only their corners come in
            points -= seal * pucker * self.pucker_parting

        closing = self.closing(values)
        if closing:
            points += closing * rig.closing
            if self.lip_relax is not None:  # lips pressed shut relax; parted for speech they keep the photo's
                points += closing * seal * self.lip_relax
        self._keep_lips_from_crossing(points)
        if len(mesh.teeth_line):
            self._keep_teeth_line_between_lips(points)
        self.folds.unfold(points)
        shaped = np.column_stack([points, mesh.vertices[:, 2]])
        if any(values.get(name, 0.0) for name in HEAD_CHANNELS):
            shaped += pose_offsets(shaped, mesh.head_weight, self.pivot, values, (rig.width, rig.height))
        return shaped

    def with_photo_expression(self, values: dict[str, float]) -> dict[str, float]:
        """``values`` with the share ``photo_expression`` of the photo's own smile added to ``smile``."""
        keep = values.get("photo_expression", 0.0)
        if not keep:
            return values
        return {**values, "smile": values.get("smile", 0.0) + keep * self.rig.neutral.get("smile", 0.0)}

    def _bite(self, values: dict[str, float]) -> Bite:
        """The synthesised teeth's biting edges: the upper incisors fixed to the skull just under the resting
        upper lip (covered by it at small openings), the lower ones carried down by the jaw."""
        rest = self.rig.mesh.vertices[UPPER_INNER_LIP]
        down3 = np.array([*self.face_down, 0.0])
        width = self.rig.face_width
        upper = rest + UPPER_TEETH_SHOW * width * down3
        jaw = max(values.get("jaw_open", 0.0), 0.0) * JAW_DROP * width
        lower = upper + (jaw - BITE_OVERLAP * width) * down3
        if any(values.get(name, 0.0) for name in HEAD_CHANNELS):
            ones = np.ones(len(upper))
            size = (self.rig.width, self.rig.height)
            upper = upper + pose_offsets(upper, ones, self.pivot, values, size)
            lower = lower + pose_offsets(lower, ones, self.pivot, values, size)
        rounding = float(np.clip(values.get("lip_pucker", 0.0), 0.0, 1.0))
        return Bite(upper[:, :2], lower[:, :2], rounding)

    def closing(self, values: dict[str, float]) -> float:
        """How far (0..1) the photo's own parted lips are brought together: the jaw and the lips each close
        their share of the photo's gap, and lips commanded shut seal the rest where the photo shows teeth
        between its lips (open, or a sliver its landmarks miss)."""
        closing = 0.0
        for name, share in PHOTO_GAP_SHARES.items():
            photo_value = self.rig.neutral.get(name, 0.0)
            amount = values.get(name, 0.0) - photo_value
            if amount < 0 and photo_value > 0:
                closing += share * min(-amount / photo_value, 1.0)
        if self.mouth.shows_teeth:  # a photo with its mouth open, or a sliver of teeth between its lips
            closing += lip_seal(values.get("lips_open", 0.0)) * (1.0 - closing)
        return closing

    def _keep_lips_from_crossing(self, points: np.ndarray) -> None:
        """Where closing (and a released smile bending each lip a little differently) would push an inner
        lower-lip point above its upper partner, both meet half-way: lips press together, never pass."""
        down = self.face_down
        overlap = np.minimum((points[TEETH_LOWER_LIP] - points[TEETH_UPPER_LIP]) @ down, 0.0)
        if overlap.any():
            points[TEETH_UPPER_LIP] += 0.5 * overlap[:, None] * down
            points[TEETH_LOWER_LIP] -= 0.5 * overlap[:, None] * down

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
        values = self.within_head_room(values)
        deformed = self._deform(values)
        source = self.gaze.apply(self.rig.image, values.get("gaze_yaw", 0.0), values.get("gaze_pitch", 0.0))
        source = self.lids.apply(source, values, copy=source is self.rig.image)
        frame = self.warper.warp(deformed, source)
        closing = self.closing(values)
        self.mouth.paint(frame, deformed[:, :2], values.get("tongue_show", 0.0), closing, self._bite(values),
                         closing * lip_seal(values.get("lips_open", 0.0)))
        return frame

    def frames(self, track: MotionTrack) -> Iterator[np.ndarray]:
        """Lazily draw every frame of ``track``."""
        for index in range(track.n_frames):
            yield self.draw(track.frame(index))


__all__ = ["Renderer"]
