"""Person vs background, with MediaPipe's bundled selfie-segmentation model (Apache-2.0, offline).

Used to keep the background still when the head moves: mesh points on the background follow the head far
less than points on hair, neck and shoulders.
"""

from __future__ import annotations

import numpy as np

from talkinghead.face.landmarks import quiet_native_stderr


def person_mask(image: np.ndarray) -> np.ndarray:
    """0..1 per pixel: how likely the pixel shows the person (RGB uint8 in, float32 H x W out)."""
    from mediapipe.python.solutions import selfie_segmentation

    with quiet_native_stderr(), selfie_segmentation.SelfieSegmentation(model_selection=0) as model:
        result = model.process(image)
    mask = result.segmentation_mask
    if mask is None:
        return np.ones(image.shape[:2], np.float32)
    return np.clip(mask, 0.0, 1.0).astype(np.float32)
