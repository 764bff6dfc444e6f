"""The ControlNet 1.1 / DWPose reference renderer ("controlnet", the default), pixel for pixel, on a black RGB canvas.

Order: body limbs limb-major over all persons, canvas dimmed by 0.6, body joints; then every left hand and
every right hand; then every face. Feet (off by default, not in the reference) are drawn after the bodies.
Points with non-finite or absurdly large coordinates are treated as hidden, where the reference would crash
inside OpenCV.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import BODY, FACE, FEET, FOOT_COLORS, FOOT_EDGES, HAND_COLORS, HAND_EDGES
from .drawing import blank_canvas, draw_bodies, draw_face, draw_linked_points, drawable_mask, stacked_hands


def draw(poses, options, stick_width: int) -> np.ndarray:
    """The reference's map of `poses` (a Poses) as PoseMapOptions `options` say, limbs `stick_width` wide."""
    return draw_in_order(poses, options, stick_width, poses.visible(options.threshold), faces_first=False)


def draw_in_order(poses, options, stick_width: int, visible: np.ndarray, faces_first: bool) -> np.ndarray:
    """The reference's drawing of the points `visible` shows (bool (N, 134)): bodies, feet, then hands and
    faces (faces before hands with `faces_first`)."""
    canvas = blank_canvas(poses)
    points = poses.normalized(options.threshold, visible)
    drawable = drawable_mask(points, visible, (float(poses.width), float(poses.height)))
    scale = (float(poses.width), float(poses.height))
    if options.include_body:
        canvas = draw_bodies(canvas, points[:, BODY], drawable[:, BODY], stick_width)
    if options.include_foot:
        for feet, ok in zip(points[:, FEET], drawable[:, FEET]):
            draw_linked_points(canvas, feet, ok, scale, FOOT_EDGES, FOOT_COLORS)
    if options.include_face and faces_first:
        for face, ok in zip(points[:, FACE], drawable[:, FACE]):
            draw_face(canvas, face, ok, scale)
    if options.include_hand:
        for hand, ok in zip(stacked_hands(points), stacked_hands(drawable)):
            draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_COLORS)
    if options.include_face and not faces_first:
        for face, ok in zip(points[:, FACE], drawable[:, FACE]):
            draw_face(canvas, face, ok, scale)
    return canvas
