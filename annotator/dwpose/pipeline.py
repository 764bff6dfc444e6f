"""DWposeDetector: the `dw_openpose_full` pipeline. Frames in -> people found (a person detector, models/) ->
poses (the SimCC pose model, in the OpenPose layout of skeleton.py) -> drawn (render/) or exported (formats/).

Each stage is a public method, so that other flows compose them: find_people(), estimate_poses(), detect()
(both, with ControlNet's resize when asked), annotate() (detect and draw), track() (a video, through
video.VideoTracker), and __call__ (controlnet_aux's call forms).
"""

from __future__ import annotations

import os
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from .images import HWC3, resize_for_detection, resized_shape
from .models import WholeImage, load_person_detector, load_pose_model, means_whole_image
from .poses import Poses
from .render import PoseMapOptions, draw_pose_map
from .runtime import choose_runtime
from .skeleton import coco_to_openpose, pad_to_whole_body
from .video.tracker import DET_EVERY, TrackedFrame, TrackingOptions, VideoTracker
from .weights import DET_FILENAME, HF_REPO_ID, POSE_FILENAME, resolve_weights


class DWposeDetector:
    """The `dw_openpose_full` annotator.

    >>> detector = DWposeDetector.from_pretrained()
    >>> pose_map = detector(image)             # PIL image at image_resolution
    >>> poses = detector.detect(image)         # keypoints in pixels of `image`
    >>> pose_map, poses = detector.annotate(image, detect_resolution=512, image_resolution=512)

    Attributes: `detector` (the person detector: YOLOX or RTMDet), `pose_model` (RTMPose), `runtime` (how
    they run: backend, device, providers, precision), `fallback_whole_image`.
    """

    def __init__(
        self,
        det_model: str | os.PathLike | None = None,
        pose_model: str | os.PathLike | None = None,
        providers: Sequence | None = None,
        *,
        precision: str = "fp32",
        backend: str | None = None,
        device=None,
        fallback_whole_image: bool = True,
        det_threshold: float | None = None,
        search_dirs: Sequence[str | os.PathLike] = (),
    ):
        """`det_model`, `pose_model`: ONNX files, each a path or a file name (see weights.resolve_weights);
        None means yolox_l.onnx and dw-ll_ucoco_384.onnx, looked up in $DWPOSE_CKPTS, `search_dirs`,
        annotator/ckpts, then the Hugging Face repo yzd-v/DWPose. det_model="none": no person detector,
        the whole image is one person (for anime and stylised images where person detectors fail).

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

        Raises WeightsError for a missing or wrong weight file, ValueError for a bad option, and
        MissingDependencyError (an ImportError) when the backend asked for is not installed.
        """
        whole_image = means_whole_image(det_model)
        det_path = None if whole_image else resolve_weights(det_model, DET_FILENAME, search_dirs=search_dirs)
        pose_path = resolve_weights(pose_model, POSE_FILENAME, search_dirs=search_dirs)
        runtime = choose_runtime(providers, precision, backend, device)
        self._made_with = dict(det_model=det_model if whole_image else det_path, pose_model=pose_path,
                               precision=runtime.precision, backend=runtime.backend,
                               fallback_whole_image=fallback_whole_image, det_threshold=det_threshold)  # for to()
        self.detector = WholeImage() if whole_image else load_person_detector(det_path, runtime, det_threshold)
        self.pose_model = load_pose_model(pose_path, runtime)
        self.runtime = runtime
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
        providers: Sequence | None = None,
        search_dirs: Sequence[str | os.PathLike] = (),
        **kwargs,
    ) -> "DWposeDetector":
        """Weights from a local folder, or by file name from $DWPOSE_CKPTS, `search_dirs`, annotator/ckpts,
        or the Hugging Face repo (downloaded once into the hub cache; HF_HUB_OFFLINE=1 forbids downloads).
        A file name of None means the default (yolox_l.onnx, dw-ll_ucoco_384.onnx); a path is used as it is.
        `kwargs`: the other arguments of DWposeDetector (precision, backend, device, ...)."""
        if os.path.isdir(pretrained_model_or_path):
            det = os.path.join(pretrained_model_or_path, det_filename or DET_FILENAME)
            pose = os.path.join(pretrained_model_or_path, pose_filename or POSE_FILENAME)
            return cls(det, pose, providers, **kwargs)
        lookup = dict(search_dirs=search_dirs, repo_id=str(pretrained_model_or_path), cache_dir=cache_dir,
                      local_files_only=local_files_only)
        det = resolve_weights(det_filename, DET_FILENAME, **lookup)
        pose = resolve_weights(pose_filename, POSE_FILENAME, **lookup)
        return cls(det, pose, providers, **kwargs)

    # ------------------------------------------------------------------------------------------ the stages

    def find_people(self, image: np.ndarray, det_threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The person detector on `image` (HxWx3 uint8 RGB): boxes (N, 4) x1 y1 x2 y2 in its pixels (float64)
        and scores (N,), best first; `det_threshold`: minimum score for this call (default: the detector's)."""
        return self.detector(image, det_threshold)

    def estimate_poses(self, image: np.ndarray, boxes: np.ndarray, box_scores: np.ndarray | None = None) -> Poses:
        """The pose model on each person box of `image` (HxWx3 uint8 RGB): Poses in its pixels, in the
        OpenPose layout. `boxes`: (N, 4) x1 y1 x2 y2, as find_people gives them; `box_scores`: (N,),
        default 1."""
        height, width = image.shape[:2]
        boxes = _finite_boxes(boxes)
        box_scores = np.ones(len(boxes), np.float32) if box_scores is None else np.asarray(box_scores)
        if len(boxes) == 0:
            return Poses.empty(width, height)
        keypoints, scores = coco_to_openpose(*pad_to_whole_body(*self.pose_model(image, boxes)))
        return Poses(keypoints, scores, boxes.astype(np.float32), box_scores.astype(np.float32), width, height)

    def detect(self, image, boxes=None, *, det_threshold: float | None = None, detect_resolution: int | None = None,
               fallback_whole_image: bool | None = None) -> Poses:
        """Poses of the people in `image` (a PIL image or a uint8 array: RGB, grey or RGBA).

        `detect_resolution`: None (default) detects on the image as it is, keypoints in its pixels; a number
        resizes it first with ControlNet's rule (shorter side to it, sides to multiples of 64), keypoints in
        pixels of that canvas. `boxes`: (N, 4) x1 y1 x2 y2 person boxes (in pixels of the image detection
        runs on) to use instead of the person detector. `det_threshold`: minimum person score for this
        call (default: the detector's). `fallback_whole_image`: when nobody is found, the whole image as
        one person with box score 0 (default: the detector's setting).
        """
        image = resize_for_detection(HWC3(image), detect_resolution)
        if boxes is None:
            boxes, box_scores = self.find_people(image, det_threshold)
        else:
            boxes, box_scores = _checked_boxes(boxes), None
        fallback = self.fallback_whole_image if fallback_whole_image is None else fallback_whole_image
        if len(boxes) == 0 and fallback:
            height, width = image.shape[:2]
            boxes, box_scores = np.array([[0.0, 0.0, width, height]]), np.zeros(1, dtype=np.float32)
        return self.estimate_poses(image, boxes, box_scores)

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
        """The pose map (HxWx3 uint8 RGB at the image_resolution size) and the poses it shows (in pixels of
        the detect_resolution canvas, as sd-webui-controlnet exports them).

        `detect_resolution`: the image is resized with ControlNet's rule (shorter side to it, sides to
        multiples of 64) before detection; None detects on the image as it is (more precise for small
        hands in big photos; keypoints in its pixels), the map still comes at the image_resolution size.

        `options` (a PoseMapOptions) and any of its fields as keyword arguments (include_body,
        include_hand, include_face, include_foot, threshold, stick_width, style, ...) say what the map shows.
        """
        options = PoseMapOptions.build(options, **map_options)
        rgb = HWC3(image)
        poses = self.detect(rgb, det_threshold=det_threshold, detect_resolution=detect_resolution)
        pose_map = draw_pose_map(poses, *resized_shape(rgb.shape[0], rgb.shape[1], image_resolution), options)
        return pose_map, poses

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
        """Pose maps, as controlnet_aux's detectors are called.

        `image`: one image (PIL or a uint8 array), or a list (or tuple) of images, e.g. the frames of a
        video. What the map shows: `options` and the PoseMapOptions fields as keywords, as in `annotate`.
        controlnet_aux spellings work too: `input_image=` for `image`, `hand_and_face=` for include_hand
        and include_face, `return_pil=`, and output_type=None (a PIL image in gives PIL out, an array gives
        an array).

        Returns, by call form (a pose map is a PIL.Image with output_type="pil", an HxWx3 uint8 array with
        "np", at the image_resolution size):
        - one image: its pose map;
        - a list of images: a list of pose maps, one per image, ready to be the `image=` of a diffusers
          ControlNet pipeline;
        - image_and_json=True: (pose map, OpenPose JSON dict) for one image, a list of them for a list; the
          keypoints in pixels of the detect_resolution canvas;
        - track=True (the frames of one video): a list of pose maps, one per frame, from `track()`
          (identities kept, the detector run every DET_EVERY frames).
        """
        image, output_type, map_options = _controlnet_aux_arguments(image, output_type, keywords)
        if output_type not in ("pil", "np"):
            raise ValueError(f"output_type must be 'pil' or 'np', got {output_type!r}")
        options = PoseMapOptions.build(options, **map_options)

        def returned(pose_map: np.ndarray):
            return Image.fromarray(pose_map) if output_type == "pil" else pose_map

        if track:
            if image_and_json:
                raise TypeError("image_and_json=True with track=True: use detector.track(), whose results carry "
                                "the poses")
            frames = self.track(image, detect_resolution=detect_resolution, image_resolution=image_resolution,
                                options=options, det_threshold=det_threshold)
            return [returned(frame.pose_map) for frame in frames]

        def pose_map(frame):
            canvas, poses = self.annotate(frame, detect_resolution, image_resolution, options=options,
                                          det_threshold=det_threshold)
            return (returned(canvas), poses.to_openpose_json(options.threshold)) if image_and_json else returned(canvas)

        if isinstance(image, (list, tuple)):
            return [pose_map(frame) for frame in image]
        return pose_map(image)

    def track(
        self,
        frames,
        det_every: int = DET_EVERY,
        smooth: bool = False,
        max_people: int | None = None,
        people: str | Sequence[int] | None = None,
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
        """Pose maps of the frames of one video, lazily, one TrackedFrame (index, time, pose_map, poses) per
        frame: video.VideoTracker over this detector, with these video.TrackingOptions.

        `frames`: an iterable of images (PIL or arrays; their times are index / `fps`), or a video file
        path (read with PyAV: its own timestamps, upright). Identities are kept across frames
        (Poses.track_ids). The person detector runs every `det_every` frames; in between, each person's
        box comes from its keypoints on the previous frame, and a person whose keypoint scores collapse (or
        whose keypoints land on another person's) is re-detected at once. On a frame where the detector
        runs, the keypoints equal detect() on that frame bit for bit (before `smooth`). Frames with nobody
        give no people and a black map (the whole-image fallback only with `fallback_whole_image=True`).
        `max_people`: at most that many, biggest first; `people`: "largest", "center" or a list of track ids
        to keep. `smooth`: a One-Euro filter per keypoint (min_cutoff Hz, beta, d_cutoff Hz) driven by the
        frame times. The maps: `options` and PoseMapOptions fields as keywords, as in `annotate`.
        """
        tracking = TrackingOptions(det_every, max_people, people, fallback_whole_image, smooth, min_cutoff, beta,
                                   d_cutoff)
        tracker = VideoTracker(self, tracking, detect_resolution=detect_resolution, image_resolution=image_resolution,
                               options=PoseMapOptions.build(options, **map_options), det_threshold=det_threshold)
        return tracker.track(frames, fps)

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


def _finite_boxes(boxes) -> np.ndarray:
    """`boxes` as a float64 (N, 4) array, or ValueError when they are not N finite quadruples."""
    try:
        array = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    except (TypeError, ValueError) as err:
        raise ValueError(f"boxes must be an (N, 4) array of x1, y1, x2, y2; got {boxes!r}") from err
    if not np.isfinite(array).all():
        raise ValueError("boxes must be finite numbers")
    return array


def _checked_boxes(boxes) -> np.ndarray:
    """Boxes a caller gave, as a float64 (N, 4) array of x1 y1 x2 y2 (swapped corners taken as the box they
    span), or ValueError."""
    array = _finite_boxes(boxes)
    return np.concatenate([np.minimum(array[:, :2], array[:, 2:]), np.maximum(array[:, :2], array[:, 2:])], axis=1)
