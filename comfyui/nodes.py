"""ComfyUI nodes: "DWPose Estimator (dwpose-annotator)": IMAGE in, pose map IMAGE and POSE_KEYPOINT out; "Render
POSE_KEYPOINT (dwpose-annotator)": POSE_KEYPOINT or POSEDATA in, pose maps out (RenderPoseKeypoint).

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


NODE_CLASS_MAPPINGS = {"DWPoseAnnotator": DWPosePreprocessor, "DWPoseAnnotatorRender": RenderPoseKeypoint}
NODE_DISPLAY_NAME_MAPPINGS = {"DWPoseAnnotator": "DWPose Estimator (dwpose-annotator)",
                              "DWPoseAnnotatorRender": "Render POSE_KEYPOINT (dwpose-annotator)"}
