"""The ComfyUI custom node in comfyui/, loaded and called the way ComfyUI does (ComfyUI itself is not needed).

ComfyUI (v0.3.x nodes.py, load_custom_node) imports custom_nodes/<folder>/__init__.py under the folder's
path with its dots replaced by "_x_", reads NODE_CLASS_MAPPINGS, asks the class for INPUT_TYPES,
instantiates it and calls its FUNCTION with keyword arguments: IMAGE is a float tensor [B, H, W, C] in 0..1
(LoadImage makes it as uint8 pixels / 255); a dict returned gives its "result" as the outputs and its "ui"
to the front end and /history (execution.py, get_output_data). The semantics are those of
comfyui_controlnet_aux's DWPose Estimator, read from its code (1.1.5, commit e8b689a): node_wrappers/dwpose.py,
utils.py common_annotator_call, src/custom_controlnet_aux/dwpose/__init__.py DwposeDetector.__call__ and
util.py resize_image_with_pad.

Stand-in models (the crowd detector, which finds the six CROWD_BOXES_416 people in any image, and a random
pose model) and the synthetic crowd image: no ../shared needed.
"""

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types

import cv2

import numpy as np
import pytest
from PIL import Image

from annotator.dwpose import DWposeDetector, draw_poses
from conftest import CROWD_BOXES_416, REPO

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.requires_torch

NODE_ID = "DWPoseAnnotator"
FOLDER = "dwpose_annotator"  # the name of the symlink in custom_nodes


def load_custom_node(module_path):
    """What ComfyUI's nodes.load_custom_node does with a custom node folder: its __init__.py as a module named
    after the folder's path with "." replaced by "_x_", put in sys.modules before it runs."""
    module_name = str(module_path).replace(".", "_x_")
    spec = importlib.util.spec_from_file_location(module_name, os.path.join(module_path, "__init__.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", autouse=True)
def offline(hub_offline):
    """Nothing in this module may reach the Hugging Face Hub."""


@pytest.fixture(scope="module")
def custom_nodes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ComfyUI") / "custom_nodes"
    folder.mkdir()
    try:
        (folder / FOLDER).symlink_to(REPO / "comfyui", target_is_directory=True)
    except OSError as err:
        pytest.skip(f"cannot create a symlink here: {err}")
    return folder


@pytest.fixture(scope="module")
def foreign_annotator():
    """Another custom node's top-level `annotator` package, as comfyui_controlnet_aux used to ship."""
    module = types.ModuleType("annotator")
    module.__path__ = []
    return module


@pytest.fixture(scope="module")
def node_module(custom_nodes, foreign_annotator):
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "annotator", foreign_annotator)  # present while ComfyUI loads our node
        module = load_custom_node(str(custom_nodes / FOLDER))
    yield module
    sys.modules.pop(module.__name__, None)
    sys.modules.pop(module.__name__ + ".nodes", None)


@pytest.fixture(scope="module")
def node_class(node_module):
    return node_module.NODE_CLASS_MAPPINGS[NODE_ID]


@pytest.fixture(scope="module")
def weights(crowd_yolox, random_pose):
    """The node's two file widgets: the stand-in crowd detector and the random pose model."""
    return {"bbox_detector": str(crowd_yolox), "pose_estimator": str(random_pose)}


@pytest.fixture(scope="module")
def reference(weights):
    return DWposeDetector(weights["bbox_detector"], weights["pose_estimator"])


@pytest.fixture(scope="module")
def frames(crowd_image):
    """Two landscape frames of the same size with six people: the synthetic crowd and its mirror image."""
    return [crowd_image, np.ascontiguousarray(crowd_image[:, ::-1])]


def as_comfy_image(frames):
    """What ComfyUI's LoadImage (and a batch of them) gives a node."""
    return torch.from_numpy(np.stack(frames).astype(np.float32) / 255.0)


