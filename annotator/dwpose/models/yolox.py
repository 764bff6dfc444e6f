"""YOLOX person detector (yolox_l.onnx, yolox_nano.onnx, ...): letterbox, grid decode, class-aware NMS.

The arithmetic (float32 decode, legacy "+1" box areas, argsort order) follows the DWPose reference so
that the boxes, and therefore the pose crops, are the same to the last bit.
"""

from __future__ import annotations

import threading

import numpy as np

from .detection import STRIDES, PersonDetector, letterbox, nms, num_anchor_points
from ..runtime import ModelSession

NMS_IOU = 0.45
NMS_SCORE = 0.1  # candidates below this never reach NMS


class YOLOX(PersonDetector):
    """Raw-output YOLOX: one output [1, A, 5 + classes] of (cx, cy, w, h, objectness, class scores)."""

    DEFAULT_THRESHOLD = 0.3  # the reference's person threshold
    DEFAULT_INPUT_SIDE = 640

    def __init__(self, session: ModelSession, score_threshold: float | None = None):
        super().__init__(session, score_threshold)
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
    def accepts(session: ModelSession) -> bool:
        outputs = session.get_outputs()
        if len(session.get_inputs()) != 1 or len(outputs) != 1:
            return False
        shape = outputs[0].shape
        if len(shape) != 3 or not isinstance(shape[2], int) or shape[2] <= 5:
            return False
        # A static anchor count must be the grid's of a static input size ([1, 300, 7] is not a YOLOX).
        height, width = (list(session.get_inputs()[0].shape) + [None] * 4)[2:4]
        if isinstance(shape[1], int) and isinstance(height, int) and isinstance(width, int):
            return shape[1] == num_anchor_points((height, width))
        return True

    def _person_candidates(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The output rows whose person score (objectness x person class) exceeds NMS_SCORE: their indices
        and their first 6 columns. A session with `run_on_device` (the torch backend) picks them where
        the output is and copies back only those rows."""
        run_on_device = getattr(self.session, "run_on_device", None)
        output = self.session.run(None, {self.input_name: blob})[0] if run_on_device is None else \
            run_on_device(None, {self.input_name: blob})[0]
        if output.shape[1] != self.grid.shape[1]:
            raise ValueError(
                f"the detector returned {output.shape[1]} anchors but a {self.input_hw[1]}x{self.input_hw[0]} "
                f"YOLOX input has {self.grid.shape[1]} (strides {STRIDES}); is this a YOLOX model?"
            )
        raw = output[0, :, :6]
        if run_on_device is None:
            rows = np.flatnonzero(raw[:, 4] * raw[:, 5] > NMS_SCORE)
            return rows, raw[rows]
        picked = (raw[:, 4] * raw[:, 5] > NMS_SCORE).nonzero()[:, 0]  # float32 products, as numpy's
        return picked.cpu().numpy(), raw[picked].cpu().numpy()

    def detect(self, image: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) x1 y1 x2 y2 in image pixels (float64) and scores (N,), best first."""
        buffers = self._buffers.__dict__
        if "blob" not in buffers:  # per thread, so that calls from several threads don't share them
            buffers["padded"] = np.empty((*self.input_hw, 3), dtype=np.uint8)
            buffers["blob"] = np.empty((1, 3, *self.input_hw), dtype=np.float32)
        padded, ratio = letterbox(image, self.input_hw, out=buffers["padded"])
        blob = buffers["blob"]
        np.copyto(blob[0], padded.transpose(2, 0, 1))
        rows, raw = self._person_candidates(blob)
        # The reference's operations and dtypes (float64 grid maths stored into float32), on the rows
        # that can become person boxes only: every row is computed on its own, so the values are the same.
        person_scores = raw[:, 4] * raw[:, 5]
        centers = ((raw[:, :2] + self.grid[0, rows]) * self.strides[0, rows]).astype(np.float32)
        sizes = (np.exp(raw[:, 2:4]) * self.strides[0, rows]).astype(np.float32)
        boxes = np.concatenate([centers - sizes / 2.0, centers + sizes / 2.0], axis=1)
        boxes /= ratio

        # Class-aware NMS keeps classes apart, so only the person class needs to be run.
        finite = np.isfinite(boxes).all(axis=1)
        boxes, person_scores = boxes[finite], person_scores[finite]
        keep = nms(boxes, person_scores, NMS_IOU)
        boxes, person_scores = boxes[keep], person_scores[keep]
        confident = person_scores > score_threshold
        return boxes[confident].astype(np.float64), person_scores[confident]
