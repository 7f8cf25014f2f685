"""The one exception type that users see.

Every problem caused by the user's input (a missing file, an image without a face, corrupt audio, a bad
option) is raised as :class:`TalkingHeadError` with a message that fits on one line and says what to do.
The CLI prints it as ``talkinghead: error: ...`` and exits with status 2; anything else is a bug.
"""

from __future__ import annotations


class TalkingHeadError(ValueError):
    """Bad input or an impossible request, explained in one line."""