def call_node(node_class, **widgets):
    """Fill the widgets with their INPUT_TYPES defaults, as the ComfyUI front end does, then call
    FUNCTION on a new instance with keyword arguments."""
    input_types = node_class.INPUT_TYPES()
    inputs = {}
    for section in ("required", "optional"):
        for name, spec in input_types.get(section, {}).items():
            if len(spec) > 1 and "default" in spec[1]:
                inputs[name] = spec[1]["default"]
    inputs.update(widgets)
    missing = set(input_types["required"]) - set(inputs)
    assert not missing, f"required inputs not given: {missing}"
    returned = getattr(node_class(), node_class.FUNCTION)(**inputs)
    result = returned["result"] if isinstance(returned, dict) else returned  # ComfyUI's get_output_data
    assert isinstance(result, tuple) and len(result) == len(node_class.RETURN_TYPES)
    return result


def aux_size(height, width, resolution):
    """comfyui_controlnet_aux's map size (util.py resize_image_with_pad, the pad removed): shorter side
    `resolution`, each side int(np.round(side * k))."""
    k = resolution / min(height, width)
    return int(np.round(height * k)), int(np.round(width * k))


def expected_map(reference, frame, resolution, **options):
    """Our map of `frame` at comfyui_controlnet_aux's size: detected after ControlNet's resize, drawn there,
    resized with INTER_LINEAR (nobody found: nobody drawn)."""
    poses = reference.detect(frame, detect_resolution=resolution, fallback_whole_image=False)
    height, width = aux_size(*frame.shape[:2], resolution)
    return cv2.resize(draw_poses(poses, **options), (width, height), interpolation=cv2.INTER_LINEAR), poses


def install_comfy(monkeypatch, **modules) -> None:
    """A stand-in `comfy` package in sys.modules (for the test) with the given submodules (model_management=...,
    utils=...), each a namespace of the functions ComfyUI declares there that the test needs."""
    comfy = types.ModuleType("comfy")
    monkeypatch.setitem(sys.modules, "comfy", comfy)
    for name, module in modules.items():
        setattr(comfy, name, module)
        monkeypatch.setitem(sys.modules, f"comfy.{name}", module)


def as_uint8(pose_image) -> np.ndarray:
    return np.rint(pose_image.numpy() * 255).astype(np.uint8)


def test_node_is_registered_as_comfyui_expects(node_module, node_class):
    assert set(node_module.NODE_DISPLAY_NAME_MAPPINGS) <= set(node_module.NODE_CLASS_MAPPINGS)
    assert node_module.NODE_DISPLAY_NAME_MAPPINGS[NODE_ID]
    assert node_class.RETURN_TYPES == ("IMAGE", "POSE_KEYPOINT")
    assert len(node_class.RETURN_NAMES) == len(node_class.RETURN_TYPES)
    assert isinstance(node_class.CATEGORY, str) and callable(getattr(node_class, node_class.FUNCTION))
    input_types = node_class.INPUT_TYPES()
    assert input_types["required"]["image"] == ("IMAGE",)
    widgets = {**input_types["required"], **input_types.get("optional", {})}
    for name, spec in widgets.items():
        assert isinstance(name, str) and isinstance(spec, tuple) and isinstance(spec[0], (str, list)), name
        json.dumps(spec)  # the front end receives INPUT_TYPES as JSON


def test_our_package_is_loaded_privately_through_the_symlink(node_module, foreign_annotator):
    nodes = sys.modules[node_module.__name__ + ".nodes"]
    package = nodes.dwpose
    assert package.__name__.startswith("_dwpose_annotator_") and "." not in package.__name__
    # The symlink's folder has no annotator/ beside it: the node followed the link to the repository.
    assert os.path.realpath(package.__file__) == str((REPO / "annotator" / "dwpose" / "__init__.py").resolve())
    assert package.DWposeDetector.__module__.startswith(package.__name__)
    assert sys.modules.get("annotator") is not foreign_annotator  # restored after loading


