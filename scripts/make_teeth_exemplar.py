"""Make `talkinghead/assets/teeth.png`: a smiling photo's upper teeth, unrolled into a rectangle.

The renderer draws these (warped under the upper lip, shaded, darker towards the corners) when a photo
with a closed mouth has to open it. Run once; the PNG is committed. The committed one comes from the
official White House portrait of Barack Obama (a US government work, public domain), whose teeth are large
enough in the photo to stay sharp; the bundled astronaut photo works too but its teeth are only ~40 px wide.

    .venv/bin/python scripts/make_teeth_exemplar.py [PHOTO]
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from talkinghead.assets import ASSETS, DEMO_PORTRAIT
from talkinghead.face import topology as topo
from talkinghead.face.image import load_image
from talkinghead.face.landmarks import find_face

WIDTH, HEIGHT = 192, 48


def main() -> None:
    image, _ = load_image(sys.argv[1] if len(sys.argv) > 1 else DEMO_PORTRAIT)
    points, _ = find_face(image)
    upper = points[list(topo.LIPS_INNER_UPPER), :2]
    lower = points[list(topo.LIPS_INNER_LOWER), :2]
    along = np.linspace(0.0, 1.0, WIDTH)
    knots = np.linspace(0.0, 1.0, len(upper))
    top = np.column_stack([np.interp(along, knots, upper[:, i]) for i in (0, 1)])
    bottom = np.column_stack([np.interp(along, knots, lower[:, i]) for i in (0, 1)])
    down = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    grid = top[None] + down * (bottom - top)[None]
    teeth = cv2.remap(image, grid[..., 0].astype(np.float32), grid[..., 1].astype(np.float32), cv2.INTER_CUBIC)
    cv2.imwrite(str(ASSETS / "teeth.png"), cv2.cvtColor(teeth, cv2.COLOR_RGB2BGR))
    print(ASSETS / "teeth.png")


if __name__ == "__main__":
    main()
