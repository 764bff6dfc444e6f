"""DWposeDetector: person detector + SimCC pose model + OpenPose renderer (`dw_openpose_full`)."""

from __future__ import annotations

import os

import cv2
import numpy as np
from PIL import Image

from ..util import HWC3, resize_image, resized_shape
from .poses import NUM_COCO, THRESHOLD, Poses, coco_to_openpose
from .render import STICK_WIDTH, draw_poses
from .rtmdet import RTMDet
from .rtmpose import RTMPose
from .session import create_session
from .weights import DET_FILENAME, DET_KIND, HF_REPO_ID, POSE_FILENAME, POSE_KIND, WeightsError, find_weights
from .yolox import YOLOX

BODY_ONLY = 17  # RTMPose body models: the other 116 whole-body points are reported hidden


class DWposeDetector:
    """The `dw_openpose_full` annotator.

    >>> detector = DWposeDetector.from_pretrained()
    >>> pose_map = detector(image)             # PIL image at image_resolution
    >>> poses = detector.detect(image)         # keypoints in pixels of `image`
    """

    def __init__(
        self,
        det_model: str | os.PathLike | None = None,
        pose_model: str | os.PathLike | None = None,
        providers=None,
        *,
        precision: str = "fp32",
        fallback_whole_image: bool = True,
        det_threshold: float | None = None,
    ):
        """`det_model`, `pose_model`: ONNX files; None looks in $DWPOSE_CKPTS, annotator/ckpts, then the
        Hugging Face repo yzd-v/DWPose. `providers`: onnxruntime providers (default: CUDA, CoreML or
        DirectML when available, then CPU). `precision`: "fp32" (default) gives the reference's
        keypoints; the fast modes "bf16" (OpenVINO on CPUs with AMX / AVX512-BF16) and "fp16" (TensorRT or
        CUDA) are several times faster and move a few keypoints by a pixel or so. `fallback_whole_image`: when no person is detected, run the
        pose model on the whole image, as the reference does. `det_threshold`: minimum person score
        (default 0.3 for YOLOX as in the reference, 0.35 for RTMDet)."""
        det_path = find_weights(DET_FILENAME, det_model)
        pose_path = find_weights(POSE_FILENAME, pose_model)
        det_session = create_session(det_path, DET_KIND, providers, precision)
        kind = RTMDet if RTMDet.accepts(det_session) else YOLOX if YOLOX.accepts(det_session) else None
        if kind is None:
            raise WeightsError(f"{det_path}: its inputs/outputs are not those of {DET_KIND}; "
                               "pass a YOLOX or RTMDet ONNX file as det_model")
        self.detector = kind(det_session, kind.DEFAULT_THRESHOLD if det_threshold is None else det_threshold)
        pose_session = create_session(pose_path, POSE_KIND, providers, precision, batchable=True)
        if not RTMPose.accepts(pose_session):
            raise WeightsError(f"{pose_path}: its inputs/outputs are not those of {POSE_KIND}; "
                               "pass e.g. dw-ll_ucoco_384.onnx as pose_model")
        # On the CPU in fp32 a batch runs no faster per person than one at a time and only takes more
        # memory, so batches stay small there; bf16 (AMX) and GPUs gain from bigger ones.
        on_cpu_fp32 = precision == "fp32" and pose_session.get_providers()[0] == "CPUExecutionProvider"
        self.pose_model = RTMPose(pose_session, max_batch=4 if on_cpu_fp32 else 16)
        if self.pose_model.num_keypoints not in (NUM_COCO, BODY_ONLY):
            raise WeightsError(f"{pose_path}: the model predicts {self.pose_model.num_keypoints} keypoints; "
                               f"expected {NUM_COCO} (COCO-WholeBody) or {BODY_ONLY} (COCO body)")
        self.precision = precision
        self.fallback_whole_image = fallback_whole_image

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_or_path: str | os.PathLike = HF_REPO_ID,
        det_filename: str | None = DET_FILENAME,
        pose_filename: str | None = POSE_FILENAME,
        *,
        cache_dir: str | os.PathLike | None = None,
        local_files_only: bool | None = None,
        providers=None,
        **kwargs,
    ) -> "DWposeDetector":
        """Weights from a local folder, or by file name from $DWPOSE_CKPTS, annotator/ckpts, or the
        Hugging Face repo (downloaded once into the hub cache; HF_HUB_OFFLINE=1 forbids downloads).
        A file name of None means the default (yolox_l.onnx, dw-ll_ucoco_384.onnx)."""
        det_filename = det_filename or DET_FILENAME
        pose_filename = pose_filename or POSE_FILENAME
        if os.path.isdir(pretrained_model_or_path):
            det = os.path.join(pretrained_model_or_path, det_filename)
            pose = os.path.join(pretrained_model_or_path, pose_filename)
        else:
            options = dict(repo_id=str(pretrained_model_or_path), cache_dir=cache_dir, local_files_only=local_files_only)
            det = find_weights(det_filename, **options)
            pose = find_weights(pose_filename, **options)
        return cls(det, pose, providers, **kwargs)

    def detect(self, image, boxes=None) -> Poses:
        """Poses of the people in `image` (no resizing: keypoints in its pixels).

        `boxes`: optional (N, 4) x1 y1 x2 y2 person boxes to use instead of running the detector.
        """
        image = HWC3(image)
        height, width = image.shape[:2]
        if boxes is None:
            boxes, box_scores = self.detector(image)
        else:
            boxes = _checked_boxes(boxes)
            box_scores = np.ones(len(boxes), dtype=np.float32)
        if len(boxes) == 0 and self.fallback_whole_image:
            boxes, box_scores = np.array([[0.0, 0.0, width, height]]), np.zeros(1, dtype=np.float32)
        if len(boxes) == 0:
            return Poses(np.zeros((0, 134, 2)), np.zeros((0, 134), np.float32), np.zeros((0, 4), np.float32),
                         np.zeros(0, np.float32), width, height)
        keypoints, scores = self.pose_model(image, boxes)
        if keypoints.shape[1] == BODY_ONLY:
            keypoints = np.concatenate([keypoints, np.zeros((len(boxes), NUM_COCO - BODY_ONLY, 2))], axis=1)
            scores = np.concatenate([scores, np.zeros((len(boxes), NUM_COCO - BODY_ONLY), scores.dtype)], axis=1)
        keypoints, scores = coco_to_openpose(keypoints, scores)
        return Poses(keypoints, scores, boxes.astype(np.float32), box_scores.astype(np.float32), width, height)

    def annotate(
        self,
        image,
        detect_resolution: int = 512,
        image_resolution: int = 512,
        include_body: bool = True,
        include_hand: bool = True,
        include_face: bool = True,
        include_foot: bool = False,
        threshold: float = THRESHOLD,
        stick_width: int = STICK_WIDTH,
    ) -> tuple[np.ndarray, Poses]:
        """The pose map (uint8 RGB at the image_resolution size) and the poses it shows (in pixels of
        the detect_resolution canvas, as sd-webui-controlnet exports them)."""
        image = HWC3(image)
        detect_image = resize_image(image, detect_resolution)
        poses = self.detect(detect_image)
        canvas = draw_poses(poses, include_body, include_hand, include_face, include_foot, threshold, stick_width)
        out_h, out_w = resized_shape(image.shape[0], image.shape[1], image_resolution)
        return cv2.resize(canvas, (out_w, out_h), interpolation=cv2.INTER_LINEAR), poses

    def __call__(
        self,
        image=None,
        detect_resolution: int = 512,
        image_resolution: int = 512,
        output_type: str | None = "pil",
        include_body: bool = True,
        include_hand: bool = True,
        include_face: bool = True,
        include_foot: bool = False,
        threshold: float = THRESHOLD,
        stick_width: int = STICK_WIDTH,
        *,
        image_and_json: bool = False,
        **controlnet_aux_names,
    ):
        """The pose map of `image` as a PIL image (output_type="pil") or a uint8 array ("np").

        A list (or tuple) of images, e.g. the frames of a video, gives a list of pose maps, one per
        frame, ready to be the `image=` of a diffusers ControlNet pipeline.

        controlnet_aux spellings work too: `input_image=` for `image`, `hand_and_face=` for include_hand
        and include_face, `return_pil=`, and output_type=None (a PIL image in gives PIL out, an array
        gives an array). `image_and_json=True` gives (pose map, OpenPose JSON dict) per image, the
        keypoints in pixels of the detect_resolution canvas.
        """
        image, output_type, include_hand, include_face = _controlnet_aux_arguments(
            image, output_type, include_hand, include_face, controlnet_aux_names)
        if output_type not in ("pil", "np"):
            raise ValueError(f"output_type must be 'pil' or 'np', got {output_type!r}")
        options = (detect_resolution, image_resolution, include_body, include_hand, include_face, include_foot,
                   threshold, stick_width)
        if isinstance(image, (list, tuple)):
            return [self._pose_map(frame, output_type, options, image_and_json) for frame in image]
        return self._pose_map(image, output_type, options, image_and_json)

    def to(self, device) -> "DWposeDetector":
        """controlnet_aux compatibility (`.from_pretrained(...).to("cuda")`): returns the detector
        unchanged. The onnxruntime providers are chosen when it is made (`providers=`; by default CUDA,
        CoreML or DirectML when the installed onnxruntime has them, then the CPU)."""
        return self

    def _pose_map(self, image, output_type: str, options: tuple, with_json: bool = False):
        canvas, poses = self.annotate(image, *options)
        pose_map = Image.fromarray(canvas) if output_type == "pil" else canvas
        return (pose_map, poses.to_openpose_json(options[6])) if with_json else pose_map


