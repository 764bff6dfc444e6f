"""ComfyUI nodes: "DWPose Estimator (dwpose-annotator)": IMAGE in, pose map IMAGE and POSE_KEYPOINT out; "Render
POSE_KEYPOINT (dwpose-annotator)": POSE_KEYPOINT or POSEDATA in, pose maps out (RenderPoseKeypoint); "Wan Animate
Inputs (dwpose-annotator)": driving frames and a reference in, ComfyUI's WanAnimateToVideo inputs out
(WanAnimatePreprocessor).

Installed by cloning the repository into ComfyUI/custom_nodes (the repository's __init__.py loads this
folder), or by a symlink of this folder. Our package is loaded from this repository (this file's real path,
symlinks followed: <repo>/comfyui/ -> <repo>/annotator/), or from an installed dwpose-annotator, under a
private module name (annotator/dwpose/private_import.py), so it never collides with another custom node's
`annotator`.

IMAGE is a float tensor [B, H, W, C] in 0..1 (ComfyUI's convention); each frame is detected after
ControlNet's resize to `resolution` (or at its own size with detect_at_input_size), and its pose map comes
as comfyui_controlnet_aux's DWPose Estimator gives it (1.1.5, e8b689a: node_wrappers/dwpose.py,
src/custom_controlnet_aux/dwpose/__init__.py and util.py), so that the two packs' nodes mix:
- the map keeps the frame's aspect ratio, shorter side `resolution` (a 736x1128 frame gives 512x785); drawn
  at the frame's size (detect_at_input_size) it is resized as there, INTER_AREA down and INTER_CUBIC up;
- a frame with nobody gives a black map and no people (fallback_whole_image: the DWPose reference's
  whole-frame person instead);
- bbox_detector "None": no detector, the whole frame is one person (anime, stylised images);
- the output is also shown in the UI and kept in /history as `openpose_json`.
Frames are converted and processed one at a time, with ComfyUI's Cancel checked between them.

POSE_KEYPOINT is what comfyui_controlnet_aux's DWPose node outputs: a list with one OpenPose JSON dict per
frame, keypoints in pixels of the input frame (formats/comfyui.py); with detect_body off its body points
are zeros, with detect_hand / detect_face off those parts are None, and with detect_foot on the feet are
added as "foot_keypoints_2d".
"""

import importlib.machinery
import json
import os
import runpy
import sys
import threading

import numpy as np


def _is_our_package(folder) -> bool:
    return bool(folder) and all(os.path.isfile(os.path.join(folder, name))
                                for name in ("__init__.py", "pipeline.py", "private_import.py"))


def _package_dir() -> str:
    """The `annotator/dwpose` folder of dwpose-annotator: next to this node's real folder, else installed."""
    here = os.path.dirname(os.path.realpath(__file__))
    beside = os.path.join(os.path.dirname(here), "annotator", "dwpose")
    if _is_our_package(beside):
        return beside
    # An installed dwpose-annotator; looked up without importing it or reading sys.modules, where
    # another custom node may have put a different `annotator`.
    for finder in [importlib.machinery.PathFinder, *sys.meta_path]:
        find_spec = getattr(finder, "find_spec", None)
        try:
            spec = find_spec("annotator", None) if find_spec else None
        except (ImportError, ValueError, TypeError):
            spec = None
        for location in (spec.submodule_search_locations or []) if spec else []:
            if _is_our_package(os.path.join(location, "dwpose")):
                return os.path.join(location, "dwpose")
    raise ImportError(
        f"dwpose-annotator not found: expected its `annotator/dwpose` package at {beside}. Clone the whole "
        "repository into ComfyUI/custom_nodes (or symlink its comfyui folder there instead of copying it), or "
        "install it with `pip install -e <repo>`."
    )


def _load_dwpose():
    """Our `annotator.dwpose`, under a private top-level name."""
    package_dir = _package_dir()
    return runpy.run_path(os.path.join(package_dir, "private_import.py"))["import_private"](package_dir)


