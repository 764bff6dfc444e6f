"""The models, one file each: the person detectors (yolox.py, rtmdet.py, what they share in detection.py;
whole_image.py: none, the whole image as one person) and the pose models (rtmpose.py: SimCC; vitpose.py:
heatmaps); here, how a model file becomes one of them.

The kind of a file is told from its graph's inputs and outputs, never from its name.
"""

from __future__ import annotations

import os

from ..errors import WeightsError
from ..runtime import Runtime, create_session
from ..runtime.providers import CPU
from ..skeleton import NUM_COCO, NUM_COCO_BODY
from ..weights import DET_KIND, POSE_KIND
from .detection import PersonDetector, letterbox, nms
from .rtmdet import RTMDet
from .rtmpose import RTMPose
from .vitpose import ViTPose
from .whole_image import NO_DETECTOR, WholeImage, means_whole_image
from .yolo import UltralyticsYOLO
from .yolox import YOLOX

__all__ = ["NO_DETECTOR", "PERSON_DETECTORS", "PersonDetector", "RTMDet", "RTMPose", "UltralyticsYOLO", "ViTPose",
           "WholeImage", "YOLOX", "letterbox", "load_person_detector", "load_pose_model", "means_whole_image", "nms"]

# Tried in this order, the stricter tests first: RTMDet's two named outputs, then ultralytics' [1, 84, A] and
# [1, N, 6] layouts, which YOLOX's looser test (any [1, A, > 5]) would also take.
PERSON_DETECTORS = (RTMDet, UltralyticsYOLO, YOLOX)


def load_person_detector(path: str | os.PathLike, runtime: Runtime,
                         score_threshold: float | None = None) -> PersonDetector:
    """The person detector in the ONNX file `path` (YOLOX, RTMDet or ultralytics YOLO, told from its graph), run
    as `runtime` says; `score_threshold`: its default minimum person score (None: the kind's own). WeightsError
    when the file is not a person detector."""
    session = create_session(path, DET_KIND, runtime)
    kind = next((kind for kind in PERSON_DETECTORS if kind.accepts(session)), None)
    if kind is None:
        raise WeightsError(f"{path}: its inputs/outputs are not those of {DET_KIND}; "
                           "pass a YOLOX, RTMDet or ultralytics YOLO (YOLOv8/YOLO11 raw [1, 84, A] output, YOLOv10 "
                           "end-to-end [1, N, 6]) ONNX file as det_model")
    return kind(session, score_threshold)


def load_pose_model(path: str | os.PathLike, runtime: Runtime) -> RTMPose | ViTPose:
    """The pose model in the ONNX file `path`, run as `runtime` says, with a dynamic batch where that gives
    the same keypoints: RTMPose for a SimCC model (two 3-D outputs simcc_x, simcc_y), ViTPose for a heatmap
    model (one 4-D output [N, K, H/4, W/4]); 133 COCO-WholeBody or 17 COCO body points. WeightsError naming
    the file when it is neither."""
    session = create_session(path, POSE_KIND, runtime, batchable=True)
    kind = next((kind for kind in (RTMPose, ViTPose) if kind.accepts(session)), None)
    if kind is None:
        raise WeightsError(f"{path}: its inputs/outputs are not those of {POSE_KIND}; "
                           "pass e.g. dw-ll_ucoco_384.onnx as pose_model")
    # On the CPU in onnxruntime a batch runs no faster per person than one at a time and only takes
    # more memory, so batches stay small there; OpenVINO (bf16), torch and GPUs gain from bigger ones.
    on_cpu = session.get_providers()[0] == CPU
    model = kind(session, max_batch=4 if on_cpu else 16)
    if model.num_keypoints not in (NUM_COCO, NUM_COCO_BODY):
        raise WeightsError(f"{path}: the model predicts {model.num_keypoints} keypoints; "
                           f"expected {NUM_COCO} (COCO-WholeBody) or {NUM_COCO_BODY} (COCO body)")
    return model
