"""Ultralytics YOLO person detectors: YOLOv8 / YOLO11 raw output and YOLOv10 (end-to-end) exports, with
ultralytics' own preprocessing (the default) or Wan 2.2 Animate's (`preprocessing="wan"`).

The two output layouts, told apart from YOLOX ([1, A, 5 + C]) and RTMDet (dets/labels) by the graph alone:
- raw, [1, 84, A]: per anchor point cx, cy, w, h in model-input pixels, then 80 COCO class scores (no
  objectness); A = the anchor points of strides 8/16/32, or a name where the export is dynamic. NMS is ours.
- end-to-end, [1, N, 6]: a fixed number N (300 by default) of rows x1, y1, x2, y2, score, class in
  model-input pixels, already de-duplicated (YOLOv10, ultralytics' `end2end` exports). A dynamic export
  names the last side (ultralytics calls it "anchors"). N is never the anchor count: a one-class YOLOX
  [1, A, 6] stays YOLOX's, and so does an output whose N is not fixed.

Ultralytics' preprocessing for exported models (ultralytics/engine/predictor.py and data/augment.py, commit
0005af52af705ebb03b6ed1a0be176d52d79241c; utils/ops.py, commit 002217d4c57509738e4dc15b9e3e6722b9e42aa6):
LetterBox(auto=False, center=True): ratio r = min(H_in / h, W_in / w), resized to (round(w r), round(h r))
with INTER_LINEAR, padded with 114 around it, left = round(dw / 2 - 0.1), top = round(dh / 2 - 0.1) (the
odd pixel goes right / bottom); RGB; float32 / 255; CHW. Boxes go back with `scale_boxes` (minus
round((W_in - w r) / 2 - 0.1) and the same for y, divided by r) and are clipped to the image. Raw output:
each anchor's best class and its score (`multi_label=False`); class-aware NMS, so only the persons need
it. Defaults: score 0.25 (ultralytics' predict `conf`); IoU 0.45 (as YOLOX here and ultralytics'
`non_max_suppression` signature; its predict default is 0.7, which keeps more doubled people), with
models/detection.py's NMS.

Wan 2.2 Animate (Wan-Video/Wan2.2 commit 42bf4cfaa384bc21833865abc2f9e6c0e67233dc,
wan/modules/animate/preprocess/pose2d.py, class Yolo, YOLOv10m [1, 300, 6]): see `wan_detections` and
`wan_person_box`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..runtime import ModelSession
from .detection import PAD_VALUE, PersonDetector, model_input_hw, nms, num_anchor_points

RAW = "raw"
END_TO_END = "end-to-end"
PREPROCESSING = ("ultralytics", "wan")

COCO_CLASSES = 80
PERSON = 0
INPUT_SIDE = 640  # a dynamic input: ultralytics' and Wan's size
NMS_IOU = 0.45
MAX_DETECTIONS = 300  # ultralytics' max_det

# Wan 2.2 Animate's Yolo(threshold_conf=0.05, threshold_iou=0.5, threshold_bbox_shape_ratio=0.4), pose2d.py l. 69
WAN_THRESHOLD = 0.05
WAN_NMS_IOU = 0.5
WAN_SHAPE_RATIO = 0.4


def output_format(session: ModelSession) -> str | None:
    """RAW, END_TO_END, or None when the session's single output is neither layout (module docstring)."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1 or len(inputs[0].shape) != 4 or len(outputs[0].shape) != 3:
        return None
    _, rows, columns = outputs[0].shape
    anchors = num_anchor_points(model_input_hw(session, INPUT_SIDE))
    named_columns = not isinstance(columns, int)
    if rows == 4 + COCO_CLASSES and (named_columns or columns == anchors):
        return RAW
    if isinstance(rows, int) and rows != anchors and (columns == 6 or named_columns):
        return END_TO_END
    return None


