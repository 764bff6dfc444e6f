"""No person detector: the whole image is one person (comfyui_controlnet_aux's bbox_detector "None", for anime
and stylised images where person detectors fail; its PR #538)."""

from __future__ import annotations

import numpy as np

NO_DETECTOR = "none"  # the det_model value (in any case) that means this


class WholeImage:
    """A person detector that finds one person, the whole image, with score 1 (threshold unused)."""

    score_threshold = 0.0

    def __call__(self, image: np.ndarray, score_threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (1, 4) x1 y1 x2 y2 = the image's (float64) and scores (1,)."""
        height, width = image.shape[:2]
        return np.array([[0.0, 0.0, width, height]]), np.ones(1, dtype=np.float32)


def means_whole_image(det_model) -> bool:
    """Whether a det_model value says "no detector" ("none", in any case)."""
    return isinstance(det_model, str) and det_model.strip().lower() == NO_DETECTOR
