"""The fonts text is drawn into frames with (label, captions): every script they cover drawn in real glyphs."""

from __future__ import annotations

import numpy as np

from talkinghead.fonts import line_mask, line_width, missing_characters, runs


def test_each_script_is_drawn_in_glyphs_not_boxes() -> None:
    """A font without a glyph draws the same box for every character: each character of a script the fonts
    cover draws ink of its own, different from every other character's."""
    for text in ("由人工智能生成", "による", "생성", "एआईनर", "สรางดย", "অআইক", "ኤአይየተ"):
        masks = [line_mask(char, 32) for char in text]
        assert all(mask.mean() > 0.02 for mask in masks), text
        for first in range(len(masks)):
            for second in range(first + 1, len(masks)):
                a, b = masks[first], masks[second]
                if a.shape == b.shape:
                    assert np.abs(a - b).mean() > 0.02, (text[first], text[second])


def test_mixed_scripts_share_one_baseline() -> None:
    """Latin and Japanese in one label (two fonts) sit on one line: the kana's feet within a tenth of the font
    size of the letters' (CJK glyphs sit a little lower, on their em box), the label one line high."""
    mask = line_mask("AIによる", 40)
    latin_width = line_mask("AI", 40).shape[1]
    def feet(part: np.ndarray) -> int:
        return int(np.nonzero(part.max(axis=1) > 0.5)[0].max())
    assert abs(feet(mask[:, latin_width:]) - feet(mask[:, :latin_width])) <= 4
    assert mask.shape[0] <= 1.6 * 40


def test_a_text_is_cut_into_runs_of_one_font_with_spaces_and_marks_kept_in_their_run() -> None:
    pieces = runs("AI द्वारा निर्मित")
    assert [piece for piece, _ in pieces] == ["AI ", "द्वारा निर्मित"]  # the space after "AI" stays with it
    assert pieces[0][1].path.name == "DejaVuSans-Bold.ttf" and "Devanagari" in pieces[1][1].path.name
    assert runs("AIによる")[1][1].index != runs("AI 생성")[1][1].index  # Japanese and Korean faces of the CJK font


def test_characters_no_font_covers_are_reported_and_left_out() -> None:
    assert missing_characters("Tibetan བོད") == ["བ", "ོ", "ད"]
    assert missing_characters("由人工智能生成") == []
    assert line_width("AI བོད", 20) == line_width("AI ", 20)
    assert line_mask("བོད", 20).max() == 0.0
