"""Face stage: from a portrait photo to a `FaceRig` the renderer can animate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from talkinghead.face import topology as topo
from talkinghead.face.bases import build_bases, build_closing, face_frame, neutral_pose
from talkinghead.face.framing import Crop, apply_crop, face_crop, full_crop, softness_note
from talkinghead.face.image import check_image, load_image
from talkinghead.face.landmarks import find_face
from talkinghead.face.mesh import Mesh, border_freedom, border_freedom_by_axis, build_mesh, head_room
from talkinghead.face.segment import person_mask
from talkinghead.face.skin import chin_likeness


@dataclass
class FaceRig:
    """Everything about one portrait that rendering needs, in output pixels.

    Attributes:
        image: RGB uint8 (height x width): the framed photo every frame is drawn from.
        landmarks: 478 x 3 MediaPipe landmarks (x, y, depth) in output pixels.
        crop: where the frame sits in the original photo.
        mesh: the whole-frame triangle mesh at rest.
        bases: per motion channel, the (V x 2) vertex displacement at value 1.
        neutral: the channel values that describe the photo itself (its open mouth, say): drawing
            them reproduces the photo exactly; channels not listed are 0 in the photo.
        closing: (V x 2) displacement that closes the photo's own parted lips (zeros if closed).
        lip_relax: (V x 2) added to ``closing`` when the lips are pressed shut: a grin's lips relax fuller
            (`build_closing`); None or zeros for other photos.
        face_width: cheek-to-cheek width in output pixels (motion amplitudes scale with it).
        notes: things the user should be told (several faces, upscaled small face, ...).
        head_room: the share of its motion the head keeps (1; less when the frame's border cuts the face).
    """

    image: np.ndarray
    landmarks: np.ndarray
    crop: Crop
    mesh: Mesh
    bases: dict[str, np.ndarray]
    neutral: dict[str, float]
    closing: np.ndarray
    face_width: float
    notes: list[str] = field(default_factory=list)
    head_room: float = 1.0
    lip_relax: np.ndarray | None = None

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]


def build_rig(portrait: str | Path | np.ndarray, size: int | None = None, head_distance: float = 1.0,
              crop: str = "face") -> FaceRig:
    """Detect the face in ``portrait`` (a path or an RGB uint8 array) and rig it.

    ``crop="face"``: a ``size`` x ``size`` face-centred square (``head_distance`` scales it);
    ``crop="full"``: the whole photo with its longer side scaled to ``size``. ``size=None``: the photo's own
    resolution of that frame, at most 512 px (never an upscale, so never softer than the photo).
    """
    if isinstance(portrait, np.ndarray):
        name = "portrait"
        photo, notes = check_image(portrait, name)
    else:
        name = Path(portrait).name
        photo, notes = load_image(portrait)
    points, face_notes = find_face(photo, name)
    if crop == "full":
        frame, framing_notes = full_crop(photo.shape, size), []
    else:
        frame, framing_notes = face_crop(points, photo.shape, size, head_distance)
    image, landmarks = apply_crop(photo, points, frame)
    mesh = build_mesh(landmarks, image.shape[:2], person_mask(image))
    room = head_room(landmarks[list(topo.FACE_OVAL), :2], image.shape[:2])
    room_notes = [] if room == 1.0 else [f"the face reaches the edge of the frame: the head moves {room:.0%} as "
                                         "much, so the still border does not crease it"]
    chin = chin_likeness(image, landmarks, mesh.vertices[:, :2])  # the jaw pulls skin and beard, not clothes
    bases = {name: _held_at_border(basis, mesh, image.shape[:2]) for name, basis in
             build_bases(mesh.vertices, mesh.ring, mesh.teeth_line, landmarks, chin).items()}
    neutral = neutral_pose(landmarks, bases)
    closing = _closing_held_at_border(build_closing(mesh.vertices, mesh.ring, mesh.teeth_line, landmarks,
                                                    neutral.get("smile", 0.0), relax=False, chin_likeness=chin),
                                      mesh, image.shape[:2])
    relaxed = _closing_held_at_border(build_closing(mesh.vertices, mesh.ring, mesh.teeth_line, landmarks,
                                                    neutral.get("smile", 0.0), chin_likeness=chin),
                                      mesh, image.shape[:2])
    return FaceRig(
        image=image,
        landmarks=landmarks,
        crop=frame,
        mesh=mesh,
        bases=bases,
        neutral=neutral,
        closing=closing,
        lip_relax=relaxed - closing,
        face_width=face_frame(landmarks)[2],
        notes=notes + face_notes + framing_notes + room_notes + softness_note(frame, name, size),
        head_room=room,
    )


def _held_at_border(field: np.ndarray, mesh: Mesh, shape: tuple[int, int]) -> np.ndarray:
    """``field`` (V x 2) faded out towards the frame's border, which never moves, over a ramp sized to the
    field's own largest move (`border_freedom`)."""
    reach = float(np.linalg.norm(field, axis=1).max()) if len(field) else 0.0
    return field * border_freedom(mesh.vertices[:, :2], shape, reach)[:, None]


def _closing_held_at_border(field: np.ndarray, mesh: Mesh, shape: tuple[int, int]) -> np.ndarray:
    """A closing field held at the frame's border axis by axis (`border_freedom_by_axis`): where the frame cuts
    the face beside the mouth, the lips close down and up along that edge instead of staying apart (a face cut
    on the left, 30-50 px from its mouth corner, kept its lips 8-10 px apart there and dlib read the shut mouth
    open). Only the closing fields: a released grin's corners (the `smile` basis), freed the same way, dropped
    past the skin beside them on that face and folded a triangle."""
    reach = float(np.linalg.norm(field, axis=1).max()) if len(field) else 0.0
    return field * border_freedom_by_axis(mesh.vertices[:, :2], shape, reach)


__all__ = ["Crop", "FaceRig", "Mesh", "build_rig"]
