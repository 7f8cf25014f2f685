"""Independent measurements of rendered frames, with dlib (not the MediaPipe model the renderer uses)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import av
import numpy as np


@cache
def _dlib_models():  # type: ignore[no-untyped-def]
    import dlib

    spec = importlib.util.find_spec("face_recognition_models")
    assert spec and spec.submodule_search_locations, "face_recognition_models is not installed"
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))


def landmarks68(frame: np.ndarray) -> np.ndarray | None:
    """dlib's 68 landmarks of the largest face in an RGB frame, or None."""
    detector, predictor = _dlib_models()
    faces = detector(frame, 1)
    if not faces:
        return None
    face = max(faces, key=lambda r: r.width() * r.height())
    shape = predictor(frame, face)
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


def mouth_opening(frame: np.ndarray) -> float | None:
    """Inner-lip gap over the eye-corner distance (0 closed, ~0.3 wide open)."""
    points = landmarks68(frame)
    if points is None:
        return None
    gap = np.linalg.norm(points[66] - points[62])
    eyes = np.linalg.norm(points[45] - points[36])
    return float(gap / eyes)


def decode_video(path: Path) -> tuple[list[np.ndarray], dict]:
    """All frames (RGB) and the stream facts a player would see."""
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        info = {
            "width": video.width, "height": video.height, "fps": float(video.average_rate),
            "video_codec": video.codec_context.name, "pix_fmt": video.codec_context.pix_fmt,
            "audio_codec": audio.codec_context.name, "audio_rate": audio.codec_context.sample_rate,
            "metadata": dict(container.metadata),
        }
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        container.seek(0)
        audio_samples = sum(f.samples for f in container.decode(audio=0))
    info["audio_seconds"] = audio_samples / info["audio_rate"]
    return frames, info
