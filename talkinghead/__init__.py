"""talkinghead: one portrait photo + speech -> a talking-head video, in real time on a CPU.

Example::

    import talkinghead
    talkinghead.render("portrait.jpg", "speech.wav", "out.mp4")
"""

from __future__ import annotations

__version__ = "0.1.0"

from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.pipeline import RenderResult, frames, render

__all__ = ["Controls", "RenderResult", "TalkingHeadError", "__version__", "frames", "render"]
