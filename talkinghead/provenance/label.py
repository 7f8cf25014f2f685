"""The visible "AI-generated" label drawn into a corner of every frame, in any language the font can draw.

The text is drawn with DejaVu Sans Bold, the font matplotlib (a runtime dependency) ships: Latin, Greek,
Cyrillic, Armenian, Georgian, Hebrew and Arabic (right-to-left text is shaped and ordered by Pillow's
libraqm layout when Pillow has it; without it such text is refused rather than drawn backwards), and many
symbols. Chinese, Japanese, Korean and the Indic scripts are not in it: such text is refused with an error
that says which characters are missing, never drawn as boxes or "??".

The label is drawn once into a small RGBA patch (anti-aliased text on a translucent dark box) and then
alpha-blended into each frame's corner: a few microseconds per frame, nothing drawn twice.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from talkinghead.controls import LABEL_POSITIONS as POSITIONS

DEFAULT_TEXT = "AI-generated"
MAX_CHARACTERS = 60
FONT_NAME = "DejaVuSans-Bold.ttf"
TEXT_HEIGHT = 1 / 50  # of the frame's shorter side, at scale 1 (cap height plus descenders)
MIN_TEXT_PIXELS = 9  # no smaller, whatever the frame: smaller text is not legible
MIN_FIT_PIXELS = 6  # ... unless 60 characters must fit across a 128-pixel frame
BOX_ALPHA = 0.45  # of the dark box behind the text
RIGHT_TO_LEFT = ("R", "AL", "AN")  # bidi classes that need a layout engine
NOT_TEXT = ("Cc", "Cf", "Cs", "Co", "Cn")  # control, format, surrogate, private-use and unassigned code points
JOINERS = "\u200c\u200d"  # zero-width (non-)joiners: format characters that some scripts' spelling needs


@cache
def font_path() -> Path:
    """DejaVu Sans Bold as matplotlib ships it (found without importing matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: its DejaVu font draws the visible label")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / FONT_NAME


@cache
def _covered() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font_path(), lazy=True) as font:
        return frozenset(font["cmap"].getBestCmap())


@cache
def _font(pixels: int) -> ImageFont.FreeTypeFont:
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(font_path()), pixels, layout_engine=layout)


def label_text_problem(text: object) -> str | None:
    """Why ``text`` cannot be the label (one line), or None when the shipped font can draw it."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARACTERS:
        return f"must be 1-{MAX_CHARACTERS} characters of text"
    controls = [c for c in text if unicodedata.category(c) in NOT_TEXT and c not in JOINERS]
    if controls:
        return "must not hold control or unassigned characters (" + ", ".join(f"U+{ord(c):04X}" for c in controls) + ")"
    missing = sorted({c for c in text if ord(c) not in _covered()})
    if missing:
        shown = "".join(missing[:10]) + ("..." if len(missing) > 10 else "")
        return (f"holds characters the label font ({FONT_NAME}) cannot draw: {shown}; it covers Latin, Greek, "
                "Cyrillic, Armenian, Georgian, Hebrew and Arabic, not Chinese, Japanese, Korean or Indic scripts")
    if not features.check("raqm") and any(unicodedata.bidirectional(c) in RIGHT_TO_LEFT for c in text):
        return "is right-to-left text, which needs Pillow built with libraqm to be drawn correctly"
    return None


def _text_mask(text: str, pixels: int) -> np.ndarray:
    """The anti-aliased text, white on black, cut to its ink plus the font's full line height."""
    font = _font(pixels)
    ascent, descent = font.getmetrics()
    left, _, right, _ = font.getbbox(text)
    width = max(1, right - min(left, 0))
    image = Image.new("L", (width, ascent + descent))
    ImageDraw.Draw(image).text((-min(left, 0), 0), text, fill=255, font=font)
    return np.asarray(image, np.float32) / 255.0


class VisibleLabel:
    """Blends ``text`` into one corner (``position``) of frames ``size`` pixels wide (or ``(width, height)``).

    ``scale`` multiplies the default text height (1/50 of the frame's shorter side, at least 9 pixels); the
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
        pixels = max(MIN_TEXT_PIXELS, round(short * TEXT_HEIGHT * scale / 0.75))  # font size from text height
        room = (frame_width - 2 * margin, frame_height - 2 * margin)
        while True:  # the largest size up to the asked one that fits (so a larger scale never draws smaller)
            pad = max(2, round(pixels / 4))
            text_alpha = _text_mask(text, pixels)
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
        region = frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width].astype(np.float32)
        blended = region * (1 - self.alpha) + self.colour * self.alpha
        frame[self.y0 : self.y0 + height, self.x0 : self.x0 + width] = blended.astype(np.uint8)
        return frame