def test_batch_gives_pose_maps_and_keypoints(node_class, weights, reference, frames, monkeypatch,
                                             foreign_annotator):
    monkeypatch.setitem(sys.modules, "annotator", foreign_annotator)  # must not matter when running either
    image = as_comfy_image(frames)
    pose_images, pose_keypoint = call_node(node_class, image=image, **weights)

    height, width = frames[0].shape[:2]
    expected = [expected_map(reference, frame, 512) for frame in frames]
    out_h, out_w = expected[0][0].shape[:2]
    # comfyui_controlnet_aux's size: the 832x624 frame's aspect ratio kept (683x512, not 704x512)
    assert (out_h, out_w) == aux_size(height, width, 512) == (512, 683)
    assert isinstance(pose_images, torch.Tensor) and pose_images.dtype == torch.float32
    assert tuple(pose_images.shape) == (len(frames), out_h, out_w, 3)
    assert pose_images.min() >= 0 and pose_images.max() <= 1
    # Pixel-exact: the node's IMAGE is our pose map / 255 (the input survived the float round trip).
    for pose_image, (pose_map, _) in zip(pose_images, expected):
        assert np.array_equal(as_uint8(pose_image), pose_map)
    assert not torch.equal(pose_images[0], pose_images[1])

    # POSE_KEYPOINT as comfyui_controlnet_aux's DWPose node writes it (node_wrappers/dwpose.py,
    # encode_poses_as_dict(poses, H, W) of the input frame): input pixels, the input's size, no "animals".
    assert isinstance(pose_keypoint, list) and len(pose_keypoint) == len(frames)
    for frame_json, (_, poses) in zip(pose_keypoint, expected):
        assert "animals" not in frame_json
        assert (frame_json["canvas_width"], frame_json["canvas_height"]) == (width, height)
        in_input = poses.to_openpose_json()
        for person, theirs in zip(frame_json["people"], in_input["people"]):
            ours = np.reshape(person["pose_keypoints_2d"], (18, 3))
            detect = np.reshape(theirs["pose_keypoints_2d"], (18, 3))
            np.testing.assert_allclose(ours[:, :2], detect[:, :2] * [width / poses.width, height / poses.height])
            assert (ours[:, 2] == detect[:, 2]).all()
        assert len(frame_json["people"]) == len(poses) == len(CROWD_BOXES_416)  # everyone the stand-in finds
        for person in frame_json["people"]:
            assert len(person["pose_keypoints_2d"]) == 18 * 3
            body = np.reshape(person["pose_keypoints_2d"], (18, 3))
            shown = body[:, 2] == 1
            assert shown.any()
            assert np.isfinite(body).all()  # pixels of the pose map (a point may lie outside it)
            for part, count in (("face_keypoints_2d", 70), ("hand_left_keypoints_2d", 21),
                                ("hand_right_keypoints_2d", 21)):
                assert person[part] is None or len(person[part]) == count * 3
        json.dumps(frame_json)  # ComfyUI may save it as JSON
    assert (height, width) != (out_h, out_w)  # the resolution widget did resize


def test_parts_and_resolution_widgets(node_class, weights, reference, frames):
    image = as_comfy_image(frames[:1])
    pose_images, pose_keypoint = call_node(node_class, image=image, detect_hand=False, detect_face=False,
                                           resolution=256, **weights)
    body_only, poses = expected_map(reference, frames[0], 256, include_hand=False, include_face=False)
    assert tuple(pose_images.shape) == (1, *body_only.shape) == (1, 256, 341, 3)
    assert np.array_equal(as_uint8(pose_images[0]), body_only)
    full, _ = expected_map(reference, frames[0], 256)
    assert not np.array_equal(body_only, full)
    # Switched-off parts are None in POSE_KEYPOINT; the body is reported, in pixels of the input frame.
    (frame_json,) = pose_keypoint
    height, width = frames[0].shape[:2]
    assert len(frame_json["people"]) == len(poses) == len(CROWD_BOXES_416)
    for person, detected in zip(frame_json["people"], poses.in_pixels_of(width, height).to_openpose_json()["people"]):
        assert person["hand_left_keypoints_2d"] is person["hand_right_keypoints_2d"] is person["face_keypoints_2d"] is None
        assert person["pose_keypoints_2d"] == detected["pose_keypoints_2d"]


