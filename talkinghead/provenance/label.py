"""The visible "AI-generated" label drawn into a corner of every frame, in any language its fonts can draw.

The label's fonts are those of `talkinghead.fonts`: DejaVu Sans Bold (the default label and every label in
Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew or Arabic), then Noto for the Indic and Southeast Asian
scripts and Ethiopic, and Noto Sans CJK. Text no font covers is refused with an error that says which
characters are missing, never drawn as boxes or "??"; so is right-to-left text when Pillow lacks its libraqm
layout (it would be drawn backwards), and right-to-left text that needs more than one font (its runs could
not be ordered).

The label is drawn once into a small RGBA patch (anti-aliased text on a translucent dark box) and then
alpha-blended into each frame's corner: a few microseconds per frame, nothing drawn twice.
"""

from __future__ import annotations

import unicodedata

import numpy as np
from PIL import features

from talkinghead.controls import LABEL_POSITIONS as POSITIONS
from talkinghead.fonts import CJK_FONT, JOINERS, covered_scripts, line_mask, missing_characters, runs

DEFAULT_TEXT = "AI-generated"
MAX_CHARACTERS = 60
TEXT_HEIGHT = 1 / 50  # of the frame's shorter side, at scale 1 (cap height plus descenders)
MIN_TEXT_PIXELS = 9  # no smaller, whatever the frame: smaller text is not legible
MIN_CJK_PIXELS = 12  # Chinese, Japanese and Korean characters need more: at 9 px the strokes of 智 or 能 merge
MIN_FIT_PIXELS = 6  # ... unless 60 characters must fit across a 128-pixel frame
BOX_ALPHA = 0.45  # of the dark box behind the text
RIGHT_TO_LEFT = ("R", "AL", "AN")  # bidi classes that need a layout engine
NOT_TEXT = ("Cc", "Cf", "Cs", "Co", "Cn")  # control, format, surrogate, private-use and unassigned code points


def label_text_problem(text: object) -> str | None:
    """Why ``text`` cannot be the label (one line), or None when the label's fonts can draw it."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARACTERS:
        return f"must be 1-{MAX_CHARACTERS} characters of text"
    controls = [c for c in text if unicodedata.category(c) in NOT_TEXT and c not in JOINERS]
    if controls:
        return "must not hold control or unassigned characters (" + ", ".join(f"U+{ord(c):04X}" for c in controls) + ")"
    missing = missing_characters(text)
    if missing:
        shown = "".join(missing[:10]) + ("..." if len(missing) > 10 else "")
        return f"holds characters the label fonts cannot draw: {shown}; they cover {covered_scripts()}"
    right_to_left = any(unicodedata.bidirectional(c) in RIGHT_TO_LEFT for c in text)
    if right_to_left and not features.check("raqm"):
        return "is right-to-left text, which needs Pillow built with libraqm to be drawn correctly"
    if right_to_left and len(runs(text)) > 1:
        return "mixes right-to-left text with scripts of another font, which the label cannot order"
    return None


class VisibleLabel:
    """Blends ``text`` into one corner (``position``) of frames ``size`` pixels wide (or ``(width, height)``).

    ``scale`` multiplies the default text height (1/50 of the frame's shorter side, at least 9 pixels, 12 for
    Chinese, Japanese and Korean); the
    label never grows wider or taller than the frame less its margins (long text or a large scale on a small
    frame is drawn smaller, so that it fits).
    """

    def __init__(self, size: int | tuple[int, int], text: str = DEFAULT_TEXT, position: str = "bottom-right",
                 scale: float = 1.0) -> None:
        if position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {position!r}")
        problem = label_text_problem(text)
        if problem:
            raise ValueError(f"label text {problem}")
        frame_width, frame_height = (size, size) if isinstance(size, int) else size
        short = min(frame_width, frame_height)
        margin = max(4, round(short / 64))
        cjk = any(font is not None and font.path.name == CJK_FONT[1] for _, font in runs(text))
        least = MIN_CJK_PIXELS if cjk else MIN_TEXT_PIXELS
        pixels = max(least, round(short * TEXT_HEIGHT * scale / 0.75))  # font size from text height
        room = (frame_width - 2 * margin, frame_height - 2 * margin)
        while True:  # the largest size up to the asked one that fits (so a larger scale never draws smaller)
            pad = max(2, round(pixels / 4))
            text_alpha = line_mask(text, pixels)
            over = max((text_alpha.shape[1] + 2 * pad) / room[0], (text_alpha.shape[0] + 2 * pad) / room[1])
            if over <= 1.0 or pixels <= MIN_FIT_PIXELS:
                break
            pixels = max(MIN_FIT_PIXELS, min(pixels - 1, int(pixels / over)))
        text_alpha = text_alpha[: room[1] - 2 * pad, : room[0] - 2 * pad]
        text_alpha = np.pad(text_alpha, pad)
        self.alpha = (BOX_ALPHA + (1 - BOX_ALPHA) * text_alpha)[..., None]
        self.colour = np.full((*text_alpha.shape, 3), 255.0, np.float32) * text_alpha[..., None]
        height, width = text_alpha.shape
        self.y0 = margin if position.startswith("top") else frame_height - margin - height
        self.x0 = margin if position.endswith("left") else frame_width - margin - width

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Draw the label into ``frame`` in place and return it."""
        height, width = self.alpha.shape[:2]
        region = frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width]
        frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width] = self.over(region)
        return frame

    def over(self, region: np.ndarray) -> np.ndarray:
        """The label's patch blended over ``region`` (its own size), uint8."""
        return (region.astype(np.float32) * (1 - self.alpha) + self.colour * self.alpha).astype(np.uint8)
