"""The ControlNet 1.1 / DWPose reference renderer ("controlnet", the default), pixel for pixel, on a black RGB canvas.

Order: body limbs limb-major over all persons, canvas dimmed by 0.6, body joints; then every left hand and
every right hand; then every face. Feet (off by default, not in the reference) are drawn after the bodies.
Points with non-finite or absurdly large coordinates are treated as hidden, where the reference would crash
inside OpenCV.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import BODY, FEET, FOOT_COLORS, FOOT_EDGES
from .drawing import draw_bodies, draw_faces, draw_hands, draw_linked_points, drawable_mask


def draw(poses, options, stick_width: int) -> np.ndarray:
    """The reference's map of `poses` (a Poses) as PoseMapOptions `options` say, limbs `stick_width` wide."""
    return draw_in_order(poses, options, stick_width, poses.visible(options.threshold), faces_first=False)


def draw_in_order(poses, options, stick_width: int, visible: np.ndarray, faces_first: bool,
                  size: tuple[int, int] | None = None) -> np.ndarray:
    """The reference's drawing of the points `visible` shows (bool (N, 134)): bodies, feet, then hands and
    faces (faces before hands with `faces_first`), on a black canvas of `size` (H, W), default the poses'."""
    height, width = size or (poses.height, poses.width)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    points = poses.normalized(options.threshold, visible)
    scale = (float(width), float(height))
    drawable = drawable_mask(points, visible, scale)
    if options.include_body:
        canvas = draw_bodies(canvas, points[:, BODY], drawable[:, BODY], stick_width)
    if options.include_foot:
        for feet, ok in zip(points[:, FEET], drawable[:, FEET]):
            draw_linked_points(canvas, feet, ok, scale, FOOT_EDGES, FOOT_COLORS)
    if options.include_face and faces_first:
        draw_faces(canvas, points, drawable, scale)
    if options.include_hand:
        draw_hands(canvas, points, drawable, scale)
    if options.include_face and not faces_first:
        draw_faces(canvas, points, drawable, scale)
    return canvas