dwpose = _load_dwpose()
STYLES = dwpose.STYLES

_detectors = {}
_detectors_lock = threading.Lock()


def get_detector(bbox_detector=None, pose_estimator=None):
    """The DWposeDetector for these weights; the last one used stays loaded (two ONNX sessions).

    A file name is looked up ($DWPOSE_CKPTS, annotator/ckpts, the Hugging Face cache, a download from
    yzd-v/DWPose); a path is used as it is (the rule of weights.resolve_weights). A wrong file gives a
    ValueError naming the input."""
    no_detector = str(bbox_detector or "").strip().lower() == dwpose.NO_DETECTOR  # the whole frame is one person
    det = bbox_detector if no_detector else _weights_for("bbox_detector", bbox_detector, dwpose.DET_FILENAME)
    pose = _weights_for("pose_estimator", pose_estimator, dwpose.POSE_FILENAME)
    key = (str(det), str(pose))
    with _detectors_lock:
        if key not in _detectors:
            try:
                device = comfy_torch_device()
                detector = dwpose.DWposeDetector(det, pose, **({"backend": "torch", "device": device} if device else {}))
            except dwpose.WeightsError as err:
                which = "bbox_detector" if str(err).startswith(str(det)) else "pose_estimator"
                raise ValueError(f"{which}: {_node_words(err)}") from None
            _detectors.clear()
            _detectors[key] = detector
        return _detectors[key]


def comfy_torch_device():
    """ComfyUI's device (comfy.model_management.get_torch_device()) when it is a GPU the torch backend runs
    on (CUDA, ROCm, MPS): the models then run there through ComfyUI's own torch; else None (onnxruntime)."""
    try:
        import comfy.model_management

        device = comfy.model_management.get_torch_device()
    except Exception:  # outside ComfyUI, or an older one
        return None
    return dwpose.torch_gpu(device)


def _weights_for(input_name, value, default):
    try:
        return dwpose.resolve_weights(value, default)
    except dwpose.WeightsError as err:
        raise ValueError(f"{input_name}: {_node_words(err)}") from None


def _node_words(err) -> str:
    """The library's message, in the node's terms (its inputs are bbox_detector and pose_estimator)."""
    return str(err).replace("as det_model", "as bbox_detector").replace("as pose_model", "as pose_estimator")


def frame_to_uint8(frame) -> np.ndarray:
    """One frame of a ComfyUI IMAGE (float [H, W, C] in 0..1) -> uint8 [H, W, C], rounded so an image that
    came from 8-bit pixels gets exactly those pixels back."""
    import torch  # ComfyUI's; imported where used, so that loading this file needs no torch

    array = np.nan_to_num(frame.detach().to("cpu", torch.float32).numpy(), nan=0.0)
    return np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)


def check_image(image) -> None:
    """ValueError unless `image` is a non-empty ComfyUI IMAGE, float [B, H, W, C] with C = 1, 3 or 4."""
    import torch

    if not isinstance(image, torch.Tensor) or image.ndim != 4 or image.shape[-1] not in (1, 3, 4):
        shape = tuple(image.shape) if hasattr(image, "shape") else type(image).__name__
        raise ValueError(f"IMAGE must be a float tensor [B, H, W, C] with C = 1, 3 or 4; got {shape}")
    if image.shape[0] == 0 or image.shape[1] == 0 or image.shape[2] == 0:
        raise ValueError(f"IMAGE is empty: shape {tuple(image.shape)}")


def frames_to_image(frames) -> "torch.Tensor":  # noqa: F821 (torch is imported where used)
    """uint8 frames [H, W, 3] (all the same size) -> ComfyUI IMAGE, float [B, H, W, 3] in 0..1."""
    import torch

    return torch.from_numpy(np.stack(frames)).to(torch.float32).div_(255.0)


