"""Captions drawn into the frames (``--burn-captions``): white text on a translucent dark box, bottom centre.

Each cue is drawn once, in the visible label's fonts (`talkinghead.fonts`: DejaVu Sans Bold, Noto for the
Indic and Southeast Asian scripts and Ethiopic, Noto Sans CJK), into a small RGBA patch; every frame only
blends the patch of the cue it falls in. Characters no font covers are left out rather than drawn as boxes.
The box sits `BOTTOM_MARGIN` of the frame above the bottom edge, and above a bottom-corner label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from talkinghead.captions import MAX_LINE, Caption
from talkinghead.fonts import line_mask, line_width

TEXT_HEIGHT = 1 / 22  # of the frame's smaller side
MIN_TEXT_PX = 11  # below this accents and dots vanish: small frames get more, shorter lines instead
BOTTOM_MARGIN = 0.08  # of the frame's height
BOX_ALPHA = 0.6


class CaptionBurner:
    """``apply(frame, time)`` draws the cue shown at ``time`` seconds into ``frame`` (RGB uint8) in place."""

    def __init__(self, cues: Sequence[Caption], size: tuple[int, int], above: int | None = None) -> None:
        self.cues = list(cues)
        self.width, self.height = size
        self.bottom = self.height - round(BOTTOM_MARGIN * self.height)  # the box's lowest row (exclusive)
        if above is not None:  # keep clear of something drawn lower down (a bottom-corner label)
            self.bottom = min(self.bottom, above - max(2, round(0.01 * self.height)))
        self._patches: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        side = min(size)
        self.pixels = max(MIN_TEXT_PX, round(side * TEXT_HEIGHT))
        widest = line_width("n" * MAX_LINE, self.pixels)  # a typical line of MAX_LINE characters
        if widest > 0.94 * self.width:
            self.pixels = max(MIN_TEXT_PX, round(self.pixels * 0.94 * self.width / widest))

    def cue_at(self, seconds: float) -> int | None:
        return next((k for k, c in enumerate(self.cues) if c.start <= seconds < c.end), None)

    def apply(self, frame: np.ndarray, seconds: float) -> np.ndarray:
        index = self.cue_at(seconds)
        if index is None:
            return frame
        if index not in self._patches:
            self._patches[index] = self._draw(self.cues[index])
        colour, alpha = self._patches[index]
        height, width = alpha.shape[:2]
        x0 = max(0, (self.width - width) // 2)
        y0 = max(0, self.bottom - height)
        height, width = min(height, self.height - y0), min(width, self.width - x0)
        region = frame[y0:y0 + height, x0:x0 + width].astype(np.float32)
        a = alpha[:height, :width]
        frame[y0:y0 + height, x0:x0 + width] = (region * (1 - a) + colour[:height, :width] * a).astype(np.uint8)
        return frame

    def _fit(self, cue_lines: Sequence[str]) -> list[str]:
        """The cue's lines, or its words wrapped again where a line is wider than the frame (small frames, or
        scripts written without spaces, whose lines break between characters)."""
        limit = 0.94 * self.width - 2 * max(3, round(self.pixels * 0.3))
        if all(line_width(line, self.pixels) <= limit for line in cue_lines):
            return list(cue_lines)
        lines: list[str] = []
        for word in " ".join(cue_lines).split():
            for piece in self._pieces(word, limit):
                if lines and line_width(f"{lines[-1]} {piece}", self.pixels) <= limit:
                    lines[-1] = f"{lines[-1]} {piece}"
                else:
                    lines.append(piece)
        return lines

    def _pieces(self, word: str, limit: float) -> list[str]:
        """``word``, cut between characters where it alone is wider than ``limit``."""
        pieces = [""]
        for char in word:
            if pieces[-1] and line_width(pieces[-1] + char, self.pixels) > limit:
                pieces.append("")
            pieces[-1] += char
        return pieces

    def _draw(self, cue: Caption) -> tuple[np.ndarray, np.ndarray]:
        """(colour, alpha) float32 patches of ``cue``: its lines centred on one box."""
        pad = max(3, round(self.pixels * 0.3))
        spacing = round(self.pixels * 0.25)
        masks = [line_mask(line, self.pixels) for line in self._fit(cue.lines)]
        width = max(mask.shape[1] for mask in masks) + 2 * pad
        height = sum(mask.shape[0] for mask in masks) + spacing * (len(masks) - 1) + 2 * pad
        ink = np.zeros((height, width), np.float32)
        top = pad
        for mask in masks:
            left = (width - mask.shape[1]) // 2
            ink[top : top + mask.shape[0], left : left + mask.shape[1]] = mask
            top += mask.shape[0] + spacing
        alpha = BOX_ALPHA + (1 - BOX_ALPHA) * ink[..., None]
        colour = np.broadcast_to(255.0 * ink[..., None], (height, width, 3)).astype(np.float32)
        return colour, alpha.astype(np.float32)
