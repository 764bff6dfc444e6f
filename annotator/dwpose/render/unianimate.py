"""The "unianimate" style: ali-vilab/UniAnimate run_align_pose.py DWposeDetector and draw_pose, dwpose/util.py
draw_body_and_foot, pixel for pixel; the same map as ali-vilab/UniAnimate-DiT's.

The first person only; two more body points, the mean of each foot's big and small toe (shown when both
toes' scores are above the threshold), joined to the ankles; red and blue swapped (it writes the RGB-drawn
canvas with cv2.imwrite). The maps it saves have no face (include_face=False). Its script draws them at
512 x 768 (draw_pose(pose, H=768, W=512)) whatever the video's size: draw_pose_map(poses, 768, 512, options)
with draw_at_output_size=True gives that.

UniAnimate-DiT (ali-vilab/UniAnimate-DiT @ 884ac92, files of its first commit 7df88a4) carries the same
pose extraction: its dwpose/util.py (draw_body_and_foot, draw_handpose, draw_facepose), dwpose/wholebody.py,
dwpose/onnxdet.py, dwpose/onnxpose.py and the empty dwpose/__init__.py are byte-identical to UniAnimate's
(@ 643c963), and its run_align_pose.py differs only in an unused oss2 import left out, one more unused
draw_pose of the reference pose, and the reference map's file name (pose.jpg for ref_pose.jpg): the same toe
points, limbs, colours, widths, first person and cv2.imwrite channel order. So this one style serves both.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..skeleton import BODY, BODY_LIMBS, COLORS, FEET
from .drawing import blank_canvas, draw_bodies, draw_faces, draw_hands, drawable_mask

# UniAnimate's body: the 18 points and the two toe means (left, right), joined to the left and right ankle.
LIMBS = BODY_LIMBS + [[14, 19], [11, 20]]
LIMB_COLORS = COLORS + [[170, 255, 255], [255, 255, 0]]


def draw(poses, options, stick_width: int) -> np.ndarray:
    """UniAnimate's map of `poses` (a Poses) as PoseMapOptions `options` say, limbs `stick_width` wide."""
    return cv2.cvtColor(_draw_bgr(blank_canvas(poses), poses, options, stick_width), cv2.COLOR_BGR2RGB)


def _draw_bgr(canvas: np.ndarray, poses, options, stick_width: int) -> np.ndarray:
    visible = poses.visible(options.threshold)[:1]
    points = poses.normalized(options.threshold)[:1]
    above = np.asarray(poses.scores[:1], dtype=np.float64) > options.threshold  # its subset rule, for the toes
    toes, toes_ok = [], []
    for big, small in ((FEET.start, FEET.start + 1), (FEET.start + 3, FEET.start + 4)):  # left foot, right foot
        toes.append((points[:, big] + points[:, small]) / 2)
        toes_ok.append(above[:, big] & above[:, small])
    body = np.concatenate([points[:, BODY], np.stack(toes, axis=1)], axis=1)
    body_ok = np.concatenate([visible[:, BODY], np.stack(toes_ok, axis=1)], axis=1)
    scale = (float(poses.width), float(poses.height))
    drawable = drawable_mask(points, visible, scale)
    body_drawable = drawable_mask(body, body_ok, scale)
    if options.include_body:
        canvas = draw_bodies(canvas, body, body_drawable, stick_width, limbs=LIMBS, colors=LIMB_COLORS)
    if options.include_hand:
        draw_hands(canvas, points, drawable, scale)
    if options.include_face:
        draw_faces(canvas, points, drawable, scale)
    return canvas
