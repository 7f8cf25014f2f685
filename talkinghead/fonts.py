"""Fonts for the text drawn into frames (the visible label, burned-in captions), in any script they cover.

The fonts, in the order they are asked for a character (`font_chain`):
- DejaVu Sans Bold, which matplotlib (a runtime dependency) ships: Latin, Greek, Cyrillic, Armenian, Georgian,
  Hebrew and Arabic, and many symbols;
- Noto Sans for the scripts DejaVu lacks (the `manimgx-fonts` package: Noto, unmodified, SIL Open Font
  Licence): Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam, Sinhala,
  Thai, Lao, Khmer, Myanmar and Ethiopic;
- Noto Sans CJK (`manimgx-fonts-cjk`, same licence) for Chinese, Japanese and Korean: its Japanese face when
  the text holds kana, its Korean face when it holds hangul, else its Simplified Chinese face.
Noto's variable fonts are drawn at weight 700, to match DejaVu's bold. A text needing several fonts is cut
into runs (`runs`), each drawn with its font on one baseline (spaces and combining marks stay in the run
before them, so a script's shaping is never split). Complex scripts are shaped and right-to-left text is
ordered by Pillow's libraqm layout when Pillow has it. A font package that is not installed is left out of
the chain; characters no font covers are reported (`missing_characters`), never drawn as boxes.

>>> [(piece, font.path.name) for piece, font in runs("AI-generated")]
[('AI-generated', 'DejaVuSans-Bold.ttf')]
>>> missing_characters("Hello \U00013000")
['\U00013000']
"""

from __future__ import annotations

import importlib.util
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

FONT_NAME = "DejaVuSans-Bold.ttf"
FIRST_FONT_SCRIPTS = "Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew, Arabic"
# (package, file, scripts) of the Noto fonts asked after DejaVu, in this order
NOTO_FONTS = tuple(("manimgx_fonts", f"NotoSans{script}[wght].ttf", script) for script in (
    "Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala",
    "Thai", "Lao", "Khmer", "Myanmar", "Ethiopic"))
CJK_FONT = ("manimgx_fonts_cjk", "NotoSansCJK-VF.otf.ttc", "Chinese, Japanese, Korean")
SCRIPTS = ", ".join((FIRST_FONT_SCRIPTS, *(scripts for *_, scripts in NOTO_FONTS), CJK_FONT[2]))  # all of them
CJK_FACES = {"JP": 0, "KR": 1, "SC": 2}  # faces of the CJK collection
BOLD = 700  # weight of the variable Noto fonts, to match DejaVu Sans Bold
JOINERS = "\u200c\u200d"  # zero-width (non-)joiners: format characters that some scripts' spelling needs


@dataclass(frozen=True)
class TextFont:
    """One font file (one face of a collection) text may be drawn with."""

    path: Path
    index: int = 0
    scripts: str = FIRST_FONT_SCRIPTS
    variable: bool = False  # a variable font, drawn at weight BOLD


@cache
def font_path() -> Path:
    """DejaVu Sans Bold as matplotlib ships it (found without importing matplotlib)."""
    folder = _package_folder("matplotlib")
    if folder is None:
        raise RuntimeError("matplotlib is not installed: its DejaVu font draws the visible label and captions")
    return folder / "mpl-data" / "fonts" / "ttf" / FONT_NAME


def _package_folder(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def font_chain(text: str = "") -> list[TextFont]:
    """The fonts asked for each character, in order; the CJK face is the one for ``text``'s language (see the
    module docstring). Fonts whose package is not installed are left out."""
    face = CJK_FACES[_cjk_face(text)]
    return [TextFont(font.path, face, font.scripts, True) if font.path.name == CJK_FONT[1] else font
            for font in _installed_fonts()]


@cache
def _installed_fonts() -> tuple[TextFont, ...]:
    fonts = [TextFont(font_path())]
    for package, name, scripts in (*NOTO_FONTS, CJK_FONT):
        folder = _package_folder(package)
        if folder is not None and (folder / name).is_file():
            fonts.append(TextFont(folder / name, 0, scripts, variable=True))
    return tuple(fonts)


def _cjk_face(text: str) -> str:
    names = " ".join(unicodedata.name(c, "") for c in text)
    return "JP" if "HIRAGANA" in names or "KATAKANA" in names else "KR" if "HANGUL" in names else "SC"


@cache
def _covered(font: TextFont) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font.path, fontNumber=font.index, lazy=True) as opened:
        return frozenset(opened["cmap"].getBestCmap())


@cache
def _font(font: TextFont, pixels: int) -> ImageFont.FreeTypeFont:
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    drawn = ImageFont.truetype(str(font.path), pixels, index=font.index, layout_engine=layout)
    if font.variable:
        drawn.set_variation_by_axes([BOLD])
    return drawn


def runs(text: str) -> list[tuple[str, TextFont | None]]:
    """``text`` cut into runs, each with the first font of the chain that covers it; spaces, joiners and
    combining marks stay in the run before them when its font has them. A character no font covers gets
    None (see `missing_characters`)."""
    chain = font_chain(text)
    out: list[tuple[str, TextFont | None]] = []
    for char in text:
        follows = unicodedata.category(char)[0] in "MZ" or char in JOINERS
        if out and follows and out[-1][1] is not None and ord(char) in _covered(out[-1][1]):
            out[-1] = (out[-1][0] + char, out[-1][1])
            continue
        font = next((f for f in chain if ord(char) in _covered(f)), None)
        if out and out[-1][1] == font:
            out[-1] = (out[-1][0] + char, font)
        else:
            out.append((char, font))
    return out


def missing_characters(text: str) -> list[str]:
    """The characters of ``text`` no font of the chain covers, each once, in order."""
    return list(dict.fromkeys(c for piece, font in runs(text) if font is None for c in piece))


def covered_scripts() -> str:
    """The scripts the installed fonts cover, for messages."""
    return ", ".join(font.scripts for font in font_chain())


def line_width(text: str, pixels: int) -> float:
    """How wide ``text`` is drawn on one line at ``pixels`` (its runs' advances)."""
    return sum(_font(font, pixels).getlength(piece) for piece, font in runs(text) if font is not None)


def line_mask(text: str, pixels: int) -> np.ndarray:
    """``text`` drawn on one line at ``pixels``, anti-aliased, white (1) on black (0), as wide as its ink and
    advances and as high as its fonts' full line (ascent plus descent). Characters no font covers are left out."""
    pieces = [(piece, _font(font, pixels)) for piece, font in runs(text) if font is not None]
    if not pieces:
        return np.zeros((max(pixels, 1), 1), np.float32)
    ascent = max(font.getmetrics()[0] for _, font in pieces)
    descent = max(font.getmetrics()[1] for _, font in pieces)
    start = -min(pieces[0][1].getbbox(pieces[0][0])[0], 0)
    advances = [font.getlength(piece) for piece, font in pieces]
    last_right = pieces[-1][1].getbbox(pieces[-1][0])[2]
    width = max(1, round(start + sum(advances[:-1]) + last_right))  # one run: its ink box, as one font draws it
    image = Image.new("L", (width, ascent + descent))
    draw = ImageDraw.Draw(image)
    x = float(start)
    for (piece, font), advance in zip(pieces, advances, strict=True):
        draw.text((x, ascent), piece, fill=255, font=font, anchor="ls")  # one baseline for every run
        x += advance
    return np.asarray(image, np.float32) / 255.0
