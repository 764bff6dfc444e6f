"""The ComfyUI node "Wan Animate Inputs (dwpose-annotator)" (comfyui/nodes.py WanAnimatePreprocessor), loaded and
called as ComfyUI does (test_comfyui_node's loader): its outputs are what the library's wan_animate_inputs gives
for the same uint8 frames and reference, in the types and sizes ComfyUI's WanAnimateToVideo (comfy_extras/
nodes_wan.py) and kijai's WanAnimatePreprocess / SAM2 nodes take: IMAGE batches (pose_video at the reference's
size, face_video 512 x 512, one reference), POSE_KEYPOINT per frame, BBOX lists per frame, the SAM2 points as a
JSON string.

Stand-ins: the crowd detector (six people in any image) with the marker pose model on the synthetic crowd panning;
for official mode the Wan-like pair of test_wan_animate_official (an end-to-end YOLO marker detector and a heatmap
marker model) on its frames.
"""

import json
import sys
import types

import numpy as np
import pytest
import test_comfyui_node as node_tests
import test_wan_animate_official as official_tests
from test_comfyui_node import as_comfy_image, as_uint8, call_node, install_comfy
from test_wan_animate_official import frame_with_person

from annotator.dwpose import DWposeDetector, PoseMapOptions, wan_animate_inputs

# The fixtures that load the node as ComfyUI does (offline: autouse) and the Wan-like official pair.
custom_nodes, foreign_annotator, node_module, offline = (node_tests.custom_nodes, node_tests.foreign_annotator,
                                                         node_tests.node_module, node_tests.offline)
official_pair = official_tests.official_pair

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.requires_torch

NODE_ID = "DWPoseAnnotatorWanAnimate"
AREA = (256, 192)  # a small generation size: a 300 x 400 reference becomes 192 x 256


@pytest.fixture(scope="module")
def wan_class(node_module):
    return node_module.NODE_CLASS_MAPPINGS[NODE_ID]


@pytest.fixture(scope="module")
def nodes(node_module):
    return sys.modules[node_module.__name__ + ".nodes"]


@pytest.fixture(scope="module")
def crowd_clip(crowd_image):
    """Four frames of the crowd panning (the stand-in detector finds its six people in each)."""
    return [np.roll(crowd_image, 24 * i, axis=1) for i in range(4)]


@pytest.fixture(scope="module")
def character(crowd_image):
    """A portrait reference with people in it (retargeting needs the reference's person)."""
    return np.ascontiguousarray(crowd_image[:400, 100:400])


def expected_box(poses, track_id, width, height):
    """The person's box in the frame, clipped, truncated to ints; (0, 0, 0, 0) where absent."""
    ids = [] if poses.track_ids is None else poses.track_ids.tolist()
    if track_id not in ids:
        return (0, 0, 0, 0)
    x1, y1, x2, y2 = poses.boxes[ids.index(track_id)].tolist()
    return (int(np.clip(x1, 0, width)), int(np.clip(y1, 0, height)), int(np.clip(x2, 0, width)),
            int(np.clip(y2, 0, height)))


