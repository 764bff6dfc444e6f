"""Pose maps: draw_poses(poses, options) in one of the STYLES, each style in its own module, each pixel for pixel
as its source draws the same keypoints (styles.py names them):

* "controlnet" (controlnet.py, the default): the ControlNet 1.1 / DWPose reference renderer.
* "sd-webui-controlnet" (webui.py): the web UIs' built-in renderer, person by person.
* "mimicmotion" (mimicmotion.py): Tencent/MimicMotion's draw_pose (score-shaded, on a 2160-px canvas).
* "musepose" (musepose.py): TMElyralab/MusePose's draw_pose (the first person, widths from lengths).
* "unianimate" (unianimate.py): ali-vilab/UniAnimate's draw_pose, which UniAnimate-DiT keeps unchanged (the
  first person, toe points).
* "easy-dwpose" (easy_dwpose.py): reallyigor/easy_dwpose's draw_pose (faces before hands).
* "vace" (vace.py): ali-vilab/VACE's pose annotator (drawn on its 1024-px canvas, resized back, red and blue
  swapped; its presets are the include_* switches).
* "wan-animate" (wan_animate.py): Wan 2.2 Animate's draw_aapose_by_meta_new (20-point body with toes, widths
  from the canvas size, threshold 0.5, no face points, person by person).

In "mimicmotion", "musepose", "unianimate", "vace" and "wan-animate" include_foot has no effect (they draw no
separate feet); stick_width (and the stick rules: xinsir's scale, Wan's width) sets the limbs' half-width
except in "musepose" and "wan-animate". draw_pose_map gives the map at another size (drawn there with
draw_at_output_size). drawing.py holds what the styles share (limbs, joints, hands, faces, the drawable-point rule).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..poses import Poses
from .drawing import STICK_RULES, limb_half_width, wan_stick_width, xinsir_stick_scale
from .options import PoseMapOptions
from .styles import DRAWERS, STYLES

__all__ = ["PoseMapOptions", "STICK_RULES", "STYLES", "draw_pose_map", "draw_poses", "wan_stick_width",
           "xinsir_stick_scale"]


def draw_poses(poses: Poses, options: PoseMapOptions | None = None, **fields) -> np.ndarray:
    """The pose map of `poses` as an HxWx3 uint8 RGB array of the image size the poses refer to.

    `options` (a PoseMapOptions), and any of its fields as keyword arguments (e.g. include_foot=True),
    say what is drawn; by default the reference's map.
    """
    options = PoseMapOptions.build(options, **fields)
    stick_width = limb_half_width(options.stick_rule, options.stick_width, poses.width, poses.height)
    return DRAWERS[options.style](poses, options, stick_width)


def draw_pose_map(poses: Poses, height: int, width: int, options: PoseMapOptions | None = None,
                  **fields) -> np.ndarray:
    """The pose map of `poses` as an HxWx3 uint8 RGB array of height x width.

    By default (the reference) drawn at the size the poses refer to, then resized with INTER_LINEAR to
    width x height (a copy when the sizes are equal); with options.draw_at_output_size drawn directly at
    width x height (the poses scaled there with Poses.in_pixels_of), so lines stay sharp and stick widths are
    in output pixels. `options` and `fields` as for draw_poses."""
    options = PoseMapOptions.build(options, **fields)
    height, width = int(height), int(width)
    if options.draw_at_output_size:
        return draw_poses(poses.in_pixels_of(width, height), options)
    return cv2.resize(draw_poses(poses, options), (width, height), interpolation=cv2.INTER_LINEAR)