def letterbox_centered(image: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """`image` (h x w x 3 uint8) as ultralytics' LetterBox(auto=False, center=True) makes it: resized by
    r = min(H / h, W / w) to (round(w r), round(h r)) with INTER_LINEAR, centred on an H x W canvas of 114."""
    height, width = image.shape[:2]
    ratio = min(input_hw[0] / height, input_hw[1] / width)
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    left = round((input_hw[1] - new_w) / 2 - 0.1)
    top = round((input_hw[0] - new_h) / 2 - 0.1)
    padded = np.full((input_hw[0], input_hw[1], 3), PAD_VALUE, dtype=np.uint8)
    padded[top:top + new_h, left:left + new_w] = image
    return padded


def boxes_to_image(boxes: np.ndarray, input_hw: tuple[int, int], image_hw: tuple[int, int]) -> np.ndarray:
    """x1 y1 x2 y2 boxes (float32, model-input pixels of a centred letterbox) in image pixels, as
    ultralytics' scale_boxes does: minus its padding round((W - w r) / 2 - 0.1) (likewise y), divided by r,
    clipped to the image. Returns float64 (N, 4)."""
    gain = min(input_hw[0] / image_hw[0], input_hw[1] / image_hw[1])
    pad_x = round((input_hw[1] - image_hw[1] * gain) / 2 - 0.1)
    pad_y = round((input_hw[0] - image_hw[0] * gain) / 2 - 0.1)
    mapped = (boxes.astype(np.float32) - np.array([pad_x, pad_y, pad_x, pad_y], np.float32)) / np.float32(gain)
    mapped[:, [0, 2]] = mapped[:, [0, 2]].clip(0, image_hw[1])
    mapped[:, [1, 3]] = mapped[:, [1, 3]].clip(0, image_hw[0])
    return mapped.astype(np.float64)


def wan_blob(image: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """Wan 2.2 Animate's detector input for the RGB frame `image` (Yolo.preprocess, pose2d.py l. 89-109):
    a plain cv2.resize to the input size (INTER_LINEAR, aspect ratio not kept), RGB, / 255.0 in float64,
    then CHW float32. Returns [1, 3, H, W].

    RGB: Pose2d.load_images (l. 391-393) swaps the channels of the RGB frames it is given and read_img
    (pose2d_utils.py l. 31-33) swaps them back, so the detector sees the frames' own RGB order (the
    ViTPose crop gets the once-swapped, BGR, frame)."""
    resized = cv2.resize(image, (input_hw[1], input_hw[0]))
    return np.ascontiguousarray((resized / 255.0).transpose(2, 0, 1)[None], dtype=np.float32)


def wan_nms(boxes_xywh: np.ndarray, scores: np.ndarray, score_threshold: float, iou_threshold: float) -> list[int]:
    """cv2.dnn.NMSBoxes on integer x, y, w, h boxes, as OpenCV computes it: candidates with score >
    float32(score_threshold), by score best first (stable), each kept when its overlap (1 - float32 of the
    Jaccard distance of the integer rectangles) with every kept box is <= iou_threshold. Returns indices."""
    scores = np.asarray(scores, np.float32)
    candidates = np.flatnonzero(scores > np.float32(score_threshold))
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    x, y, w, h = (np.asarray(boxes_xywh, np.int64)[:, i] for i in range(4))
    keep: list[int] = []
    for i in order:
        if keep:
            k = np.array(keep)
            inter_w = np.minimum(x[i] + w[i], x[k] + w[k]) - np.maximum(x[i], x[k])
            inter_h = np.minimum(y[i] + h[i], y[k] + h[k]) - np.maximum(y[i], y[k])
            inter = np.where((inter_w > 0) & (inter_h > 0), inter_w * inter_h, 0).astype(np.float64)
            areas = (w[i] * h[i] + w[k] * h[k]).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                distance = np.where(areas <= 0, 0.0, 1.0 - inter / (areas - inter))
            overlap = np.float32(1.0) - distance.astype(np.float32)
            if not (overlap <= np.float32(iou_threshold)).all():
                continue
        keep.append(int(i))
    return keep


def wan_detections(output: np.ndarray, image_hw: tuple[int, int], input_hw: tuple[int, int],
                   score_threshold: float = WAN_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Wan 2.2 Animate's person boxes from an end-to-end output [1, N, 6] (Yolo.postprocess, pose2d.py
    l. 112-204, then the class and score test of process_results, l. 224):
    rows with score >= threshold; x1, x2 times W / W_in and y1, y2 times H / H_in in float32 (Wan pins
    numpy < 2, where a float64 scalar does not widen a float32 array); w = x2 - x1, h = y2 - y1, then x1, y1,
    w, h truncated to int32; cv2.dnn.NMSBoxes over every class (score > threshold, IoU 0.5); back to
    x1, y1, x1 + w, y1 + h; persons (class 0) with score > threshold.
    Returns boxes (N, 4) float64 with integer values and scores (N,) float32, in NMS order (best first).
    Rows that are not finite are dropped first (the official code would cast them to arbitrary ints)."""
    dets = output[0]
    dets = dets[np.isfinite(dets).all(axis=1) & (dets[:, 4] >= np.float32(score_threshold))]
    factors = np.array([image_hw[1] / input_hw[1], image_hw[0] / input_hw[0]] * 2, dtype=np.float32)
    scaled = dets[:, :4] * factors
    corner = scaled[:, :2].astype(np.int32)
    size = (scaled[:, 2:] - scaled[:, :2]).astype(np.int32)
    keep = wan_nms(np.concatenate([corner, size], axis=1), dets[:, 4], score_threshold, WAN_NMS_IOU)
    boxes = np.concatenate([corner, corner + size], axis=1)[keep].astype(np.float64)
    scores, classes = dets[keep, 4], dets[keep, 5]
    person = (classes == PERSON) & (scores > np.float32(score_threshold))
    return boxes[person], scores[person]


def wan_person_box(boxes: np.ndarray, scores: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    """The one box Wan 2.2 Animate's Pose2d gives its pose model (Yolo.process_results, pose2d.py l. 207-280,
    with select_type "max", strict=True, single_person=True): the largest box by area, not the best-scored.

    `boxes` (N, 4) x1 y1 x2 y2 and `scores` (N,): a `preprocessing="wan"` detector's persons, in its order.
    Scanned in that order, a box becomes the choice when its area is strictly larger than the choice's and
    its longer side is at least 0.4 x the reference side (at first the longest side of all boxes, then the
    chosen box's). Returns float64 [x1, y1, x2, y2, score]; [0, 0, W, H, -1] when there is no box (Yolo.forward's
    default, which the pose model reads as "the whole frame").
    """
    height, width = image_hw
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    reference_side = sides.max(initial=-1.0)
    best, best_area = -1, height * width * -10.0
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        area = (x2 - x1) * (y2 - y1)
        if area > best_area:
            if sides[i] < reference_side * WAN_SHAPE_RATIO:
                continue
            best, best_area, reference_side = i, area, sides[i]
    if best < 0:
        return np.array([0.0, 0.0, width, height, -1.0])
    return np.append(boxes[best], float(scores[best]))


class UltralyticsYOLO(PersonDetector):
    """A YOLOv8 / YOLO11 (raw) or YOLOv10 (end-to-end) ONNX export as a person detector.

    `UltralyticsYOLO(session, score_threshold=None, preprocessing="ultralytics")`:
    - "ultralytics" (default): centred letterbox, boxes mapped back and clipped as ultralytics does; default
      score threshold 0.25; raw output: best class per anchor, persons, NMS at IoU 0.45, at most 300.
    - "wan": Wan 2.2 Animate's detector, end-to-end layout only: plain resize, `wan_detections`; default
      threshold 0.05. All persons are returned; `wan_person_box` picks the one Wan uses.
    `format`: RAW or END_TO_END. `detector(image)` -> boxes (N, 4) float64 in pixels of the RGB `image`,
    scores (N,), best first.
    """

    DEFAULT_THRESHOLD = 0.25  # ultralytics' predict conf (cfg/default.yaml: "defaults: predict=0.25")
    DEFAULT_INPUT_SIDE = INPUT_SIDE

    def __init__(self, session: ModelSession, score_threshold: float | None = None,
                 preprocessing: str = "ultralytics"):
        if preprocessing not in PREPROCESSING:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING}, got {preprocessing!r}")
        wan = preprocessing == "wan"
        super().__init__(session, WAN_THRESHOLD if wan and score_threshold is None else score_threshold)
        self.format = output_format(session)
        if self.format is None:
            raise ValueError("not an ultralytics YOLO session: one output [1, 84, A] or [1, N, 6] expected")
        if wan and self.format != END_TO_END:
            raise ValueError('preprocessing="wan" reproduces Wan 2.2 Animate\'s YOLOv10 detector and needs an '
                             'end-to-end output [1, N, 6]; this model gives raw [1, 84, A] output')
        self.preprocessing = preprocessing

    @staticmethod
    def accepts(session: ModelSession) -> bool:
        return output_format(session) is not None

    def detect(self, image: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) x1 y1 x2 y2 in pixels of `image` (float64) and scores (N,), best first."""
        image_hw = image.shape[:2]
        if self.preprocessing == "wan":
            return wan_detections(self._run(wan_blob(image, self.input_hw), 6), image_hw, self.input_hw,
                                  score_threshold)
        blob = np.ascontiguousarray(letterbox_centered(image, self.input_hw).transpose(2, 0, 1)[None], np.float32)
        blob /= np.float32(255.0)
        if self.format == END_TO_END:
            boxes, scores = self._end_to_end_persons(self._run(blob, 6), score_threshold)
        else:
            boxes, scores = self._raw_persons(self._run(blob, None), score_threshold)
        return boxes_to_image(boxes, self.input_hw, image_hw), scores

    def _run(self, blob: np.ndarray, columns: int | None) -> np.ndarray:
        """The model's output for `blob`; ValueError when an end-to-end output has not `columns` columns."""
        output = self.session.run(None, {self.input_name: blob})[0]
        if output.ndim != 3 or (columns is not None and output.shape[2] != columns) or \
                (columns is None and output.shape[1] != 4 + COCO_CLASSES):
            raise ValueError(f"the detector returned an output of shape {list(output.shape)}; an ultralytics "
                             f"{self.format} model gives " + ("[1, N, 6]" if columns else "[1, 84, A]"))
        return output

    @staticmethod
    def _end_to_end_persons(output: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows of class 0 with score > threshold: boxes (model-input pixels), scores, best first."""
        dets = output[0]
        keep = np.isfinite(dets).all(axis=1) & (dets[:, 4] > score_threshold) & (dets[:, 5] == PERSON)
        dets = dets[keep]
        order = np.argsort(-dets[:, 4], kind="stable")
        return dets[order, :4], dets[order, 4]

    @staticmethod
    def _raw_persons(output: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Anchors whose best class is the person with score > threshold, as x1 y1 x2 y2 (model-input pixels),
        after NMS; scores; best first."""
        rows = output[0].T  # (A, 84)
        classes = rows[:, 4:4 + COCO_CLASSES]
        best = classes.argmax(axis=1)
        scores = classes[np.arange(len(rows)), best]
        keep = (best == PERSON) & (scores > score_threshold) & np.isfinite(rows[:, :4]).all(axis=1)
        centers, sizes, scores = rows[keep, :2], rows[keep, 2:4], scores[keep]
        boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=1)
        kept = nms(boxes, scores, NMS_IOU)[:MAX_DETECTIONS]
        return boxes[kept], scores[kept]
