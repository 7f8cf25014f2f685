"""Captions drawn into the frames (``--burn-captions``): white text on a translucent dark box, bottom centre.

Each cue is drawn once, with Pillow's FreeType text in the visible label's font (DejaVu Sans Bold, which
matplotlib ships: Latin, Greek and Cyrillic letters show; Pillow's own font stands in without it), into a
small RGBA patch; every frame only blends the patch of the cue it falls in.
The box sits `BOTTOM_MARGIN` of the frame above the bottom edge, and above a bottom-corner label.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from talkinghead.captions import MAX_LINE, Caption

TEXT_HEIGHT = 1 / 22  # of the frame's smaller side
MIN_TEXT_PX = 11  # below this accents and dots vanish: small frames get more, shorter lines instead
BOTTOM_MARGIN = 0.08  # of the frame's height
BOX_ALPHA = 0.6


FONT_NAME = "DejaVuSans-Bold.ttf"


def caption_font(pixels: int) -> ImageFont.FreeTypeFont:
    """The label's font at ``pixels`` high, found in matplotlib's data without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / FONT_NAME
        if path.exists():
            return ImageFont.truetype(str(path), pixels)
    return ImageFont.load_default(pixels)


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
        self.font = caption_font(max(MIN_TEXT_PX, round(side * TEXT_HEIGHT)))
        widest = self.font.getlength("n" * MAX_LINE)  # a typical line of MAX_LINE characters
        if widest > 0.94 * self.width:
            self.font = caption_font(max(MIN_TEXT_PX, round(self.font.size * 0.94 * self.width / widest)))

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

    def _fit(self, cue_lines: Sequence[str]) -> str:
        """The cue's lines, or its words wrapped again where a line is wider than the frame (small frames)."""
        limit = 0.94 * self.width - 2 * max(3, round(self.font.size * 0.3))
        if all(self.font.getlength(line) <= limit for line in cue_lines):
            return "\n".join(cue_lines)
        lines: list[str] = []
        for word in " ".join(cue_lines).split():
            if lines and self.font.getlength(f"{lines[-1]} {word}") <= limit:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return "\n".join(lines)

    def _draw(self, cue: Caption) -> tuple[np.ndarray, np.ndarray]:
        """(colour, alpha) float32 patches of ``cue``: its lines centred on one box."""
        pad = max(3, round(self.font.size * 0.3))
        spacing = round(self.font.size * 0.25)
        probe = ImageDraw.Draw(Image.new("L", (1, 1)))
        shown = self._fit(cue.lines)
        box = probe.multiline_textbbox((0, 0), shown, font=self.font, spacing=spacing, align="center")
        left, top, right, bottom = (round(v) for v in box)
        width, height = right - left + 2 * pad, bottom - top + 2 * pad
        text = Image.new("L", (width, height), 0)
        ImageDraw.Draw(text).multiline_text((pad - left, pad - top), shown, fill=255, font=self.font,
                                            spacing=spacing, align="center")
        ink = np.asarray(text, np.float32)[..., None] / 255.0
        alpha = BOX_ALPHA + (1 - BOX_ALPHA) * ink
        colour = np.broadcast_to(255.0 * ink, (height, width, 3)).astype(np.float32)
        return colour, alpha.astype(np.float32)