def _comfy_hooks(total):
    """ComfyUI's progress bar and Cancel check when running inside ComfyUI, else no-ops."""
    try:
        import comfy.model_management
        import comfy.utils
    except ImportError:
        return (lambda: None), (lambda: None)
    bar = comfy.utils.ProgressBar(total)
    return comfy.model_management.throw_exception_if_processing_interrupted, (lambda: bar.update(1))


def pose_map(poses, options, height: int, width: int, resolution: int):
    """The map of a frame's poses at comfyui_controlnet_aux's size (the frame's aspect ratio kept, shorter side
    `resolution`): drawn on the canvas the poses are in pixels of; from the frame's own size resized as
    comfyui_controlnet_aux resizes its maps, from the detect canvas as the library resizes its maps; with
    options.draw_at_output_size drawn at that size directly."""
    if (poses.height, poses.width) == (height, width) and not options.draw_at_output_size:
        return dwpose.resize_keeping_aspect(dwpose.draw_poses(poses, options), resolution)
    return dwpose.draw_pose_map(poses, *dwpose.aspect_kept_shape(height, width, resolution), options)


def switched_on(value) -> bool:
    """A BOOLEAN widget, or comfyui_controlnet_aux's "enable" / "disable" combo (its workflows carry those)."""
    return value in (True, "enable")


def _drawing_inputs() -> dict:
    """The optional inputs both nodes draw with, beyond the parts, style and scale_stick_for_xinsr_cn."""
    return {
        "draw_at_output_size": ("BOOLEAN", {"default": False,
                                            "tooltip": "Draw at the map's size (sharp lines, widths in output "
                                                       "pixels) instead of drawing on the keypoints' canvas and "
                                                       "resizing (the reference)"}),
        "stick_rule": (list(dwpose.STICK_RULES), {"default": "fixed",
                                                   "tooltip": "Limb width: fixed (the reference's 4), xinsir "
                                                              "(grows with the map; as scale_stick_for_xinsr_cn), "
                                                              "wan (Wan 2.2 Animate's, from the map's size)"}),
    }


def map_options(parts: dict, style, scale_stick_for_xinsr_cn, draw_at_output_size, stick_rule):
    """The PoseMapOptions of a node's widgets; a contradiction (xinsir's switch with the wan rule) is a
    ValueError naming both inputs."""
    xinsir = switched_on(scale_stick_for_xinsr_cn)
    if xinsir and stick_rule == "wan":
        raise ValueError("scale_stick_for_xinsr_cn is stick_rule 'xinsir': turn it off to use stick_rule 'wan'")
    return dwpose.PoseMapOptions(**parts, style=style, scale_stick_for_xinsr_cn=xinsir, stick_rule=stick_rule,
                                 draw_at_output_size=switched_on(draw_at_output_size))


