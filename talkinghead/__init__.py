"""talkinghead: one portrait photo + speech -> a talking-head video, in real time on a CPU.

>>> import talkinghead  # doctest: +SKIP
>>> talkinghead.render("portrait.jpg", "speech.wav", "out.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from talkinghead.controls import Controls  # noqa: E402
from talkinghead.errors import TalkingHeadError  # noqa: E402
from talkinghead.pipeline import RenderResult, frames, render  # noqa: E402

__all__ = ["render", "frames", "Controls", "RenderResult", "TalkingHeadError", "__version__"]
