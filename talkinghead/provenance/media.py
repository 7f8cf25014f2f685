"""Reading the frames and tags of a video or image file, for `verify` and the watermark benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.face.image import MAX_IMAGE_BYTES, decode_image
from talkinghead.input_files import open_av, read_bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MAX_FRAMES = 250  # frames read per video: 10 s at 25 fps is plenty for the watermark


@dataclass
class Media:
    """One file opened for checking: its frames (read lazily) and container tags."""

    path: Path
    is_image: bool
    tags: dict[str, str] = field(default_factory=dict)

    def frames(self, limit: int = MAX_FRAMES) -> Iterator[np.ndarray]:
        """RGB uint8 frames, at most ``limit``, spread evenly over a long video."""
        if self.is_image:
            yield decode_image(read_bytes(self.path, "image", MAX_IMAGE_BYTES), str(self.path))
            return
        yield from _video_frames(self.path, limit)


def open_media(path: str | Path) -> Media:
    """Open a video or image, or raise `TalkingHeadError` with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise TalkingHeadError(f"{path} does not exist or is not a file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return Media(path, True)
    try:
        with open_av(path) as container:
            if not container.streams.video:
                raise TalkingHeadError(f"{path} has no video stream")
            if container.streams.video[0].codec_context is None:
                raise TalkingHeadError(f"cannot read {path} as a video: its codec is unknown or the file is corrupt")
            tags = {str(k): str(v) for k, v in container.metadata.items()}
    except av.error.FFmpegError as exc:
        raise TalkingHeadError(f"cannot read {path} as a video or image: {exc}") from None
    return Media(path, False, tags)


def _video_frames(path: Path, limit: int) -> Iterator[np.ndarray]:
    with open_av(path) as container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        step = max(1, -(-total // limit)) if total else 1
        taken = 0
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index % step:
                    continue
                yield frame.to_ndarray(format="rgb24")
                taken += 1
                if taken >= limit:
                    return
        except av.error.FFmpegError as exc:
            if taken == 0:
                raise TalkingHeadError(f"cannot decode the video in {path}: {exc}") from None