def test_default_weight_names_are_looked_up_like_the_package_does(node_class, weights, reference, frames,
                                                                  tmp_path, monkeypatch):
    # The default widget values are the published file names, found in $DWPOSE_CKPTS (no download).
    shutil.copy(weights["bbox_detector"], tmp_path / "yolox_l.onnx")
    shutil.copy(weights["pose_estimator"], tmp_path / "dw-ll_ucoco_384.onnx")
    monkeypatch.setenv("DWPOSE_CKPTS", str(tmp_path))
    pose_images, _ = call_node(node_class, image=as_comfy_image(frames[:1]))
    pose_map, _ = expected_map(reference, frames[0], 512)
    assert np.array_equal(as_uint8(pose_images[0]), pose_map)


def test_grey_and_rgba_images(node_class, weights, reference, frames):
    rgb = frames[0]
    grey = np.asarray(Image.fromarray(rgb).convert("L"))[..., None]
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    for frame, same_as in ((grey, grey), (rgba, rgb)):
        pose_images, _ = call_node(node_class, image=as_comfy_image([frame]), resolution=128, **weights)
        pose_map, _ = expected_map(reference, same_as, 128)
        assert np.array_equal(as_uint8(pose_images[0]), pose_map)


@pytest.mark.parametrize("bad", [
    lambda: torch.zeros(8, 8, 3),        # no batch axis
    lambda: torch.zeros(1, 3, 8, 8),     # channels first
    lambda: torch.zeros(0, 8, 8, 3),     # empty batch
    lambda: np.zeros((1, 8, 8, 3), np.float32),
])
def test_bad_image_input_is_refused_clearly(node_class, weights, bad):
    with pytest.raises(ValueError, match="IMAGE"):
        call_node(node_class, image=bad(), **weights)


def test_copied_node_folder_uses_the_installed_package(node_class, weights, frames, tmp_path, monkeypatch):
    # A copy (not a symlink) has no annotator/ beside it: an installed (here: importable) package is used.
    copy = tmp_path / "custom_nodes" / "copied_dwpose_node"
    shutil.copytree(REPO / "comfyui", copy, ignore=shutil.ignore_patterns("__pycache__"))
    loaded_as = str(copy).replace(".", "_x_")
    for name in (loaded_as, loaded_as + ".nodes"):  # removed again after the test
        monkeypatch.setitem(sys.modules, name, None)
        del sys.modules[name]
    module = load_custom_node(str(copy))
    copied_class = module.NODE_CLASS_MAPPINGS[NODE_ID]
    image = as_comfy_image(frames[:1])
    ours, _ = call_node(copied_class, image=image, resolution=128, **weights)
    theirs, _ = call_node(node_class, image=image, resolution=128, **weights)
    assert torch.equal(ours, theirs)

    # Nothing installed and nothing beside it: a clear ImportError saying what to do.
    standard = (importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter,
                importlib.machinery.PathFinder)
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f in standard])
    # (an editable install also adds a path-hook entry for its namespace package `annotator`)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if os.path.realpath(p or ".") != str(REPO.resolve())
                                      and "__editable__" not in p])
    for name in (loaded_as, loaded_as + ".nodes"):
        sys.modules.pop(name, None)
    with pytest.raises(ImportError, match="dwpose-annotator not found.*symlink"):
        load_custom_node(str(copy))


