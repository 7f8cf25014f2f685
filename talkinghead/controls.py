"""`Controls`: the one options dataclass behind the CLI flags, the Python API and the server's fields.

Each field carries its help text and, where useful, its flag name in ``metadata``; the CLI builds its
arguments from these fields, so an option is added once, here. Validation lives in ``__post_init__`` so
every entry point rejects the same bad values with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from talkinghead.errors import TalkingHeadError

MIN_SIZE, MAX_SIZE = 128, 2048
LABEL_POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class Controls:
    """How to render: output format, framing, liveliness and provenance.

    >>> Controls(size=256, fps=30).size
    256
    >>> Controls(size=255)
    Traceback (most recent call last):
    ...
    talkinghead.errors.TalkingHeadError: --size must be an even number of pixels between 128 and 2048, got 255
    """

    size: int = _opt(512, "output width and height in pixels (even, 128-2048)")
    fps: float = _opt(25.0, "output frame rate (frames per second, 1-120)")
    seed: int = _opt(0, "random seed for head motion and blinks: same inputs and seed give the same video")
    transcript: str | None = _opt(
        None, "what is said in the audio (kept with the render; used by phoneme alignment where available)"
    )
    head_distance: float = _opt(
        1.0, "framing scale: >1 shows more around the head, <1 zooms in (0.6-2.0)"
    )
    motion_scale: float = _opt(1.0, "how lively the head moves: 0 keeps it still, 2 doubles the motion (0-3)")
    label: bool = _opt(True, "draw the visible 'AI-generated' label (the watermark and metadata are always added)")
    label_text: str = _opt("AI-generated", "text of the visible label")
    label_position: str = _opt("bottom-right", "corner of the visible label: top-left, top-right, bottom-left "
                               "or bottom-right")
    label_scale: float = _opt(1.0, "size of the visible label relative to the default (0.5-4)")
    max_audio_seconds: float = _opt(600.0, "refuse audio longer than this many seconds")

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise TalkingHeadError(f"--size must be a whole number of pixels, got {self.size!r}")
        if self.size % 2 or not MIN_SIZE <= self.size <= MAX_SIZE:
            raise TalkingHeadError(
                f"--size must be an even number of pixels between {MIN_SIZE} and {MAX_SIZE}, got {self.size}"
            )
        _check_range("--fps", self.fps, 1.0, 120.0)
        _check_range("--head-distance", self.head_distance, 0.6, 2.0)
        _check_range("--motion-scale", self.motion_scale, 0.0, 3.0)
        _check_range("--label-scale", self.label_scale, 0.5, 4.0)
        if self.label_position not in LABEL_POSITIONS:
            raise TalkingHeadError(f"--label-position must be one of {', '.join(LABEL_POSITIONS)}, "
                                   f"got {self.label_position!r}")
        text = self.label_text
        if not isinstance(text, str) or not text.strip() or len(text) > 60 or not text.isascii():
            raise TalkingHeadError(f"--label-text must be 1-60 ASCII characters, got {text!r}")
        _check_range("--max-audio-seconds", self.max_audio_seconds, 1.0, 24 * 3600.0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise TalkingHeadError(f"--seed must be a whole number >= 0, got {self.seed!r}")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Controls:
        """Build Controls from keyword options, naming any unknown one clearly."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TalkingHeadError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)


def _check_range(flag: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise TalkingHeadError(f"{flag} must be a number between {low:g} and {high:g}, got {value!r}")