class DWPosePreprocessor:
    """DWPose whole-body pose map (`dw_openpose_full`) and keypoints of each frame."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE",),
                "detect_body": ("BOOLEAN", {"default": True}),
                "detect_hand": ("BOOLEAN", {"default": True}),
                "detect_face": ("BOOLEAN", {"default": True}),
                "detect_foot": ("BOOLEAN", {"default": False}),
                "resolution": ("INT", {"default": 512, "min": 64, "max": 16384, "step": 64,
                                       "tooltip": "Shorter side of the pose map (the frame's aspect ratio is "
                                                  "kept) and of the image people are detected on"}),
            },
            "optional": {
                "bbox_detector": ("STRING", {"default": dwpose.DET_FILENAME,
                                             "tooltip": "YOLOX or RTMDet ONNX: a file name or a path; None: no "
                                                        "detector, the whole frame is one person (anime, "
                                                        "stylised images)"}),
                "pose_estimator": ("STRING", {"default": dwpose.POSE_FILENAME,
                                              "tooltip": "DWPose/RTMPose SimCC ONNX: a file name or a path"}),
                "style": (list(STYLES), {"default": "controlnet",
                                         "tooltip": "controlnet: the reference renderer; sd-webui-controlnet: "
                                                    "as the web UIs draw (person by person); mimicmotion, "
                                                    "musepose, unianimate, easy-dwpose, vace, wan-animate: as those video "
                                                    "pipelines draw (detect_foot has no effect there)"}),
                "scale_stick_for_xinsr_cn": ("BOOLEAN", {"default": False,
                                                         "tooltip": "Thicker limbs for xinsir's SDXL OpenPose "
                                                                    "ControlNet (as comfyui_controlnet_aux)"}),
                "detect_at_input_size": ("BOOLEAN", {"default": False,
                                                     "tooltip": "Detect on the frame at its own size (more "
                                                                "precise for small hands; slower), as "
                                                                "comfyui_controlnet_aux does"}),
                "tracking": ("BOOLEAN", {"default": False,
                                         "tooltip": "The frames are one video: keep identities (track_id), "
                                                    f"run the person detector every {dwpose.DET_EVERY} frames"}),
                "fallback_whole_image": ("BOOLEAN", {"default": False,
                                                     "tooltip": "A frame with nobody found gives a person the "
                                                                "size of the frame, as the DWPose reference "
                                                                "does (off: a black map and no people, as "
                                                                "comfyui_controlnet_aux)"}),
                **_drawing_inputs(),
            },
        }

    RETURN_TYPES = ("IMAGE", "POSE_KEYPOINT")
    RETURN_NAMES = ("IMAGE", "POSE_KEYPOINT")
    FUNCTION = "estimate_pose"
    CATEGORY = "ControlNet Preprocessors/Faces and Poses Estimators"

    def estimate_pose(self, image, detect_body=True, detect_hand=True, detect_face=True, detect_foot=False,
                      resolution=512, bbox_detector=None, pose_estimator=None, style="controlnet",
                      scale_stick_for_xinsr_cn=False, detect_at_input_size=False, tracking=False,
                      fallback_whole_image=False, draw_at_output_size=False, stick_rule="fixed"):
        check_image(image)
        parts = dict(include_body=switched_on(detect_body), include_hand=switched_on(detect_hand),
                     include_face=switched_on(detect_face), include_foot=switched_on(detect_foot))
        options = map_options(parts, style, scale_stick_for_xinsr_cn, draw_at_output_size, stick_rule)
        detector = get_detector(bbox_detector, pose_estimator)
        check_interrupted, advance = _comfy_hooks(len(image))
        height, width = image.shape[1:3]
        detect_resolution = None if detect_at_input_size else resolution
        fallback = switched_on(fallback_whole_image)

        def frames():  # converted one at a time, Cancel checked before each
            for frame in image:
                check_interrupted()
                yield frame_to_uint8(frame)

        if tracking:
            tracker = dwpose.VideoTracker(detector, dwpose.TrackingOptions(fallback_whole_image=fallback),
                                          detect_resolution=detect_resolution, image_resolution=None)  # maps below
            found = (result.poses for result in tracker.track(frames()))
        else:
            found = (detector.detect(frame, detect_resolution=detect_resolution, fallback_whole_image=fallback)
                     for frame in frames())
        pose_maps, keypoints = [], []
        for poses in found:
            pose_maps.append(pose_map(poses, options, height, width, resolution))
            keypoints.append(poses.to_pose_keypoint(width, height, **parts))
            advance()
        return {"ui": {"openpose_json": [json.dumps(keypoints, indent=4)]},
                "result": (frames_to_image(pose_maps), keypoints)}


class RenderPoseKeypoint:
    """Pose maps drawn from keypoints: a POSE_KEYPOINT (ours, comfyui_controlnet_aux's, the pose editors', as
    they are) or kijai's POSEDATA, one map per frame, with the estimator's styles and switches.

    Size: the optional image's (keypoints scaled from their canvas to it), else the first frame's canvas;
    `resolution` > 0 then sets the shorter side, the aspect ratio kept. Maps are drawn at the canvas size and
    resized, as the estimator's are, or drawn at the output size (draw_at_output_size; stick_rule gives the
    limbs' width there). comfyui_controlnet_aux's "Render Pose JSON (Human)" draws only the first frame; this
    node draws every frame. Points are shown by their confidence against the threshold 0.3 (the estimators'
    1 / 0; real scores, as in POSEDATA, show their confident points)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "render_body": ("BOOLEAN", {"default": True}),
                "render_hand": ("BOOLEAN", {"default": True}),
                "render_face": ("BOOLEAN", {"default": True}),
                "render_foot": ("BOOLEAN", {"default": False}),
                "resolution": ("INT", {"default": 0, "min": 0, "max": 16384, "step": 8,
                                       "tooltip": "Shorter side of the maps, the aspect ratio kept; 0: the "
                                                  "image's size, else the keypoints' canvas size"}),
            },
            "optional": {
                "pose_keypoint": ("POSE_KEYPOINT",),
                "pose_data": ("POSEDATA", {"tooltip": "kijai's POSEDATA (WanAnimatePreprocess), instead of "
                                                      "pose_keypoint"}),
                "image": ("IMAGE", {"tooltip": "Only its size is used: the maps' size"}),
                "style": (list(STYLES), {"default": "controlnet"}),
                "scale_stick_for_xinsr_cn": ("BOOLEAN", {"default": False}),
                **_drawing_inputs(),
            },
        }

    RETURN_TYPES = ("IMAGE", "POSE_KEYPOINT")
    RETURN_NAMES = ("IMAGE", "POSE_KEYPOINT")
    FUNCTION = "render"
    CATEGORY = "ControlNet Preprocessors/Faces and Poses Estimators"

    def render(self, render_body=True, render_hand=True, render_face=True, render_foot=False, resolution=0,
               pose_keypoint=None, pose_data=None, image=None, style="controlnet", scale_stick_for_xinsr_cn=False,
               draw_at_output_size=False, stick_rule="fixed"):
        value = pose_data if pose_keypoint is None else pose_keypoint
        if value is None:
            raise ValueError("connect pose_keypoint (POSE_KEYPOINT) or pose_data (POSEDATA)")
        try:
            frames = dwpose.read_pose_frames(value)
        except dwpose.PoseFormatError as err:
            raise ValueError(f"{'pose_keypoint' if pose_keypoint is not None else 'pose_data'}: {err}") from None
        if not frames:
            raise ValueError("pose_keypoint has no frames")
        parts = dict(include_body=switched_on(render_body), include_hand=switched_on(render_hand),
                     include_face=switched_on(render_face), include_foot=switched_on(render_foot))
        options = map_options(parts, style, scale_stick_for_xinsr_cn, draw_at_output_size, stick_rule)
        if image is not None:
            check_image(image)
            height, width = image.shape[1:3]
        else:
            height, width = frames[0].height, frames[0].width
        if resolution:
            height, width = dwpose.aspect_kept_shape(height, width, resolution)
        check_interrupted, advance = _comfy_hooks(len(frames))
        maps, keypoints = [], []
        for poses in frames:
            check_interrupted()
            maps.append(dwpose.draw_pose_map(poses, height, width, options))
            keypoints.append(poses.to_pose_keypoint(width, height, **parts))
            advance()
        return (frames_to_image(maps), keypoints)