def test_frames_are_converted_one_at_a_time_and_cancel_is_checked_between_them(node_module, node_class, weights,
                                                                                 frames, monkeypatch):
    # ComfyUI's hooks as comfy.model_management / comfy.utils declare them (throw_exception_if_processing_interrupted(),
    # ProgressBar(total).update(1)); Cancel is pressed while the first frame is processed.
    nodes = sys.modules[node_module.__name__ + ".nodes"]
    events = []

    class Interrupted(Exception):
        pass

    def check():
        events.append("check")
        if events.count("converted") >= 1:
            raise Interrupted

    install_comfy(monkeypatch,
                  model_management=types.SimpleNamespace(throw_exception_if_processing_interrupted=check),
                  utils=types.SimpleNamespace(ProgressBar=lambda total: types.SimpleNamespace(
                      update=lambda n: events.append("tick"))))
    convert = nodes.frame_to_uint8
    monkeypatch.setattr(nodes, "frame_to_uint8", lambda frame: (events.append("converted"), convert(frame))[1])
    with pytest.raises(Interrupted):
        call_node(node_class, image=as_comfy_image(frames * 4), resolution=128, **weights)
    assert events == ["check", "converted", "tick", "check"]  # frame 2 of 8 never converted


def test_a_wrong_file_names_the_input_and_what_it_expected(node_class, weights, frames, tmp_path, random_pose):
    text = tmp_path / "notes.onnx"
    text.write_text("not a model")
    image = as_comfy_image(frames[:1])
    with pytest.raises(ValueError) as info:
        call_node(node_class, image=image, bbox_detector=str(text), pose_estimator=weights["pose_estimator"])
    message = str(info.value)
    assert type(info.value) is ValueError  # a readable class name, not the private module's WeightsError
    assert message.startswith("bbox_detector: ") and "does not look like an ONNX model" in message
    assert "person detector" in message and "download it again" not in message
    with pytest.raises(ValueError, match="^pose_estimator: .*not found"):
        call_node(node_class, image=image, bbox_detector=weights["bbox_detector"], pose_estimator=str(tmp_path / "x.onnx"))
    with pytest.raises(ValueError, match="^bbox_detector: .*not those of a person detector.*as bbox_detector"):
        call_node(node_class, image=image, bbox_detector=str(random_pose), pose_estimator=weights["pose_estimator"])


def test_style_xinsir_and_input_size_widgets(node_class, weights, reference, frames):
    image = as_comfy_image(frames[:1])
    for widgets, options in (({"style": "sd-webui-controlnet"}, {"style": "sd-webui-controlnet"}),
                             ({"scale_stick_for_xinsr_cn": "enable"}, {"scale_stick_for_xinsr_cn": True})):
        pose_images, _ = call_node(node_class, image=image, resolution=1024, **widgets, **weights)
        expected, _ = expected_map(reference, frames[0], 1024, **options)
        assert np.array_equal(as_uint8(pose_images[0]), expected), widgets
    # Detected at the frame's size: drawn there and shrunk as comfyui_controlnet_aux shrinks (INTER_AREA),
    # or enlarged as it enlarges (INTER_CUBIC)
    for resolution, interpolation in ((256, cv2.INTER_AREA), (1024, cv2.INTER_CUBIC)):
        pose_images, pose_keypoint = call_node(node_class, image=image, resolution=resolution,
                                               detect_at_input_size=True, **weights)
        poses = reference.detect(frames[0])
        height, width = aux_size(*frames[0].shape[:2], resolution)
        expected = cv2.resize(draw_poses(poses), (width, height), interpolation=interpolation)
        assert np.array_equal(as_uint8(pose_images[0]), expected), resolution
        assert pose_keypoint[0]["people"][0]["pose_keypoints_2d"] == \
            poses.to_openpose_json()["people"][0]["pose_keypoints_2d"]


