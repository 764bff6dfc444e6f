"""The "sd-webui-controlnet" style: the web UIs' built-in renderer, pixel for pixel.

sd-webui-controlnet's renderer (annotator/openpose/util.py draw_bodypose / draw_handpose / draw_facepose and
__init__.py draw_poses, as in the versions with is_normalized; Forge's legacy preprocessors carry the same):
person by person, each limb filled in int(colour * 0.6) with no dimming of the canvas, then that
person's joints, hands and 70 face points (68 + the body's points 14 and 15). A point is shown when its
score is >= threshold (its wholebody.py format_result), a part with no point shown is skipped, and the
points are pixel coordinates unless every shown point of the part lies in [0, 1] (is_normalized), in
which case they are scaled by the canvas size.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..skeleton import (BODY, COLORS, DRAWN_LIMBS, FACE, FEET, FOOT_COLORS, FOOT_EDGES, HAND_COLORS, HAND_EDGES,
                        L_EYE, LEFT_HAND, LIMBS, R_EYE, RIGHT_HAND)
from .drawing import blank_canvas, draw_face, draw_linked_points, drawable_mask, fill_limb

LIMB_COLORS = [[int(float(c) * 0.6) for c in color] for color in COLORS]


def draw(poses, options, stick_width: int) -> np.ndarray:
    """The web UIs' map of `poses` (a Poses) as PoseMapOptions `options` say, limbs `stick_width` wide."""
    canvas = blank_canvas(poses)
    pixels = poses.exact_keypoints
    scores = np.asarray(poses.scores, dtype=np.float64)
    drawable = drawable_mask(pixels, scores >= options.threshold)
    canvas_scale = (float(poses.width), float(poses.height))
    for n in range(len(poses)):
        body, body_ok = pixels[n, BODY], drawable[n, BODY]
        if options.include_body:
            sx, sy = _webui_scale(body, body_ok, canvas_scale)
            for limb in range(DRAWN_LIMBS):
                a, b = LIMBS[limb][0] - 1, LIMBS[limb][1] - 1
                if body_ok[a] and body_ok[b]:
                    fill_limb(canvas, body[[a, b], 0] * sx, body[[a, b], 1] * sy, stick_width, LIMB_COLORS[limb])
            for joint in range(len(COLORS)):
                if body_ok[joint]:
                    cv2.circle(canvas, (int(body[joint, 0] * sx), int(body[joint, 1] * sy)), 4, COLORS[joint],
                               thickness=-1)
        if options.include_foot:
            _draw_webui_part(canvas, pixels[n, FEET], drawable[n, FEET], canvas_scale, draw_linked_points,
                             FOOT_EDGES, FOOT_COLORS)
        if options.include_hand:
            for hand in (LEFT_HAND, RIGHT_HAND):
                _draw_webui_part(canvas, pixels[n, hand], drawable[n, hand], canvas_scale, draw_linked_points,
                                 HAND_EDGES, HAND_COLORS)
        if options.include_face and drawable[n, FACE].any():
            eyes = [R_EYE, L_EYE]
            _draw_webui_part(canvas, np.concatenate([pixels[n, FACE], body[eyes]]),
                             np.concatenate([drawable[n, FACE], body_ok[eyes]]), canvas_scale, draw_face)
    return canvas


def _webui_scale(points: np.ndarray, ok: np.ndarray, canvas_scale) -> tuple:
    """is_normalized: the canvas size when every shown point lies in [0, 1], else 1 (pixels as they are)."""
    shown = np.abs(points[ok])
    normalized = len(shown) > 0 and bool(((shown >= 0) & (shown <= 1)).all())
    return canvas_scale if normalized else (1.0, 1.0)


def _draw_webui_part(canvas, points, ok, canvas_scale, draw, *args) -> None:
    if ok.any():  # a part with no point shown is None there, and nothing is drawn
        draw(canvas, points, ok, _webui_scale(points, ok, canvas_scale), *args)
