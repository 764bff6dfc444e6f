"""The "easy-dwpose" style: reallyigor/easy_dwpose draw/openpose.py, its default draw_pose. The reference's drawing,
but faces before hands, and no hand or face point hidden by its score (its detector hides none)."""

from __future__ import annotations

import numpy as np

from ..skeleton import FACE
from .controlnet import draw_in_order


def draw(poses, options, stick_width: int) -> np.ndarray:
    """easy_dwpose's map of `poses` (a Poses) as PoseMapOptions `options` say, limbs `stick_width` wide."""
    visible = poses.visible(options.threshold)
    visible[:, FACE.start:] = np.isfinite(poses.exact_keypoints[:, FACE.start:]).all(axis=-1)
    return draw_in_order(poses, options, stick_width, visible, faces_first=True)