def expected_points(poses, track_id, width, height):
    """The person's nose, neck, shoulders, hips and ankles shown and inside the frame, as {"x", "y"} ints; the
    centre of their box where none is."""
    n = poses.track_ids.tolist().index(track_id)
    shown = poses.visible()[n]
    points = [{"x": int(x), "y": int(y)} for k in (0, 1, 2, 5, 8, 11, 10, 13)
              for x, y in [poses.exact_keypoints[n, k]] if shown[k] and 0 <= x < width and 0 <= y < height]
    x1, y1, x2, y2 = expected_box(poses, track_id, width, height)
    return points or [{"x": (x1 + x2) // 2, "y": (y1 + y2) // 2}]


def assert_node_is_the_library(outputs, inputs, frames):
    pose_images, face_images, reference, pose_keypoint, bboxes, face_bboxes, points = outputs
    height, width = frames[0].shape[:2]
    ref_h, ref_w = inputs.reference.shape[:2]
    assert tuple(pose_images.shape) == (len(frames), ref_h, ref_w, 3) and pose_images.dtype == torch.float32
    assert tuple(face_images.shape) == (len(frames), 512, 512, 3)
    assert tuple(reference.shape) == (1, ref_h, ref_w, 3)
    for image, expected in zip(pose_images, inputs.pose_frames):
        np.testing.assert_array_equal(as_uint8(image), expected)
    for image, expected in zip(face_images, inputs.main_faces()):
        np.testing.assert_array_equal(as_uint8(image), expected)
    np.testing.assert_array_equal(as_uint8(reference[0]), inputs.reference)
    # per frame the main person's box and face box, in pixels of the frame
    main = inputs.main_person
    assert bboxes == [expected_box(poses, main, width, height) for poses in inputs.poses]
    assert face_bboxes == [(0, 0, 0, 0) if box is None else tuple(box) for box in inputs.face_boxes[main]]
    assert all(isinstance(v, int) for box in bboxes + face_bboxes for v in box)
    # POSE_KEYPOINT: one frame per input frame, the frame's canvas, every tracked person with their track_id
    assert isinstance(pose_keypoint, list) and len(pose_keypoint) == len(frames)
    for frame_json, poses in zip(pose_keypoint, inputs.poses):
        assert (frame_json["canvas_width"], frame_json["canvas_height"]) == (width, height)
        assert frame_json == poses.to_pose_keypoint(width, height)
        json.dumps(frame_json)
    # SAM2's points: the main person's shown key points in frame 0 (the stand-ins put someone there)
    assert json.loads(points) == expected_points(inputs.poses[0], main, width, height)


def test_node_is_registered_as_comfyui_expects(node_module, wan_class):
    assert node_module.NODE_DISPLAY_NAME_MAPPINGS[NODE_ID] == "Wan Animate Inputs (dwpose-annotator)"
    assert set(node_module.NODE_DISPLAY_NAME_MAPPINGS) == set(node_module.NODE_CLASS_MAPPINGS)
    assert wan_class.RETURN_TYPES == ("IMAGE", "IMAGE", "IMAGE", "POSE_KEYPOINT", "BBOX", "BBOX", "STRING")
    assert wan_class.RETURN_NAMES == ("pose_images", "face_images", "reference_image", "pose_keypoint", "bboxes",
                                      "face_bboxes", "key_frame_body_points")
    assert wan_class.CATEGORY == "WanAnimatePreprocess" and callable(getattr(wan_class, wan_class.FUNCTION))
    input_types = wan_class.INPUT_TYPES()
    required = input_types["required"]
    assert required["images"][0] == required["reference_image"][0] == "IMAGE"
    assert (required["width"][1]["default"], required["height"][1]["default"]) == (832, 480)  # as WanAnimateToVideo
    optional = input_types["optional"]
    assert {"bbox_detector", "pose_estimator", "official", "retarget", "people", "det_every", "draw_body",
            "draw_hand", "draw_face"} <= set(optional)
    assert "replace" not in optional  # replacement masks come from SAM2 nodes
    for name, spec in {**required, **optional}.items():
        assert isinstance(spec, tuple) and isinstance(spec[0], (str, list)), name
        json.dumps(spec)  # the front end receives INPUT_TYPES as JSON


@pytest.mark.parametrize("widgets, library", [
    ({"people": "all", "det_every": 2}, {"people": None, "det_every": 2}),
    ({"people": " Largest ", "det_every": 1, "draw_hand": False, "draw_face": False, "retarget": True},
     {"people": "largest", "det_every": 1, "options": PoseMapOptions(include_hand=False, include_face=False),
      "retarget": True}),
])
def test_outputs_are_the_librarys_inputs(wan_class, crowd_yolox, marker_pose, crowd_clip, character, widgets,
                                         library):
    outputs = call_node(wan_class, images=as_comfy_image(crowd_clip), reference_image=as_comfy_image([character]),
                        width=AREA[0], height=AREA[1], bbox_detector=str(crowd_yolox),
                        pose_estimator=str(marker_pose), **widgets)
    inputs = wan_animate_inputs(DWposeDetector(crowd_yolox, marker_pose), crowd_clip, character,
                                resolution_area=AREA, **library)
    assert inputs.reference.shape == (256, 192, 3)  # 300 x 400 into 256 x 192 pixels' area, multiples of 16
    assert_node_is_the_library(outputs, inputs, crowd_clip)
    assert all(len(frame["people"]) == (6 if library["people"] is None else 1) for frame in outputs[3])


def test_official_mode_is_the_librarys_official_mode(wan_class, official_pair):
    frames = [frame_with_person(n) for n in range(8)]  # nobody found in frames 5 and 6
    reference = np.full((300, 200, 3), 70, np.uint8)
    det, pose = official_pair
    outputs = call_node(wan_class, images=as_comfy_image(frames), reference_image=as_comfy_image([reference]),
                        width=AREA[0], height=AREA[1], bbox_detector=str(det), pose_estimator=str(pose),
                        official=True)
    inputs = wan_animate_inputs(DWposeDetector(det, pose), frames, reference, resolution_area=AREA, official=True)
    assert_node_is_the_library(outputs, inputs, frames)
    assert outputs[4][5] == (0, 0, 320, 240)  # Pose2d's whole-frame box where its detector finds nobody


@pytest.mark.parametrize("change, message", [
    ({"images": torch.zeros(0, 8, 8, 3)}, "^images: IMAGE is empty"),
    ({"images": torch.zeros(8, 8, 3)}, "^images: IMAGE must be"),
    ({"reference_image": np.zeros((1, 8, 8, 3), np.float32)}, "^reference_image: IMAGE must be"),
    ({"people": "everyone"}, "^people: expected largest, center, all or track ids"),
    ({"people": "1,x"}, "^people: "),
    ({"official": True}, "^bbox_detector: official=True needs Wan's person detector"),
])
def test_bad_inputs_are_refused_naming_the_input(wan_class, crowd_yolox, marker_pose, crowd_clip, character, change,
                                                 message):
    widgets = {"images": as_comfy_image(crowd_clip[:1]), "reference_image": as_comfy_image([character]),
               "width": AREA[0], "height": AREA[1], "bbox_detector": str(crowd_yolox),
               "pose_estimator": str(marker_pose)}
    widgets.update(change)
    with pytest.raises(ValueError, match=message) as info:
        call_node(wan_class, **widgets)
    assert type(info.value) is ValueError


def test_official_mode_needs_wans_pose_model_and_retarget_needs_a_reference_person(wan_class, official_pair,
                                                                                   marker_pose, empty_yolox,
                                                                                   crowd_clip):
    frames = as_comfy_image([frame_with_person(0)])
    with pytest.raises(ValueError, match="^pose_estimator: official=True needs Wan's heatmap pose model"):
        call_node(wan_class, images=frames, reference_image=frames, width=AREA[0], height=AREA[1],
                  bbox_detector=str(official_pair[0]), pose_estimator=str(marker_pose), official=True)
    with pytest.raises(ValueError, match="^reference_image: no person found in the reference image"):
        call_node(wan_class, images=frames, reference_image=frames, width=AREA[0], height=AREA[1],
                  bbox_detector=str(empty_yolox), pose_estimator=str(marker_pose), retarget=True)


def test_nobody_found_gives_black_frames_empty_boxes_and_no_points(wan_class, empty_yolox, marker_pose, crowd_clip,
                                                                   character):
    pose_images, face_images, _, pose_keypoint, bboxes, face_bboxes, points = call_node(
        wan_class, images=as_comfy_image(crowd_clip[:2]), reference_image=as_comfy_image([character]),
        width=AREA[0], height=AREA[1], bbox_detector=str(empty_yolox), pose_estimator=str(marker_pose))
    assert not pose_images.any() and not face_images.any() and tuple(face_images.shape) == (2, 512, 512, 3)
    assert bboxes == face_bboxes == [(0, 0, 0, 0)] * 2 and json.loads(points) == []
    assert [frame["people"] for frame in pose_keypoint] == [[], []]


def test_cancel_is_checked_between_frames_and_detections(nodes, wan_class, crowd_yolox, marker_pose, crowd_clip,
                                                         character, monkeypatch):
    """ComfyUI's hooks (throw_exception_if_processing_interrupted(), ProgressBar(total).update(1)); Cancel is
    pressed once the frames are converted and the first frame is detected."""
    events = []

    class Interrupted(Exception):
        pass

    def check():
        events.append("check")
        if events.count("detected") >= 1:
            raise Interrupted

    install_comfy(monkeypatch,
                  model_management=types.SimpleNamespace(throw_exception_if_processing_interrupted=check),
                  utils=types.SimpleNamespace(ProgressBar=lambda total: (events.append(("bar", total)),
                                                                         types.SimpleNamespace(update=lambda n: None))[1]))
    detector = nodes.get_detector(str(crowd_yolox), str(marker_pose))
    detect = detector.detect
    monkeypatch.setattr(detector, "detect", lambda *a, **k: (events.append("detected"), detect(*a, **k))[1])
    with pytest.raises(Interrupted):
        call_node(wan_class, images=as_comfy_image(crowd_clip), reference_image=as_comfy_image([character]),
                  width=AREA[0], height=AREA[1], bbox_detector=str(crowd_yolox), pose_estimator=str(marker_pose))
    assert events[0] == ("bar", 8)  # the frames converted, then detected
    assert events[1:] == ["check"] * 4 + ["check", "detected", "check"]  # frame 2 of 4 never detected