# ------------------------------------------------------------------------------------ Wan 2.2 Animate's inputs

# The body points the official replacement mode prompts SAM2 with (process_pipepline.py get_mask; kijai's
# PoseAndFaceDetection key_frame_body_points): nose, neck, right / left shoulder, right / left hip, right / left
# ankle, in the OpenPose-18 order that Wan's body and ours share.
KEY_BODY_POINTS = (0, 1, 2, 5, 8, 11, 10, 13)
NO_BOX = (0, 0, 0, 0)  # a frame without the main person (kijai's node gives it where its detector found nobody)


def _checked_image(name, image) -> None:
    """check_image, its message naming the input."""
    try:
        check_image(image)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None


def _input_named(err: ValueError):
    """The node input a ValueError of wan_animate_inputs is about (official mode's models, the reference's
    person for retargeting), or None."""
    message = str(err)
    if "person detector" in message:
        return "bbox_detector"
    if "pose model" in message or "ViTPose" in message:
        return "pose_estimator"
    if "reference image" in message:
        return "reference_image"
    return None


class _WatchedDetector:
    """The DWposeDetector with ComfyUI's Cancel checked before each of its detections and the progress bar moved
    after them (at most `frames` ticks): the tracker calls detect once a frame, twice where it re-detects.
    Everything else is the detector's own (official mode takes its two models from it)."""

    def __init__(self, detector, check_interrupted, advance, frames: int):
        self._detector, self._check, self._advance, self._left = detector, check_interrupted, advance, frames

    def __getattr__(self, name):
        return getattr(self._detector, name)

    def detect(self, *args, **kwargs):
        self._check()
        poses = self._detector.detect(*args, **kwargs)
        if self._left > 0:
            self._left -= 1
            self._advance()
        return poses

    def finish(self) -> None:
        """The ticks left (official mode runs its models directly, without detect)."""
        while self._left > 0:
            self._left -= 1
            self._advance()


