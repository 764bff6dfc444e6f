"""What the person detectors (yolox.py, rtmdet.py, yolo.py) share: the model's input size, the anchor points,
the letterbox, NMS, and the PersonDetector base class."""

from __future__ import annotations

import cv2
import numpy as np

from ..runtime import ModelSession

PAD_VALUE = 114
STRIDES = (8, 16, 32)  # the anchor grids of YOLOX and ultralytics YOLO


def num_anchor_points(input_hw: tuple[int, int]) -> int:
    """The anchor points of an input of (H, W) over STRIDES (8400 for 640 x 640)."""
    return sum((input_hw[0] // stride) * (input_hw[1] // stride) for stride in STRIDES)


def model_input_hw(session: ModelSession, default: int) -> tuple[int, int]:
    """(H, W) from the model's input shape; `default` where a side is dynamic."""
    shape = session.get_inputs()[0].shape
    sides = [side if isinstance(side, int) and side > 0 else default for side in shape[2:4]]
    return sides[0], sides[1]


def letterbox(image: np.ndarray, input_hw: tuple[int, int], out: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Resize keeping aspect ratio (INTER_LINEAR), place top-left, pad with 114. Returns (HxWx3, ratio).

    `out`: an HxWx3 uint8 buffer to fill instead of allocating one.
    """
    height, width = image.shape[:2]
    ratio = min(input_hw[0] / height, input_hw[1] / width)
    # max(1, ...) only matters for extreme aspect ratios, where the reference would fail instead.
    new_w, new_h = max(1, int(width * ratio)), max(1, int(height * ratio))
    padded = np.empty((input_hw[0], input_hw[1], 3), dtype=np.uint8) if out is None else out
    padded.fill(PAD_VALUE)
    padded[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return padded, ratio


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy NMS with the legacy (x2 - x1 + 1) areas; returns kept indices, best score first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (areas[i] + areas[rest] - inter)
        order = rest[overlap <= iou_threshold]
    return keep


class PersonDetector:
    """A person detector over a model session.

    `detector(image)` -> boxes (N, 4) x1 y1 x2 y2 in pixels of the RGB uint8 `image` (float64) and
    scores (N,), best first; `detector(image, score_threshold)` uses another threshold for this call.
    Subclasses give DEFAULT_THRESHOLD, DEFAULT_INPUT_SIDE (for a model whose input size is dynamic),
    `accepts(session)` and `detect(image, score_threshold)`.
    """

    DEFAULT_THRESHOLD: float
    DEFAULT_INPUT_SIDE: int

    def __init__(self, session: ModelSession, score_threshold: float | None = None):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.input_hw = model_input_hw(session, self.DEFAULT_INPUT_SIDE)
        self.score_threshold = checked_threshold(
            self.DEFAULT_THRESHOLD if score_threshold is None else score_threshold, "score_threshold")

    @staticmethod
    def accepts(session: ModelSession) -> bool:
        """Whether the session's inputs and outputs are this detector's."""
        raise NotImplementedError

    def __call__(self, image: np.ndarray, score_threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        threshold = self.score_threshold if score_threshold is None else checked_threshold(score_threshold,
                                                                                              "det_threshold")
        return self.detect(image, threshold)

    def detect(self, image: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def checked_threshold(value, name: str) -> float:
    """`value` as a float from 0 to 1, or ValueError naming `name`."""
    try:
        threshold = float(value)
    except (TypeError, ValueError):
        threshold = float("nan")
    if isinstance(value, (bool, str)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"{name} must be a number from 0 to 1, got {value!r}")
    return threshold
