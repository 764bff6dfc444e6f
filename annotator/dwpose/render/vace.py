"""The "vace" style: ali-vilab/VACE's pose annotator (@ 48eb44f, vace/annotators/pose.py PoseAnnotator and
draw_pose, its dwpose/util.py draw_bodypose, draw_handpose, draw_facepose), pixel for pixel.

VACE detects on the input resized to a short side of 1024, sides rounded to multiples of 64 (its
dwpose/wholebody.py resize_image, ControlNet's rule), draws there what ControlNet 1.1 draws (limbs half-width 4,
canvas dimmed by 0.6, joints radius 4, every left hand and every right hand, every face, all people), flips the
channels ([..., ::-1]) and resizes the map back to the input's size (INTER_LANCZOS4 when that is larger than the
drawing canvas, else INTER_AREA). Its callers save the flipped array as RGB (imageio, PIL), so red and blue are
swapped in the files it writes: this style returns those files' pixels.

VACE's presets are the include_* switches, as its draw_pose(use_body, use_hand, use_face) takes them: the map of
its "pose" task (PoseBodyFaceAnnotator, PoseBodyFaceVideoAnnotator: body and face, no hands) is
include_hand=False; PoseBodyAnnotator (body only) is include_hand=False, include_face=False; PoseAnnotator's
"detected_map_handbodyface" is the default (all three); its face-only map is include_body=False,
include_hand=False. include_foot has no effect (VACE draws no feet). threshold: body points need a score above
it, hand and face points at least it (VACE's 0.3, the default). stick_width and the stick rules give the limbs'
half-width in pixels of VACE's drawing canvas (4 there by default, as VACE).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from ..images import resized_shape
from .controlnet import draw_in_order
from .drawing import limb_half_width

SHORT_SIDE = 1024  # PoseAnnotator's RESIZE_SIZE default, which all its configs keep


def draw(poses, options, stick_width: int) -> np.ndarray:
    """VACE's map of `poses` (a Poses) as PoseMapOptions `options` say. The limbs' half-width comes from
    options.stick_rule and options.stick_width on VACE's canvas (`stick_width`, reckoned on the poses' size, is not
    used)."""
    canvas = vace_canvas(poses, options)
    drawn = canvas[..., ::-1]  # its detected_map[..., ::-1]
    larger = poses.height * poses.width > canvas.shape[0] * canvas.shape[1]
    interpolation = cv2.INTER_LANCZOS4 if larger else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(drawn), (poses.width, poses.height), interpolation=interpolation)


def canvas_size(height: int, width: int) -> tuple[int, int]:
    """(H, W) of VACE's drawing canvas for a height x width input: its resize_image(image, 1024)."""
    return resized_shape(height, width, SHORT_SIDE)


def vace_canvas(poses, options) -> np.ndarray:
    """VACE's drawing before its channel flip and resize: the poses' relative coordinates on its canvas."""
    height, width = canvas_size(poses.height, poses.width)
    half_width = limb_half_width(options.stick_rule, options.stick_width, width, height)
    no_feet = dataclasses.replace(options, include_foot=False)  # VACE draws no feet
    return draw_in_order(poses, no_feet, half_width, poses.visible(options.threshold), faces_first=False,
                         size=(height, width))
