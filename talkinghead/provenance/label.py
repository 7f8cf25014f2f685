"""The visible "AI-generated" label drawn into a corner of every frame.

The label is drawn once into a small RGBA patch (anti-aliased text on a translucent dark box) and then
alpha-blended into each frame's corner: a few microseconds per frame, nothing drawn twice.
"""

from __future__ import annotations

import cv2
import numpy as np

from talkinghead.controls import LABEL_POSITIONS as POSITIONS

DEFAULT_TEXT = "AI-generated"


class VisibleLabel:
    """Blends ``text`` into one corner (``position``) of frames ``size`` pixels wide (or ``(width, height)``).

    ``scale`` multiplies the default text height (about 1/50 of the frame); the label never grows wider
    than the frame less its margins.
    """

    def __init__(self, size: int | tuple[int, int], text: str = DEFAULT_TEXT, position: str = "bottom-right",
                 scale: float = 1.0) -> None:
        if position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {position!r}")
        frame_width, frame_height = (size, size) if isinstance(size, int) else size
        size = min(frame_width, frame_height)
        margin = max(4, round(size / 64))
        font_scale = max(size / 1100.0, 0.3) * scale
        (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        font_scale *= min(1.0, (size - 4 * margin) / max(text_w, 1))
        thickness = max(1, round(size * scale / 500))
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        pad = max(3, round(size * scale / 120))
        height, width = text_h + baseline + 2 * pad, text_w + 2 * pad
        text_mask = np.zeros((height, width), np.uint8)
        cv2.putText(text_mask, text, (pad, pad + text_h), cv2.FONT_HERSHEY_SIMPLEX, font_scale, 255, thickness,
                    cv2.LINE_AA)
        box_alpha = 0.45
        text_alpha = text_mask.astype(np.float32) / 255.0
        self.alpha = (box_alpha + (1 - box_alpha) * text_alpha)[..., None]
        self.colour = np.full((height, width, 3), 255.0, np.float32) * text_alpha[..., None]
        self.y0 = margin if position.startswith("top") else frame_height - margin - height
        self.x0 = margin if position.endswith("left") else frame_width - margin - width

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Draw the label into ``frame`` in place and return it."""
        height, width = self.alpha.shape[:2]
        region = frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width].astype(np.float32)
        blended = region * (1 - self.alpha) + self.colour * self.alpha
        frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width] = blended.astype(np.uint8)
        return frame
