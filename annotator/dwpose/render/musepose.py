"""The "musepose" style: TMElyralab/MusePose pose/script/dwpose.py draw_pose and util.py, pixel for pixel.

Only the first person's body and face, and the first two of the stacked hands (every left hand, then every
right hand): the first person's hands when there is one person, else the left hands of the first two. Limb
half-width and hand-line thickness from the length (musepose_width), hand points radius 3, red and blue
swapped as all its callers do (draw_dwpose.py, pose_align.py). Its scripts draw no face (include_face=False).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..skeleton import BODY, FACE, HAND_COLORS, HAND_EDGES
from .drawing import blank_canvas, draw_bodies, draw_face, draw_linked_points, drawable_mask, stacked_hands


def draw(poses, options, stick_width: int) -> np.ndarray:
    """MusePose's map of `poses` (a Poses) as PoseMapOptions `options` say (its widths come from the limbs'
    lengths: `stick_width` is not used)."""
    return cv2.cvtColor(_draw_bgr(blank_canvas(poses), poses, options), cv2.COLOR_BGR2RGB)


def musepose_width(length: float) -> int:
    """MusePose's smart_width (pose/script/util.py): a limb's half-width or a hand line's thickness from its
    length in pixels: 1 below 5, 2 below 10, 3 below 20, 4 below 40, 5 below 80, 6 below 160, 7 below 320, else 8."""
    for width, limit in enumerate((5, 10, 20, 40, 80, 160, 320), start=1):
        if length < limit:
            return width
    return 8


def _draw_bgr(canvas: np.ndarray, poses, options) -> np.ndarray:
    visible = poses.visible(options.threshold)
    points = poses.normalized(options.threshold, visible)  # its detector sets hidden points to -1
    scale = (float(poses.width), float(poses.height))
    drawable = drawable_mask(points, visible, scale)
    if options.include_body:
        canvas = draw_bodies(canvas, points[:1, BODY], drawable[:1, BODY], musepose_width)
    if options.include_hand:  # its hands[:2]
        for hand, ok in zip(stacked_hands(points)[:2], stacked_hands(drawable)[:2]):
            draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_COLORS, thickness=musepose_width, radius=3)
    if options.include_face:
        for face, ok in zip(points[:1, FACE], drawable[:1, FACE]):
            draw_face(canvas, face, ok, scale)
    return canvas
