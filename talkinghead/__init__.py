"""talkinghead: one portrait photo + speech -> a talking-head video, in real time on a CPU.

Example::

    import talkinghead
    talkinghead.render("portrait.jpg", "speech.wav", "out.mp4")
"""

from __future__ import annotations

__version__ = "0.1.0"

from talkinghead.numba_cache import ensure_numba_cache

ensure_numba_cache()  # before anything imports numba

from talkinghead.controls import Controls  # noqa: E402
from talkinghead.errors import TalkingHeadError  # noqa: E402
from talkinghead.pipeline import RenderResult, frames, render  # noqa: E402

__all__ = ["Controls", "RenderResult", "TalkingHeadError", "__version__", "frames", "render"]