def test_tracking_switch_gives_the_librarys_tracked_maps_and_ids(node_class, weights, reference, frames):
    # (The random pose stand-in's keypoints are chaotic, so which ids survive is not checked here;
    # tests/test_video.py checks identities with the marker stand-in.)
    clip = [frames[0]] * 4
    pose_images, pose_keypoint = call_node(node_class, image=as_comfy_image(clip), resolution=256, tracking=True,
                                           **weights)
    expected = list(reference.track(clip, detect_resolution=256, image_resolution=256))
    assert tuple(pose_images.shape[:1]) == (4,)
    height, width = aux_size(*clip[0].shape[:2], 256)
    for pose_image, frame_json, result in zip(pose_images, pose_keypoint, expected):
        expected_image = cv2.resize(draw_poses(result.poses), (width, height), interpolation=cv2.INTER_LINEAR)
        assert np.array_equal(as_uint8(pose_image), expected_image)
        assert [p["track_id"] for p in frame_json["people"]] == result.poses.track_ids.tolist()


def test_comfyuis_gpu_is_preferred_through_its_torch(node_module, monkeypatch):
    # comfy.model_management.get_torch_device() returns a torch.device; a CUDA or MPS one means the torch
    # backend there, anything else (the CPU, DirectML's privateuseone) the default onnxruntime.
    torch = pytest.importorskip("torch")
    nodes = sys.modules[node_module.__name__ + ".nodes"]
    assert nodes.comfy_torch_device() is None  # outside ComfyUI
    for device, expected in (("cuda:0", "cuda:0"), ("mps", "mps"), ("cpu", None), ("meta", None)):
        install_comfy(monkeypatch,
                      model_management=types.SimpleNamespace(get_torch_device=lambda d=device: torch.device(d)))
        assert nodes.comfy_torch_device() == expected


# ---------------------------------------------------------------- installed as ComfyUI users install nodes

