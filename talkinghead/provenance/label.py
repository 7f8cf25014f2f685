"""The visible "AI-generated" label drawn into a corner of every frame.

The label is drawn once into a small RGBA patch (anti-aliased text on a translucent dark box) and then
alpha-blended into each frame's corner: a few microseconds per frame, nothing drawn twice.
"""

from __future__ import annotations

import cv2
import numpy as np

DEFAULT_TEXT = "AI-generated"


class VisibleLabel:
    """Blends ``text`` into the bottom-right corner of frames ``size`` pixels wide."""

    def __init__(self, size: int, text: str = DEFAULT_TEXT) -> None:
        scale = max(size / 1100.0, 0.3)
        thickness = max(1, round(size / 500))
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        pad = max(3, round(size / 120))
        height, width = text_h + baseline + 2 * pad, text_w + 2 * pad
        colour = np.zeros((height, width, 3), np.uint8)
        text_mask = np.zeros((height, width), np.uint8)
        cv2.putText(text_mask, text, (pad, pad + text_h), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness,
                    cv2.LINE_AA)
        colour[:] = 255
        box_alpha = 0.45
        text_alpha = text_mask.astype(np.float32) / 255.0
        self.alpha = (box_alpha + (1 - box_alpha) * text_alpha)[..., None]
        self.colour = (colour.astype(np.float32) * text_alpha[..., None])
        margin = max(4, round(size / 64))
        self.y0, self.x0 = size - margin - height, size - margin - width

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Draw the label into ``frame`` in place and return it."""
        height, width = self.alpha.shape[:2]
        region = frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width].astype(np.float32)
        blended = region * (1 - self.alpha) + self.colour * self.alpha
        frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width] = blended.astype(np.uint8)
        return frame
