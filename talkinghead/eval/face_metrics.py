"""Independent measurements of rendered frames with dlib (not the MediaPipe model the renderer uses):
68 landmarks, mouth opening, identity embedding; and decoding a rendered MP4 as a player would."""

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
    if not spec or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (make setup-dev)")
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    return (dlib.get_frontal_face_detector(),
            dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat")),
            dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat")))


def _largest_face(frame: np.ndarray):  # type: ignore[no-untyped-def]
    detector, predictor, _ = _dlib_models()
    faces = detector(frame, 1)
    if not faces:
        return None
    face = max(faces, key=lambda r: r.width() * r.height())
    return predictor(frame, face)


def landmarks68(frame: np.ndarray) -> np.ndarray | None:
    """dlib's 68 landmarks of the largest face in an RGB frame, or None."""
    shape = _largest_face(frame)
    if shape is None:
        return None
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


def face_embedding(frame: np.ndarray) -> np.ndarray | None:
    """dlib's 128-d identity embedding of the largest face (same person: distance < 0.6), or None."""
    shape = _largest_face(frame)
    if shape is None:
        return None
    return np.array(_dlib_models()[2].compute_face_descriptor(frame, shape))


def face_height(points: np.ndarray) -> float:
    """Brow middle to chin, in pixels, from 68 landmarks."""
    return float(np.linalg.norm(points[8] - (points[19] + points[24]) / 2))


def mouth_opening(frame: np.ndarray) -> float | None:
    """Inner-lip gap over the eye-corner distance (0 closed, ~0.3 wide open)."""
    points = landmarks68(frame)
    if points is None:
        return None
    return inner_lip_gap(points) / float(np.linalg.norm(points[45] - points[36]))


def inner_lip_gap(points: np.ndarray) -> float:
    """Distance between the inner lips' middles (68-point indices 62 and 66), in pixels."""
    return float(np.linalg.norm(points[66] - points[62]))


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
