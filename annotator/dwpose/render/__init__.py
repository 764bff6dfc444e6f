"""Pose maps: draw_poses(poses, options) in one of the STYLES, each style in its own module, each pixel for pixel
as its source draws the same keypoints (styles.py names them):

* "controlnet" (controlnet.py, the default): the ControlNet 1.1 / DWPose reference renderer.
* "sd-webui-controlnet" (webui.py): the web UIs' built-in renderer, person by person.
* "mimicmotion" (mimicmotion.py): Tencent/MimicMotion's draw_pose (score-shaded, on a 2160-px canvas).
* "musepose" (musepose.py): TMElyralab/MusePose's draw_pose (the first person, widths from lengths).
* "unianimate" (unianimate.py): ali-vilab/UniAnimate's draw_pose (the first person, toe points).
* "easy-dwpose" (easy_dwpose.py): reallyigor/easy_dwpose's draw_pose (faces before hands).

In "mimicmotion", "musepose" and "unianimate" include_foot has no effect (they draw no separate feet);
stick_width (and the xinsir scaling) sets the limbs' half-width except in "musepose". drawing.py holds
what the styles share (limbs, joints, hands, faces, the drawable-point rule).
"""

from __future__ import annotations

import numpy as np

from ..poses import Poses
from .drawing import xinsir_stick_scale
from .options import PoseMapOptions
from .styles import DRAWERS, STYLES

__all__ = ["PoseMapOptions", "STYLES", "draw_poses", "xinsir_stick_scale"]


def draw_poses(poses: Poses, options: PoseMapOptions | None = None, **fields) -> np.ndarray:
    """The pose map of `poses` as an HxWx3 uint8 RGB array of the image size the poses refer to.

    `options` (a PoseMapOptions), and any of its fields as keyword arguments (e.g. include_foot=True),
    say what is drawn; by default the reference's map.
    """
    options = PoseMapOptions.build(options, **fields)
    stick_width = options.stick_width * (xinsir_stick_scale(poses.width, poses.height)
                                         if options.scale_stick_for_xinsr_cn else 1)
    return DRAWERS[options.style](poses, options, stick_width)