def repository_copy(target):
    """The repository as `git clone` gives it (ComfyUI-Manager's "Install via Git URL", comfy-cli): its
    tracked files, and the new ones git does not ignore, copied to `target`."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"needs git and a git checkout: {err}")
    for relative in listed:
        if (REPO / relative).is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, target / relative)
    return target


def test_a_clone_in_custom_nodes_loads_the_node(tmp_path, weights, reference, frames, monkeypatch,
                                                foreign_annotator):
    clone = repository_copy(tmp_path / "ComfyUI" / "custom_nodes" / "dwpose-annotator")
    assert (clone / "requirements.txt").is_file()  # what ComfyUI-Manager installs
    (clone / "annotator" / "ckpts" / "yolox_l.onnx").write_bytes(open(weights["bbox_detector"], "rb").read())
    (clone / "annotator" / "ckpts" / "dw-ll_ucoco_384.onnx").write_bytes(open(weights["pose_estimator"], "rb").read())
    monkeypatch.delenv("DWPOSE_CKPTS", raising=False)
    monkeypatch.setitem(sys.modules, "annotator", foreign_annotator)
    module = load_custom_node(str(clone))
    try:
        node = module.NODE_CLASS_MAPPINGS[NODE_ID]
        assert module.NODE_DISPLAY_NAME_MAPPINGS[NODE_ID] == "DWPose Estimator (dwpose-annotator)"
        nodes = sys.modules[module.__name__ + ".comfyui.nodes"]
        assert os.path.realpath(nodes.dwpose.__file__) == os.path.realpath(clone / "annotator" / "dwpose" / "__init__.py")
        pose_images, pose_keypoint = call_node(node, image=as_comfy_image(frames[:1]), resolution=128)
        expected, poses = expected_map(reference, frames[0], 128)  # the default file names, from annotator/ckpts
        assert np.array_equal(as_uint8(pose_images[0]), expected) and len(pose_keypoint[0]["people"]) == len(poses)
    finally:
        for name in [n for n in sys.modules if n == module.__name__ or n.startswith(module.__name__ + ".")]:
            del sys.modules[name]


# ---------------------------------------------------------------- as comfyui_controlnet_aux's node behaves

def test_a_frame_with_nobody_gives_a_black_map_and_no_people(node_class, empty_yolox, weights, frames):
    image = as_comfy_image(frames[:1])
    pose_images, pose_keypoint = call_node(node_class, image=image, bbox_detector=str(empty_yolox),
                                           pose_estimator=weights["pose_estimator"], resolution=128)
    assert not pose_images.any() and pose_keypoint[0]["people"] == []
    assert tuple(pose_images.shape[1:3]) == aux_size(*frames[0].shape[:2], 128)
    # fallback_whole_image: the DWPose reference's whole-frame person instead
    _, with_fallback = call_node(node_class, image=image, bbox_detector=str(empty_yolox),
                                 pose_estimator=weights["pose_estimator"], resolution=128, fallback_whole_image=True)
    assert len(with_fallback[0]["people"]) == 1


def test_bbox_detector_none_takes_the_whole_frame_as_one_person(node_class, weights, frames):
    image = as_comfy_image(frames[:1])
    _, pose_keypoint = call_node(node_class, image=image, bbox_detector="None",
                                 pose_estimator=weights["pose_estimator"], resolution=128)
    whole = DWposeDetector("none", weights["pose_estimator"]).detect(frames[0], detect_resolution=128)
    height, width = frames[0].shape[:2]
    assert len(pose_keypoint[0]["people"]) == 1 and len(whole) == 1
    np.testing.assert_array_equal(whole.boxes[0], [0, 0, whole.width, whole.height])
    assert pose_keypoint[0] == whole.to_pose_keypoint(width, height)


def test_switched_off_body_is_zeros_and_feet_come_when_asked(node_class, weights, frames):
    """comfyui_controlnet_aux writes BodyResult([None] * 18) when detect_body is off: 18 x [0, 0, 0]."""
    image = as_comfy_image(frames[:1])
    _, without_body = call_node(node_class, image=image, detect_body=False, resolution=128, **weights)
    _, with_feet = call_node(node_class, image=image, detect_foot=True, resolution=128, **weights)
    _, default = call_node(node_class, image=image, resolution=128, **weights)
    for person in without_body[0]["people"]:
        assert person["pose_keypoints_2d"] == [0.0] * 54 and person["face_keypoints_2d"] is not None
    assert all("foot_keypoints_2d" not in person for person in default[0]["people"])
    feet = [person["foot_keypoints_2d"] for person in with_feet[0]["people"]]
    assert any(f is not None for f in feet) and all(f is None or len(f) == 6 * 3 for f in feet)


def test_the_keypoints_are_shown_in_the_ui_as_comfyui_controlnet_aux_shows_them(node_class, weights, frames):
    inputs = dict(image=as_comfy_image(frames), resolution=128, **weights)
    returned = node_class().estimate_pose(**inputs)
    images, keypoints = returned["result"]
    assert returned["ui"] == {"openpose_json": [json.dumps(keypoints, indent=4)]}


# The render node: POSE_KEYPOINT (ours, comfyui_controlnet_aux's as its node writes it) and kijai's POSEDATA
# in, maps out; the same maps as the library draws from the same keypoints.

@pytest.fixture(scope="module")
def render_class(node_module):
    return node_module.NODE_CLASS_MAPPINGS["DWPoseAnnotatorRender"]


def test_render_node_is_registered(node_module, render_class):
    assert node_module.NODE_DISPLAY_NAME_MAPPINGS["DWPoseAnnotatorRender"] == "Render POSE_KEYPOINT (dwpose-annotator)"
    optional = render_class.INPUT_TYPES()["optional"]
    assert optional["pose_keypoint"][0] == "POSE_KEYPOINT" and optional["pose_data"][0] == "POSEDATA"
    assert optional["image"][0] == "IMAGE" and render_class.RETURN_TYPES == ("IMAGE", "POSE_KEYPOINT")


def test_render_node_draws_the_estimators_keypoints(node_class, render_class, weights, reference, frames):
    """The estimator's POSE_KEYPOINT (pixels of the input frame) drawn at the frame's size equals the library's
    map of the same poses; with resolution the aspect ratio is kept; with an image its size is used."""
    _, keypoints = call_node(node_class, image=as_comfy_image(frames), resolution=256, **weights)
    maps, again = call_node(render_class, pose_keypoint=keypoints)
    height, width = frames[0].shape[:2]
    assert tuple(maps.shape) == (2, height, width, 3) and again == keypoints
    dwpose = pytest.importorskip("annotator.dwpose")
    for pose_image, frame in zip(maps, keypoints):
        expected = draw_poses(dwpose.Poses.from_pose_keypoint(frame))
        np.testing.assert_array_equal(as_uint8(pose_image), expected)
    maps, _ = call_node(render_class, pose_keypoint=keypoints, resolution=128, render_face=False, style="musepose")
    assert tuple(maps.shape[1:3]) == aux_size(height, width, 128)
    small = np.zeros((1, 90, 160, 3), np.float32)
    maps, scaled = call_node(render_class, pose_keypoint=keypoints[:1], image=torch.from_numpy(small),
                             draw_at_output_size=True)
    assert tuple(maps.shape) == (1, 90, 160, 3) and scaled[0]["canvas_width"] == 160
    expected = dwpose.draw_pose_map(dwpose.Poses.from_pose_keypoint(keypoints[0]), 90, 160,
                                    dwpose.PoseMapOptions(draw_at_output_size=True))
    np.testing.assert_array_equal(as_uint8(maps[0]), expected)


def test_render_node_reads_other_packs_and_posedata(render_class):
    """comfyui_controlnet_aux's frames (flat [x, y, 1] lists, null parts, no animals) and kijai's POSEDATA
    (normalised pose_metas_original with scores) as they come."""
    body = [v for j in range(18) for v in (100.0 + 10 * j, 50.0 + 12 * j, 1.0)]
    aux_frame = {"people": [{"pose_keypoints_2d": body, "face_keypoints_2d": None, "hand_left_keypoints_2d": None,
                             "hand_right_keypoints_2d": None}], "canvas_height": 300, "canvas_width": 400}
    maps, _ = call_node(render_class, pose_keypoint=[aux_frame])
    assert tuple(maps.shape) == (1, 300, 400, 3) and as_uint8(maps[0]).any()
    rng = np.random.default_rng(2)
    meta = {"width": 320, "height": 480}
    for key, count in (("keypoints_body", 20), ("keypoints_left_hand", 21), ("keypoints_right_hand", 21),
                       ("keypoints_face", 69)):
        meta[key] = np.concatenate([rng.uniform(0.1, 0.9, (count, 2)), np.full((count, 1), 0.9)], axis=1)
    maps, keypoints = call_node(render_class, pose_data={"pose_metas_original": [meta, meta], "pose_metas": None})
    assert tuple(maps.shape) == (2, 480, 320, 3) and len(keypoints[0]["people"]) == 1
    np.testing.assert_allclose(np.reshape(keypoints[0]["people"][0]["pose_keypoints_2d"], (18, 3))[:, :2],
                               meta["keypoints_body"][:18, :2] * [320, 480])


@pytest.mark.parametrize("value, message", [
    (None, "connect pose_keypoint"),
    ([], "has no frames"),
    ([{"people": [{"pose_keypoints_2d": "x"}], "canvas_width": 8, "canvas_height": 8}],
     r"pose_keypoint: frame 0: people\[0\].pose_keypoints_2d"),
])
def test_render_node_refuses_bad_keypoints_clearly(render_class, value, message):
    with pytest.raises(ValueError, match=message):
        call_node(render_class, **({} if value is None else {"pose_keypoint": value}))