def _controlnet_aux_arguments(image, output_type, include_hand, include_face, names: dict):
    """The argument names controlnet_aux and comfyui_controlnet_aux users pass, in our terms."""
    names = dict(names)
    if "input_image" in names:
        if image is not None:
            raise TypeError("the image was given twice: as `image` and as `input_image`")
        image = names.pop("input_image")
    hand_and_face = names.pop("hand_and_face", None)
    if hand_and_face is not None:
        include_hand = include_face = bool(hand_and_face)
    if "return_pil" in names:
        output_type = "pil" if names.pop("return_pil") else "np"
    if names:
        raise TypeError(f"DWposeDetector() got unexpected keyword argument(s): {', '.join(sorted(names))}")
    if output_type is None:
        first = image[0] if isinstance(image, (list, tuple)) and len(image) else image
        output_type = "np" if isinstance(first, np.ndarray) else "pil"
    return image, output_type, include_hand, include_face


def _checked_boxes(boxes) -> np.ndarray:
    try:
        array = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    except (TypeError, ValueError) as err:
        raise ValueError(f"boxes must be an (N, 4) array of x1, y1, x2, y2; got {boxes!r}") from err
    if not np.isfinite(array).all():
        raise ValueError("boxes must be finite numbers")
    # Swapped corners are taken as the box they span.
    return np.concatenate([np.minimum(array[:, :2], array[:, 2:]), np.maximum(array[:, :2], array[:, 2:])], axis=1)
