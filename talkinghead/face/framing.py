"""Choose the frame (a face-centred square, or the whole photo) and bring photo and landmarks into it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from talkinghead.controls import MIN_SIZE
from talkinghead.face import topology as topo

FACE_SHARE = 0.42  # face height (forehead to chin) as a share of the frame height at head_distance 1
SOFT_UPSCALE = 1.5
AUTO_MAX_SIZE = 512  # the default output side: the crop's own resolution, at most this
MACROBLOCK = 16  # ... in whole H.264 macroblocks
OFF_CENTRE_NOTE = 0.1  # moving the frame by more than this share of its side is worth a note


@dataclass(frozen=True)
class Crop:
    """A rectangle of the photo (top-left corner and size in photo pixels), the scale to output pixels and
    the output frame's size (even numbers, as H.264 in yuv420p needs)."""

    x: float
    y: float
    width: float
    height: float
    scale: float
    out_width: int
    out_height: int

    @property
    def side(self) -> float:
        """The crop's longer side in photo pixels."""
        return max(self.width, self.height)


def output_side(crop_side: float, size: int | None) -> int:
    """The output's side in pixels: ``size`` when given, else the crop's own resolution (no upscaling, no
    needless downscaling) rounded down to whole `MACROBLOCK`s, within `MIN_SIZE` .. `AUTO_MAX_SIZE`.

    Whole macroblocks: H.264 codes 16x16 blocks, so a side that is not a multiple of 16 is padded inside the
    encoder (bits spent on pixels nobody sees, and a blurrier last row of blocks), and decoders hand such
    frames out with padded rows that some tools read wrongly. Rounding down costs at most 15 px of photo.

    >>> output_side(486.7, None), output_side(300, 200), output_side(90, None), output_side(2000, None)
    (480, 200, 128, 512)
    """
    if size is not None:
        return size
    return int(np.clip(MACROBLOCK * int(crop_side / MACROBLOCK), MIN_SIZE, AUTO_MAX_SIZE))


def full_crop(image_shape: tuple[int, ...], size: int | None) -> Crop:
    """The whole photo, its longer side scaled to ``size`` (default: its own, at most `AUTO_MAX_SIZE`)."""
    height, width = image_shape[:2]
    scale = output_side(max(height, width), size) / max(height, width)
    out_width, out_height = (max(2, 2 * round(side * scale / 2)) for side in (width, height))
    return Crop(0.0, 0.0, float(width), float(height), scale, out_width, out_height)


def face_crop(landmarks: np.ndarray, image_shape: tuple[int, ...], size: int | None,
              head_distance: float) -> tuple[Crop, list[str]]:
    """Square around the face with room for hair and shoulders, always inside the photo; and notes.

    Its side is face height / FACE_SHARE x ``head_distance``, so the face fills the same share of every
    video. The frame never shows a pixel the photo does not have: a square that reaches past the photo's
    edge is moved inside it (the face is then off-centre), and one larger than the photo is made smaller
    (closer framing, as if ``head_distance`` were smaller). Either is said in a note.
    """
    height, width = image_shape[:2]
    face_height = float(np.linalg.norm(landmarks[topo.CHIN, :2] - landmarks[topo.FOREHEAD_TOP, :2]))
    wanted = face_height / FACE_SHARE * head_distance
    side = min(wanted, float(width), float(height))
    center_x = float(landmarks[list(topo.FACE_OVAL), 0].mean())
    center_y = float(landmarks[list(topo.FACE_OVAL), 1].mean()) + 0.06 * side
    x = float(np.clip(center_x - side / 2, 0, width - side))
    y = float(np.clip(center_y - side / 2, 0, height - side))
    notes = []
    if side < wanted - 0.5:
        notes.append(f"--head-distance {head_distance:g} needs more of the photo than it has: framed closer, at "
                     f"head distance {head_distance * side / wanted:.2f}")
    elif np.hypot(x - (center_x - side / 2), y - (center_y - side / 2)) > OFF_CENTRE_NOTE * side:
        notes.append("the face is near the photo's edge: the frame is moved to stay inside the photo, so the face "
                     "is off-centre")
    out = output_side(side, size)
    return Crop(x, y, side, side, out / side, out, out), notes


def apply_crop(image: np.ndarray, landmarks: np.ndarray, crop: Crop) -> tuple[np.ndarray, np.ndarray]:
    """The crop resampled to the output size and the landmarks in its pixels (z scaled alike)."""
    to_out = np.array([[crop.scale, 0, -crop.x * crop.scale], [0, crop.scale, -crop.y * crop.scale]])
    interpolation = cv2.INTER_AREA if crop.scale < 1 else cv2.INTER_CUBIC
    frame = cv2.warpAffine(image, to_out, (crop.out_width, crop.out_height), flags=interpolation,
                           borderMode=cv2.BORDER_REPLICATE)  # the crop lies inside the photo: at most a
    #                                                            sub-pixel sliver at its edge is replicated
    points = landmarks.copy()
    points[:, 0] = (points[:, 0] - crop.x) * crop.scale
    points[:, 1] = (points[:, 1] - crop.y) * crop.scale
    points[:, 2] *= crop.scale
    return frame, points


def softness_note(crop: Crop, name: str, size: int | None) -> list[str]:
    """Tell the user when the output is an upscale of a small face (it will look soft), or, when the size
    was chosen here, that it was kept small to stay as sharp as the photo."""
    side = max(crop.out_width, crop.out_height)
    if size is None and side < AUTO_MAX_SIZE:
        return [f"output is {crop.out_width}x{crop.out_height} px, the resolution the photo {name} has around the "
                "face (as sharp as the photo); --size forces a larger, softer video"]
    if crop.scale <= SOFT_UPSCALE:
        return []
    return [
        f"the face in {name} is small ({crop.side:.0f} px crop): the output is upscaled x{crop.scale:.1f} "
        "and will look soft; without --size the video keeps the photo's own resolution"
    ]