def _person_index(poses, track_id):
    """The index of track `track_id` among a frame's poses, or None."""
    if track_id is None or poses.track_ids is None:
        return None
    where = np.flatnonzero(np.asarray(poses.track_ids) == track_id)
    return int(where[0]) if len(where) else None


def person_box(poses, track_id, width: int, height: int) -> tuple:
    """The person's box (x1, y1, x2, y2) in pixels of the width x height frame, clipped to it, ints (truncated,
    as kijai's bboxes); NO_BOX where that person is not in the frame."""
    index = _person_index(poses, track_id)
    if index is None:
        return NO_BOX
    x1, y1, x2, y2 = poses.in_pixels_of(width, height).boxes[index].tolist()
    return (int(min(max(x1, 0), width)), int(min(max(y1, 0), height)), int(min(max(x2, 0), width)),
            int(min(max(y2, 0), height)))


def key_frame_body_points(all_poses, track_id, width: int, height: int) -> list:
    """SAM2's positive points ([{"x", "y"}], pixels of the frame, ints) for the main person: the KEY_BODY_POINTS
    of the first frame the person is in (frame 0 unless nobody is there: the frame kijai's Sam2Segmentation
    prompts in video mode), those shown (score over the threshold) and inside the frame; the centre of the
    person's box where none is. [] when nobody was found in any frame."""
    for poses in all_poses:
        index = _person_index(poses, track_id)
        if index is None:
            continue
        in_frame = poses.in_pixels_of(width, height)
        shown = in_frame.visible()[index]
        points = []
        for k in KEY_BODY_POINTS:
            x, y = in_frame.exact_keypoints[index, k]
            if shown[k] and 0 <= x < width and 0 <= y < height:
                points.append({"x": int(x), "y": int(y)})
        if not points:
            x1, y1, x2, y2 = person_box(poses, track_id, width, height)
            points.append({"x": (x1 + x2) // 2, "y": (y1 + y2) // 2})
        return points
    return []


class WanAnimatePreprocessor:
    """Wan 2.2 Animate's inputs for ComfyUI's native WanAnimateToVideo (comfy_extras/nodes_wan.py) from the driving
    frames and a reference image, as the official preprocessing makes them (dwpose.wan_animate_inputs, animation
    mode):
    - pose_images -> pose_video: each frame's chosen people drawn as Wan draws them, fitted (black bars) into the
      reference's size; with retarget, drawn on the reference's proportions;
    - face_images -> face_video: the main person's (the first one seen) face, 512 x 512 per frame;
    - reference_image -> reference_image (and CLIP Vision Encode -> clip_vision_output): the reference resized
      into width x height pixels' area, sides multiples of 16, its aspect ratio kept (resize_by_area). pose_images
      have this size too; set WanAnimateToVideo's width / height to it (Get Image Size), as it crops both to its
      own width / height otherwise (the same crop for both, so they stay aligned);
    - pose_keypoint: each frame's people (track_id kept) as POSE_KEYPOINT, in pixels of the frame, every part;
    - bboxes / face_bboxes: per frame the main person's box and face box (x1, y1, x2, y2), ints in pixels of the
      frame, (0, 0, 0, 0) where that person is not there (official: Pose2d's box, the whole frame where Wan's
      detector finds nobody); kijai's Sam2Segmentation (video) prompts frame 0 with bboxes[0];
    - key_frame_body_points: JSON [{"x", "y"}, ...] as kijai's PoseAndFaceDetection gives it, for SAM2's
      coordinates_positive: the main person's nose, neck, shoulders, hips and ankles in the first frame they are
      in (frame 0, where SAM2 prompts, when someone is there), only those shown and inside the frame.

    Replacement mode (background_video, character_mask) is not made here: prompt a SAM2 node with bboxes /
    key_frame_body_points on the same frames; its MASK (1 = the character, regenerated; 0 = kept) goes to
    character_mask, the frames with that mask blacked out to background_video.

    The frames are used as they are (no frame-rate sampling: load the video at the rate you generate, 30 fps as
    the official) and detected at their own size. official: Wan's own steps (its YOLOv10 detector on every frame,
    its largest person, ViTPose): pass yolov10m.onnx as bbox_detector and vitpose_h_wholebody.onnx as
    pose_estimator (Wan-AI/Wan2.2-Animate-14B process_checkpoint); other models are a ValueError. Otherwise people
    are tracked (the detector every det_every frames) and `people` chooses whom to draw. Cancel is checked
    between frames while they are converted and before each detection (in official mode only while they are
    converted)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The driving video's frames, used as they are (load it at the "
                                                "frame rate you generate; the official samples to 30 fps)"}),
                "reference_image": ("IMAGE", {"tooltip": "The character; the first image of the batch is used"}),
                "width": ("INT", {"default": 832, "min": 64, "max": 16384, "step": 16,
                                  "tooltip": "Generation width: the reference (and the pose frames) are resized "
                                             "into width x height pixels' area, aspect ratio kept, sides "
                                             "multiples of 16 (the official resolution_area)"}),
                "height": ("INT", {"default": 480, "min": 64, "max": 16384, "step": 16,
                                   "tooltip": "Generation height (see width)"}),
            },
            "optional": {
                "bbox_detector": ("STRING", {"default": dwpose.DET_FILENAME,
                                             "tooltip": "Person detector ONNX (YOLOX, RTMDet, YOLO): a file name or "
                                                        "a path; with official: Wan's yolov10m.onnx"}),
                "pose_estimator": ("STRING", {"default": dwpose.POSE_FILENAME,
                                              "tooltip": "Pose model ONNX (DWPose/RTMPose, ViTPose): a file name or a "
                                                         "path; with official: Wan's vitpose_h_wholebody.onnx"}),
                "official": ("BOOLEAN", {"default": False,
                                         "tooltip": "Wan's own per-frame steps: its detector on every frame, the "
                                                    "largest person, ViTPose (needs Wan's two models)"}),
                "retarget": ("BOOLEAN", {"default": False,
                                         "tooltip": "Map the driving poses onto the reference's proportions "
                                                    "(the official --retarget_flag)"}),
                "people": ("STRING", {"default": "largest",
                                      "tooltip": "Whom to draw: largest (the official's one person), center, all, "
                                                 "or track ids such as 1,3 (see pose_keypoint's track_id); not "
                                                 "used with official (Wan's largest person)"}),
                "det_every": ("INT", {"default": dwpose.DET_EVERY, "min": 1, "max": 10000,
                                      "tooltip": "Run the person detector every this many frames; people are "
                                                 "tracked in between (1: every frame; not used with official)"}),
                "draw_body": ("BOOLEAN", {"default": True}),
                "draw_hand": ("BOOLEAN", {"default": True}),
                "draw_face": ("BOOLEAN", {"default": True,
                                          "tooltip": "The head's points (nose, eyes, ears), as DrawViTPose's "
                                                     "draw_head; Wan draws no face points"}),
            },
        }

    RETURN_TYPES = ("IMAGE", "IMAGE", "IMAGE", "POSE_KEYPOINT", "BBOX", "BBOX", "STRING")
    RETURN_NAMES = ("pose_images", "face_images", "reference_image", "pose_keypoint", "bboxes", "face_bboxes",
                    "key_frame_body_points")
    FUNCTION = "prepare"
    CATEGORY = "WanAnimatePreprocess"

    def prepare(self, images, reference_image, width=832, height=480, bbox_detector=None, pose_estimator=None,
                official=False, retarget=False, people="largest", det_every=dwpose.DET_EVERY, draw_body=True,
                draw_hand=True, draw_face=True):
        _checked_image("images", images)
        _checked_image("reference_image", reference_image)
        options = dwpose.PoseMapOptions(include_body=switched_on(draw_body), include_hand=switched_on(draw_hand),
                                        include_face=switched_on(draw_face))
        detector = get_detector(bbox_detector, pose_estimator)
        count = len(images)
        check_interrupted, advance = _comfy_hooks(2 * count)  # the frames converted, then detected
        frames = []
        for frame in images:
            check_interrupted()
            frames.append(frame_to_uint8(frame))
            advance()
        watched = _WatchedDetector(detector, check_interrupted, advance, count)
        try:
            inputs = dwpose.wan_animate_inputs(watched, frames, frame_to_uint8(reference_image[0]),
                                               resolution_area=(int(width), int(height)), people=people,
                                               det_every=int(det_every), official=switched_on(official),
                                               retarget=switched_on(retarget), options=options)
        except ValueError as err:
            name = _input_named(err)
            if name is None:
                raise
            raise ValueError(f"{name}: {err}") from None
        watched.finish()
        frame_height, frame_width = images.shape[1:3]
        main = inputs.main_person
        boxes = [person_box(poses, main, frame_width, frame_height) for poses in inputs.poses]
        face_boxes = [NO_BOX if box is None else tuple(int(v) for v in box)
                      for box in inputs.face_boxes.get(main, [None] * len(inputs.poses))]
        keypoints = [poses.to_pose_keypoint(frame_width, frame_height) for poses in inputs.poses]
        points = key_frame_body_points(inputs.poses, main, frame_width, frame_height)
        return (frames_to_image(inputs.pose_frames), frames_to_image(inputs.main_faces()),
                frames_to_image([inputs.reference]), keypoints, boxes, face_boxes, json.dumps(points))


NODE_CLASS_MAPPINGS = {"DWPoseAnnotator": DWPosePreprocessor, "DWPoseAnnotatorRender": RenderPoseKeypoint,
                       "DWPoseAnnotatorWanAnimate": WanAnimatePreprocessor}
NODE_DISPLAY_NAME_MAPPINGS = {"DWPoseAnnotator": "DWPose Estimator (dwpose-annotator)",
                              "DWPoseAnnotatorRender": "Render POSE_KEYPOINT (dwpose-annotator)",
                              "DWPoseAnnotatorWanAnimate": "Wan Animate Inputs (dwpose-annotator)"}
