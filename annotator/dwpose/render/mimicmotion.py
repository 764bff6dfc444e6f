"""The "mimicmotion" style: Tencent/MimicMotion mimicmotion/dwpose/util.py draw_pose, pixel for pixel.

Drawn on a canvas whose short side is 2160 px (int(H * 2160 / min(H, W)) by int(W * ...)), each limb filled in
int(c * s_a * s_b) and each joint in int(c * s); hand edges in the HSV colour times int(s_i * s_j * 255), hand
points (0, 0, int(s * 255)), face points grey int(s * 255); then cv2.resize (INTER_LINEAR) to H x W and red and
blue swapped (their cv2.cvtColor BGR2RGB on an RGB-drawn canvas). Body points need a score above the
threshold (its detector's subset); no hand or face point is hidden by its score (a low score draws a dark
dot), only by the > 0.01 pixel rule.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..skeleton import BODY, FACE, HAND_EDGES, HAND_HSV
from .drawing import draw_bodies, draw_face, draw_linked_points, drawable_mask, stacked_hands

SHORT_SIDE = 2160


def draw(poses, options, stick_width: int) -> np.ndarray:
    """MimicMotion's map of `poses` (a Poses) as PoseMapOptions `options` say, limbs `stick_width` wide."""
    canvas = cv2.resize(mimicmotion_canvas(poses, options, stick_width), (poses.width, poses.height))
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)


def mimicmotion_canvas(poses, options, stick_width: int) -> np.ndarray:
    """MimicMotion's drawing before its final resize and channel swap, on its 2160-px short-side canvas."""
    height, width = poses.height, poses.width
    short = min(height, width)
    ratio = SHORT_SIDE / short if short != SHORT_SIDE else 1
    canvas = np.zeros((int(height * ratio), int(width * ratio), 3), dtype=np.uint8)
    scale = (float(canvas.shape[1]), float(canvas.shape[0]))
    everything = np.ones(poses.scores.shape, dtype=bool)
    points = poses.normalized(visible=everything)  # its detector hides no coordinate
    # Where MimicMotion's int() would raise on a non-finite score: NaN counts as 0, infinities as +-1e30.
    scores = np.nan_to_num(poses.scores.astype(np.float64), nan=0.0, posinf=1e30, neginf=-1e30)
    drawable = drawable_mask(points, everything, scale)
    if options.include_body:
        body_ok = drawable[:, BODY] & poses.visible(options.threshold)[:, BODY]
        canvas = draw_bodies(canvas, points[:, BODY], body_ok, stick_width, scores=scores[:, BODY])
    if options.include_hand:
        for hand, ok, hand_scores in zip(stacked_hands(points), stacked_hands(drawable), stacked_hands(scores)):
            draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_HSV, scores=hand_scores)
    if options.include_face:
        for face, ok, face_scores in zip(points[:, FACE], drawable[:, FACE], scores[:, FACE]):
            draw_face(canvas, face, ok, scale, scores=face_scores)
    return canvas
