"""YOLOX person detector (yolox_l.onnx, yolox_nano.onnx, ...): letterbox, grid decode, class-aware NMS.

The arithmetic (float32 decode, legacy "+1" box areas, argsort order) follows the DWPose reference so
that the boxes, and therefore the pose crops, are the same to the last bit.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import onnxruntime as ort

STRIDES = (8, 16, 32)
NMS_IOU = 0.45
NMS_SCORE = 0.1  # candidates below this never reach NMS
PAD_VALUE = 114


def model_input_hw(session: ort.InferenceSession, default: int) -> tuple[int, int]:
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


class YOLOX:
    """Raw-output YOLOX: one output [1, A, 5 + classes] of (cx, cy, w, h, objectness, class scores)."""

    DEFAULT_THRESHOLD = 0.3  # the reference's person threshold

    def __init__(self, session: ort.InferenceSession, score_threshold: float = DEFAULT_THRESHOLD):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.input_hw = model_input_hw(session, default=640)
        self.score_threshold = score_threshold
        self._buffers = threading.local()  # the letterboxed image and the model input, reused
        grids, strides = [], []
        for stride in STRIDES:
            rows, cols = self.input_hw[0] // stride, self.input_hw[1] // stride
            xv, yv = np.meshgrid(np.arange(cols), np.arange(rows))
            grids.append(np.stack((xv, yv), 2).reshape(1, -1, 2))
            strides.append(np.full((1, rows * cols, 1), stride))
        self.grid = np.concatenate(grids, 1)
        self.strides = np.concatenate(strides, 1)

    @staticmethod
    def accepts(session: ort.InferenceSession) -> bool:
        outputs = session.get_outputs()
        if len(session.get_inputs()) != 1 or len(outputs) != 1:
            return False
        shape = outputs[0].shape
        return len(shape) == 3 and isinstance(shape[2], int) and shape[2] > 5

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) x1 y1 x2 y2 in image pixels (float64) and scores (N,), best first."""
        buffers = self._buffers.__dict__
        if "blob" not in buffers:  # per thread, so that calls from several threads don't share them
            buffers["padded"] = np.empty((*self.input_hw, 3), dtype=np.uint8)
            buffers["blob"] = np.empty((1, 3, *self.input_hw), dtype=np.float32)
        padded, ratio = letterbox(image, self.input_hw, out=buffers["padded"])
        blob = buffers["blob"]
        np.copyto(blob[0], padded.transpose(2, 0, 1))
        output = self.session.run(None, {self.input_name: blob})[0]
        if output.shape[1] != self.grid.shape[1]:
            raise ValueError(
                f"the detector returned {output.shape[1]} anchors but a {self.input_hw[1]}x{self.input_hw[0]} "
                f"YOLOX input has {self.grid.shape[1]} (strides {STRIDES}); is this a YOLOX model?"
            )
        # The reference's operations and dtypes (float64 grid maths stored into float32), on the rows
        # that can become person boxes only: every row is computed on its own, so the values are the same.
        raw = output[0]
        person_scores = raw[:, 4] * raw[:, 5]
        rows = np.flatnonzero(person_scores > NMS_SCORE)
        centers = ((raw[rows, :2] + self.grid[0, rows]) * self.strides[0, rows]).astype(np.float32)
        sizes = (np.exp(raw[rows, 2:4]) * self.strides[0, rows]).astype(np.float32)
        boxes = np.concatenate([centers - sizes / 2.0, centers + sizes / 2.0], axis=1)
        boxes /= ratio
        person_scores = person_scores[rows]

        # Class-aware NMS keeps classes apart, so only the person class needs to be run.
        finite = np.isfinite(boxes).all(axis=1)
        boxes, person_scores = boxes[finite], person_scores[finite]
        keep = nms(boxes, person_scores, NMS_IOU)
        boxes, person_scores = boxes[keep], person_scores[keep]
        confident = person_scores > self.score_threshold
        return boxes[confident].astype(np.float64), person_scores[confident]
