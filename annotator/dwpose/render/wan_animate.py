"""The "wan-animate" style: Wan 2.2 Animate's pose video (Wan-Video/Wan2.2 @ 42bf4cf, wan/modules/animate/
preprocess/human_visualization.py draw_aapose_by_meta_new -> draw_aapose_new, stickwidth_type 'v2', and
draw_handpose_new), pixel for pixel, on the keypoints its pose2d_utils.py split_kp2ds_for_aa builds.

Its body has 20 points: OpenPose-18, the neck being the mean of the two shoulders (coordinates and scores alike),
then the left toe and the right toe, each the mean of that foot's big and small toe (coordinates and scores).
The neck is made from the shoulders here too (Wan has no neck input); the Poses' own neck point is not used.
A point is shown when its score is not below 0.5 (draw_aapose_by_meta_new's threshold, which draw_handpose_new
gets too). Per person: 19 limbs (OpenPose's 17, left ankle -> left toe, right ankle -> right toe) as ellipses of
half-width max(int(min(H, W) / 200) - 1, 1) in int(c * 0.6) of their colour, then the 20 joints as discs of
that radius in their colour (OpenPose's 18 colours, then [200, 200, 0] and [100, 100, 0]; the limbs take
colours 0-18, so ankle -> toe limbs are [255, 0, 85] * 0.6 and [200, 200, 0] * 0.6), then the left hand and
the right hand: lines and point discs (0, 0, 255) of width and radius max(half-width // 2, 1), edges in
ControlNet's hand colours. No face points. Body points are drawn wherever they fall (no edge rule); hand
points, as in ControlNet, only where both pixel coordinates are above 0.01. Colours as drawn: its pipeline
writes the canvas as RGB frames (process_pipepline.py, moviepy ImageSequenceClip). The map is drawn at the
frame's size (np.zeros_like(frame)); in animation mode without retargeting process_pipepline.py then fits it
into the reference image's size with black bars (padding_resize), a step outside this style.

Wan draws one person; here every person is drawn in turn, each whole (body, then hands) before the next.
Switches: include_body=False leaves out the limbs and joints (draw_hand_by_meta's zeroed body scores),
include_hand=False the hands (draw_hand=False), include_face=False the head's body points, nose, eyes and
ears, and their limbs (draw_head=False). include_foot has no effect (the toes are part of Wan's body), and
neither have threshold (Wan's 0.5 is used), stick_width and the stick rules (the widths come from the canvas).
Points with non-finite or absurdly large coordinates are not drawn (Wan would fail in OpenCV).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..skeleton import BODY_LIMBS, COLORS, HAND_COLORS, HAND_EDGES
from ..wan_pose import WanPixels, wan_poses
from .drawing import blank_canvas, draw_linked_points, drawable_mask, fill_limb, wan_stick_width

THRESHOLD = 0.5
# draw_aapose_new's limbSeq (1-based: OpenPose's 17, then left ankle -> left toe, right ankle -> right toe) and
# colours (limb i in COLORS[i], joint j in COLORS[j]).
LIMBS = BODY_LIMBS + [[14, 19], [11, 20]]
LIMB_COLORS = COLORS + [[200, 200, 0], [100, 100, 0]]
HEAD = [0, 14, 15, 16, 17]  # nose, eyes, ears: draw_head=False zeroes their scores


def draw(poses, options, stick_width: int) -> np.ndarray:
    """Wan 2.2 Animate's map of `poses` (a Poses) as PoseMapOptions `options` say (`stick_width` is not used):
    each person as Wan's meta (wan_pose.WanPose, float32 as Wan computes it) drawn by draw_people."""
    return draw_people(blank_canvas(poses), [person.pixels() for person in wan_poses(poses)], options)


def draw_people(canvas: np.ndarray, people: list[WanPixels], options=None) -> np.ndarray:
    """draw_aapose_by_meta_new for each of `people` in turn on `canvas` (changed in place and returned): body,
    then left and right hand; widths from the canvas's size. `options` (PoseMapOptions or None: everything):
    include_body, include_hand, include_face as the module's docstring says."""
    height, width = canvas.shape[:2]
    half_width = wan_stick_width(width, height)
    hand_width = max(half_width // 2, 1)  # draw_handpose_new 'v2': max(max(int(min(H, W) / 200) - 1, 1) // 2, 1)
    include = (True, True, True) if options is None else (options.include_body, options.include_hand,
                                                           options.include_face)
    for person in people:
        body_shown = ~(person.body[:, 2] < THRESHOLD)  # Wan skips a point when score < threshold (so NaN is drawn)
        if not include[2]:
            body_shown[HEAD] = False
        if include[0]:
            draw_body(canvas, person.body[:, :2], drawable_mask(person.body[:, :2], body_shown), half_width)
        if include[1]:
            for hand in (person.left_hand, person.right_hand):
                shown = drawable_mask(hand[:, :2], ~(hand[:, 2] < THRESHOLD))
                draw_linked_points(canvas, hand[:, :2], shown, (1.0, 1.0), HAND_EDGES, HAND_COLORS,
                                   thickness=hand_width, radius=hand_width)
    return canvas


def draw_body(canvas: np.ndarray, pixels: np.ndarray, shown: np.ndarray, half_width: int) -> None:
    """One person's limbs (ellipses in int(c * 0.6) of their colour), then joints (discs of radius half_width)."""
    for limb, (a, b) in enumerate(LIMBS):
        a, b = a - 1, b - 1
        if shown[a] and shown[b]:
            color = [int(float(c) * 0.6) for c in LIMB_COLORS[limb]]
            fill_limb(canvas, pixels[[a, b], 0], pixels[[a, b], 1], half_width, color)
    for joint, color in enumerate(LIMB_COLORS):
        if shown[joint]:
            x, y = pixels[joint]
            cv2.circle(canvas, (int(x), int(y)), half_width, color, thickness=-1)
