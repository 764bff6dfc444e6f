"""DWposeDetector: person detector + SimCC pose model + OpenPose renderer (`dw_openpose_full`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np
from PIL import Image

from .images import HWC3, resize_image, resized_shape
from .poses import NUM_COCO, NUM_COCO_BODY, Poses, coco_to_openpose, pad_to_whole_body
from .render import PoseMapOptions, draw_poses
from .rtmdet import RTMDet
from .rtmpose import RTMPose
from .runtime import choose_runtime, create_session
from .runtime.providers import CPU
from .weights import DET_FILENAME, DET_KIND, HF_REPO_ID, POSE_FILENAME, POSE_KIND, WeightsError, resolve_weights
from .yolox import YOLOX

DET_EVERY = 8  # track(): frames per person-detector run; why 8: README, "Video" (bench/VIDEO_RESULTS.md)
PERSON_DETECTORS = (RTMDet, YOLOX)  # tried in this order: RTMDet's two named outputs are the stricter test


@dataclass
class TrackedFrame:
    """One frame of DWposeDetector.track: its index, time in seconds (None when unknown), the pose map
    (uint8 RGB at the image_resolution size) and the poses it shows (with track_ids, in pixels of the
    detect_resolution canvas)."""

    index: int
    time: float | None
    pose_map: np.ndarray
    poses: Poses


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
        backend: str | None = None,
        device=None,
        fallback_whole_image: bool = True,
        det_threshold: float | None = None,
        search_dirs=(),
    ):
        """`det_model`, `pose_model`: ONNX files, each a path or a file name (see weights.resolve_weights);
        None means yolox_l.onnx and dw-ll_ucoco_384.onnx, looked up in $DWPOSE_CKPTS, `search_dirs`,
        annotator/ckpts, then the Hugging Face repo yzd-v/DWPose.

        `providers`: onnxruntime providers; when given they always run the models. `precision`: "fp32"
        (default) gives the reference's keypoints; the fast modes "bf16" (OpenVINO on CPUs with AMX /
        AVX512-BF16) and "fp16" (TensorRT or CUDA) are several times faster and move a few keypoints by a
        pixel or so; where one cannot run, a PrecisionFallbackWarning says why and fp32 runs.
        `backend`: "onnxruntime", "openvino" or "torch" (the same ONNX files as PyTorch modules, on
        `device`: "cuda", "cuda:N", "mps", "cpu"; default the best torch sees); None (default) takes
        onnxruntime with a GPU provider when one loads, else torch on a GPU when torch sees one, else
        onnxruntime on the CPU (runtime/providers.py).
        `fallback_whole_image`: when no person is detected, run the pose model on the whole image, as the
        reference does. `det_threshold`: default minimum person score (0.3 for YOLOX as in the reference,
        0.35 for RTMDet); each call may give its own.
        """
        det_path = resolve_weights(det_model, DET_FILENAME, search_dirs=search_dirs)
        pose_path = resolve_weights(pose_model, POSE_FILENAME, search_dirs=search_dirs)
        runtime = choose_runtime(providers, precision, backend, device)
        self._made_with = dict(det_model=det_path, pose_model=pose_path, precision=runtime.precision,
                               backend=runtime.backend, fallback_whole_image=fallback_whole_image,
                               det_threshold=det_threshold)  # for to()
        det_session = create_session(det_path, DET_KIND, runtime)
        kind = next((kind for kind in PERSON_DETECTORS if kind.accepts(det_session)), None)
        if kind is None:
            raise WeightsError(f"{det_path}: its inputs/outputs are not those of {DET_KIND}; "
                               "pass a YOLOX or RTMDet ONNX file as det_model")
        self.detector = kind(det_session, det_threshold)
        pose_session = create_session(pose_path, POSE_KIND, runtime, batchable=True)
        if not RTMPose.accepts(pose_session):
            raise WeightsError(f"{pose_path}: its inputs/outputs are not those of {POSE_KIND}; "
                               "pass e.g. dw-ll_ucoco_384.onnx as pose_model")
        # On the CPU in onnxruntime a batch runs no faster per person than one at a time and only takes
        # more memory, so batches stay small there; OpenVINO (bf16), torch and GPUs gain from bigger ones.
        on_cpu = pose_session.get_providers()[0] == CPU
        self.pose_model = RTMPose(pose_session, max_batch=4 if on_cpu else 16)
        self.runtime = runtime
        if self.pose_model.num_keypoints not in (NUM_COCO, NUM_COCO_BODY):
            raise WeightsError(f"{pose_path}: the model predicts {self.pose_model.num_keypoints} keypoints; "
                               f"expected {NUM_COCO} (COCO-WholeBody) or {NUM_COCO_BODY} (COCO body)")
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
        search_dirs=(),
        **kwargs,
    ) -> "DWposeDetector":
        """Weights from a local folder, or by file name from $DWPOSE_CKPTS, `search_dirs`, annotator/ckpts,
        or the Hugging Face repo (downloaded once into the hub cache; HF_HUB_OFFLINE=1 forbids downloads).
        A file name of None means the default (yolox_l.onnx, dw-ll_ucoco_384.onnx); a path is used as it is."""
        if os.path.isdir(pretrained_model_or_path):
            det = os.path.join(pretrained_model_or_path, det_filename or DET_FILENAME)
            pose = os.path.join(pretrained_model_or_path, pose_filename or POSE_FILENAME)
            return cls(det, pose, providers, **kwargs)
        lookup = dict(search_dirs=search_dirs, repo_id=str(pretrained_model_or_path), cache_dir=cache_dir,
                      local_files_only=local_files_only)
        det = resolve_weights(det_filename, DET_FILENAME, **lookup)
        pose = resolve_weights(pose_filename, POSE_FILENAME, **lookup)
        return cls(det, pose, providers, **kwargs)

    def detect(self, image, boxes=None, *, det_threshold: float | None = None) -> Poses:
        """Poses of the people in `image` (no resizing: keypoints in its pixels).

        `boxes`: optional (N, 4) x1 y1 x2 y2 person boxes to use instead of running the detector.
        `det_threshold`: minimum person score for this call (default: the detector's).
        """
        return self._detect(HWC3(image), boxes, det_threshold)

    def annotate(
        self,
        image,
        detect_resolution: int | None = 512,
        image_resolution: int = 512,
        *,
        options: PoseMapOptions | None = None,
        det_threshold: float | None = None,
        **map_options,
    ) -> tuple[np.ndarray, Poses]:
        """The pose map (uint8 RGB at the image_resolution size) and the poses it shows (in pixels of
        the detect_resolution canvas, as sd-webui-controlnet exports them).

        `detect_resolution`: the image is resized with ControlNet's rule (shorter side to it, sides to
        multiples of 64) before detection; None detects on the image as it is (more precise for small
        hands in big photos; keypoints in its pixels), the map still comes at the image_resolution size.

        `options` (a PoseMapOptions) and any of its fields as keyword arguments (include_body,
        include_hand, include_face, include_foot, threshold, stick_width) say what the map shows.
        """
        options = PoseMapOptions.build(options, **map_options)
        image = HWC3(image)
        poses = self._detect(_detect_input(image, detect_resolution), None, det_threshold)
        return _map_at(draw_poses(poses, options), image, image_resolution), poses

    def __call__(
        self,
        image=None,
        detect_resolution: int | None = 512,
        image_resolution: int = 512,
        output_type: str | None = "pil",
        *,
        options: PoseMapOptions | None = None,
        det_threshold: float | None = None,
        image_and_json: bool = False,
        track: bool = False,
        **keywords,
    ):
        """The pose map of `image` as a PIL image (output_type="pil") or a uint8 array ("np").

        What the map shows: `options` and the PoseMapOptions fields as keywords, as in `annotate`.
        A list (or tuple) of images, e.g. the frames of a video, gives a list of pose maps, one per
        frame, ready to be the `image=` of a diffusers ControlNet pipeline.

        controlnet_aux spellings work too: `input_image=` for `image`, `hand_and_face=` for include_hand
        and include_face, `return_pil=`, and output_type=None (a PIL image in gives PIL out, an array
        gives an array). `image_and_json=True` gives (pose map, OpenPose JSON dict) per image, the
        keypoints in pixels of the detect_resolution canvas. `track=True` (frames of one video): the maps
        of `track()`, with identities kept and the detector run every DET_EVERY frames.
        """
        image, output_type, map_options = _controlnet_aux_arguments(image, output_type, keywords)
        if output_type not in ("pil", "np"):
            raise ValueError(f"output_type must be 'pil' or 'np', got {output_type!r}")
        options = PoseMapOptions.build(options, **map_options)

        def pose_map(frame):
            canvas, poses = self.annotate(frame, detect_resolution, image_resolution, options=options,
                                          det_threshold=det_threshold)
            result = Image.fromarray(canvas) if output_type == "pil" else canvas
            return (result, poses.to_openpose_json(options.threshold)) if image_and_json else result

        if track:
            if image_and_json:
                raise TypeError("image_and_json=True with track=True: use detector.track(), whose results carry "
                                "the poses")
            frames = self.track(image, detect_resolution=detect_resolution, image_resolution=image_resolution,
                                options=options, det_threshold=det_threshold)
            return [Image.fromarray(f.pose_map) if output_type == "pil" else f.pose_map for f in frames]
        if isinstance(image, (list, tuple)):
            return [pose_map(frame) for frame in image]
        return pose_map(image)

    def track(
        self,
        frames,
        det_every: int = DET_EVERY,
        smooth: bool = False,
        max_people: int | None = None,
        people=None,
        *,
        detect_resolution: int | None = 512,
        image_resolution: int = 512,
        options: PoseMapOptions | None = None,
        det_threshold: float | None = None,
        fallback_whole_image: bool = False,
        fps: float = 30.0,
        min_cutoff: float = 1.0,
        beta: float = 0.05,
        d_cutoff: float = 1.0,
        **map_options,
    ) -> Iterator[TrackedFrame]:
        """Pose maps of the frames of one video, lazily, one TrackedFrame per frame.

        `frames`: an iterable of images (PIL or arrays; their times are index / `fps`), or a video file
        path (read with PyAV: its own timestamps, upright). Identities are kept across frames
        (Poses.track_ids). The person detector runs every `det_every` frames; in between, each person's
        box comes from its keypoints on the previous frame, and a person whose keypoint scores collapse (or
        whose keypoints land on another person's) is re-detected at once. On a frame where the detector runs, the keypoints equal detect() on that frame
        bit for bit (before `smooth`). Frames with nobody give no people and a black map (the whole-image
        fallback only with `fallback_whole_image=True`). `max_people`: at most that many, biggest first;
        `people`: "largest", "center" or a list of track ids to keep. `smooth`: a One-Euro filter per
        keypoint (min_cutoff Hz, beta, d_cutoff Hz) driven by the frame times.
        """
        from .tracking import PoseSmoother, PoseTracker, collapsed, duplicated, keypoint_boxes, select_people

        if isinstance(det_every, bool) or not isinstance(det_every, (int, np.integer)) or det_every < 1:
            raise ValueError(f"det_every must be a positive integer, got {det_every!r}")
        options = PoseMapOptions.build(options, **map_options)
        tracker, smoother = PoseTracker(), PoseSmoother(min_cutoff, beta, d_cutoff) if smooth else None
        previous = None
        for index, time, image in _timed_frames(frames, fps):
            rgb = HWC3(image)
            detect_image = _detect_input(rgb, detect_resolution)
            size = detect_image.shape[:2]
            poses = None
            if previous is not None and len(previous) and index % det_every and (previous.height, previous.width) == size:
                poses = self._detect(detect_image, keypoint_boxes(previous), None, fallback=False)
                poses.box_scores[:] = previous.box_scores
                if collapsed(poses).any() or duplicated(poses):
                    poses = None
            if poses is None:
                poses = self._detect(detect_image, None, det_threshold, fallback=fallback_whole_image)
            poses.track_ids = tracker.assign(poses)
            previous = poses
            shown = poses.subset(select_people(poses, max_people, people))
            if smoother is not None:
                shown = smoother(shown, time if time is not None else index / fps)
            yield TrackedFrame(index, time, _map_at(draw_poses(shown, options), rgb, image_resolution), shown)

    def to(self, device) -> "DWposeDetector":
        """controlnet_aux compatibility (`.from_pretrained(...).to("cuda")`). On the torch backend, the
        models move to `device` (a new detector over the same files); otherwise the detector is returned
        unchanged, since the onnxruntime providers are chosen when it is made (`providers=`, `device=`)."""
        if self.runtime.backend != "torch":
            return self
        from .runtime.torch_session import checked_device

        if checked_device(device) == self.runtime.device:
            return self
        return DWposeDetector(**{**self._made_with, "device": device})

    def _detect(self, image: np.ndarray, boxes, det_threshold, fallback: bool | None = None) -> Poses:
        """detect() for an RGB uint8 array (`fallback`: the whole-image box when nobody is found; default
        the detector's fallback_whole_image)."""
        height, width = image.shape[:2]
        if boxes is None:
            boxes, box_scores = self.detector(image, det_threshold)
        else:
            boxes = _checked_boxes(boxes)
            box_scores = np.ones(len(boxes), dtype=np.float32)
        if len(boxes) == 0 and (self.fallback_whole_image if fallback is None else fallback):
            boxes, box_scores = np.array([[0.0, 0.0, width, height]]), np.zeros(1, dtype=np.float32)
        if len(boxes) == 0:
            return Poses.empty(width, height)
        keypoints, scores = coco_to_openpose(*pad_to_whole_body(*self.pose_model(image, boxes)))
        return Poses(keypoints, scores, boxes.astype(np.float32), box_scores.astype(np.float32), width, height)


def _detect_input(rgb: np.ndarray, detect_resolution: int | None) -> np.ndarray:
    """The image detection runs on: ControlNet's resize to `detect_resolution`, or the image itself (None)."""
    return rgb if detect_resolution is None else resize_image(rgb, detect_resolution)


def _map_at(canvas: np.ndarray, rgb: np.ndarray, image_resolution: int) -> np.ndarray:
    """The pose map drawn on the detect canvas, resized (INTER_LINEAR) to the image_resolution size of `rgb`."""
    out_h, out_w = resized_shape(rgb.shape[0], rgb.shape[1], image_resolution)
    return cv2.resize(canvas, (out_w, out_h), interpolation=cv2.INTER_LINEAR)


def _timed_frames(frames, fps: float):
    """(index, time in seconds or None, image) for a video path or an iterable of images."""
    if isinstance(frames, (str, os.PathLike)):
        from .video import read_video

        for frame in read_video(frames):
            yield frame.index, frame.time, frame.image
        return
    if isinstance(frames, Image.Image) or (isinstance(frames, np.ndarray) and frames.ndim <= 3):
        raise TypeError("track() takes the frames of a video (an iterable of images) or a video file path, "
                        "not a single image; use detect() or annotate() for one image")
    for index, frame in enumerate(frames):
        if hasattr(frame, "image") and hasattr(frame, "time"):  # video.VideoFrame: its own index and time
            yield frame.index, frame.time, frame.image
        else:
            yield index, index / fps, frame


def _controlnet_aux_arguments(image, output_type, keywords: dict):
    """The argument names controlnet_aux and comfyui_controlnet_aux users pass, in our terms:
    (image, output_type, the pose map options among `keywords`)."""
    keywords = dict(keywords)
    if "input_image" in keywords:
        if image is not None:
            raise TypeError("the image was given twice: as `image` and as `input_image`")
        image = keywords.pop("input_image")
    hand_and_face = keywords.pop("hand_and_face", None)
    if hand_and_face is not None:
        keywords["include_hand"] = keywords["include_face"] = bool(hand_and_face)
    if "return_pil" in keywords:
        output_type = "pil" if keywords.pop("return_pil") else "np"
    unknown = sorted(set(keywords) - set(PoseMapOptions.field_names()))
    if unknown:
        raise TypeError(f"DWposeDetector() got unexpected keyword argument(s): {', '.join(unknown)}")
    if output_type is None:
        first = image[0] if isinstance(image, (list, tuple)) and len(image) else image
        output_type = "np" if isinstance(first, np.ndarray) else "pil"
    return image, output_type, keywords


def _checked_boxes(boxes) -> np.ndarray:
    try:
        array = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    except (TypeError, ValueError) as err:
        raise ValueError(f"boxes must be an (N, 4) array of x1, y1, x2, y2; got {boxes!r}") from err
    if not np.isfinite(array).all():
        raise ValueError("boxes must be finite numbers")
    # Swapped corners are taken as the box they span.
    return np.concatenate([np.minimum(array[:, :2], array[:, 2:]), np.maximum(array[:, :2], array[:, 2:])], axis=1)
