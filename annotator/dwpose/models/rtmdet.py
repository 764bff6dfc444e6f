"""RTMDet person detector with NMS inside the graph (outputs `dets` [B, N, 5] and `labels` [B, N])."""

from __future__ import annotations

import numpy as np

from .detection import PersonDetector, letterbox
from ..runtime import ModelSession

# BGR order, as MMDetection normalises.
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)
PERSON = 0


class RTMDet(PersonDetector):
    """Boxes come back in letterbox pixels, already de-duplicated; we keep persons above the threshold.

    The default threshold 0.35 was chosen on the project's test photos with rtmdet_nano.onnx: every
    one-person photo's person scores 0.77-0.94, while the best false "person" in the photos without
    people scores 0.33 (0.3, the YOLOX threshold, would keep two of those).
    """

    DEFAULT_THRESHOLD = 0.35
    DEFAULT_INPUT_SIDE = 320

    def __init__(self, session: ModelSession, score_threshold: float | None = None):
        super().__init__(session, score_threshold)
        self.dets_name, self.labels_name = _dets_and_labels(session)

    @staticmethod
    def accepts(session: ModelSession) -> bool:
        return len(session.get_inputs()) == 1 and _dets_and_labels(session) != (None, None)

    def detect(self, image: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) x1 y1 x2 y2 in image pixels (float64) and scores (N,), best first."""
        padded, ratio = letterbox(image, self.input_hw)
        blob = (padded[:, :, ::-1].astype(np.float32) - MEAN_BGR) / STD_BGR
        blob = np.ascontiguousarray(blob.transpose(2, 0, 1)[None])
        dets, labels = self.session.run([self.dets_name, self.labels_name], {self.input_name: blob})
        dets, labels = dets[0], labels[0]
        boxes = dets[:, :4].astype(np.float64) / ratio
        scores = dets[:, 4]
        keep = (labels == PERSON) & (scores > score_threshold) & np.isfinite(dets).all(axis=1)
        boxes, scores = boxes[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")
        return boxes[order], scores[order]


def _dets_and_labels(session: ModelSession) -> tuple[str | None, str | None]:
    """Names of the (dets [B, N, 5] float, labels [B, N] integer) outputs, or (None, None)."""
    dets = labels = None
    for output in session.get_outputs():
        shape = output.shape
        # The last axis of dets is often left symbolic by the exporter.
        if len(shape) == 3 and (shape[2] == 5 or not isinstance(shape[2], int)) and "float" in output.type:
            dets = output.name
        elif len(shape) == 2 and "int" in output.type:
            labels = output.name
    if dets is None or labels is None or len(session.get_outputs()) != 2:
        return None, None
    return dets, labels
