"""Pose data other tools write, read as they write it, and malformed data refused with the field named.

Each writer is transcribed from its source (the facts, not the code), at the commit read:
- sd-webui-controlnet @ 56cec5b, annotator/openpose/wholebody.py format_result and __init__.py
  encode_poses_as_json: a point is kept when its score is >= 0.3 and written [x, y, 1.0] in pixels, else
  [0, 0, 0]; a part with no kept point is null (the body is then 18 x [0, 0, 0]); the face is the 68 face
  points and the body's points 14 and 15; "animals": [] and the canvas size.
- huchenlei/sd-webui-openpose-editor @ 0026f45, src/Openpose.ts serialize / toJson: pixels, [x, y, 1.0] or
  [0, 0, 0], absent hands and face left out (the keys missing), a face of 70 (68 + two eyeballs).
- CMU OpenPose, doc/02_output.md and fileStream.cpp: {"version": 1.3, "people": [{"person_id": [-1],
  "pose_keypoints_2d": BODY_25, ... "*_3d": []}]}, confidences 0..1, no canvas size.
- westNeighbor/ComfyUI-ultimate-openpose-editor @ 1a1d5ff, util.py draw_pose_json: normalised coordinates,
  confidences as they came, [] for an absent part.
- MagosDigitalStudio's DWPoseTERenderer (fork nikhilash6 @ 9174c18): lists of [x, y, score] points.
- kijai/ComfyUI-WanAnimatePreprocess @ 1a35b81, pose2d_utils.py split_kp2ds_for_aa and
  load_pose_metas_from_kp2ds_seq: POSEDATA metas, body 20 (OpenPose-18, left toe, right toe), face 69 rows
  (the right heel first), x / width and y / height with the score, or AAPoseMeta objects in pixels.
- judian17/ComfyUI-SDPose-OOD @ 1236535, convert_to_openpose_json: "foot_keypoints_2d" of 6.
- grmchn/ComfyUI-ProportionChanger @ 129956b, utils/pose_processing.py: a hidden point as (-W, -H, 1.0).
"""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from annotator.dwpose import Poses
from annotator.dwpose.errors import PoseFormatError
from annotator.dwpose.pose_files import read_pose_frames
from annotator.dwpose.render import draw_poses
from annotator.dwpose.skeleton import BODY, FACE, FEET, LEFT_HAND, NUM_OPENPOSE, RIGHT_HAND


def flat(points, shown) -> list:
    values = []
    for (x, y), visible in zip(points, shown):
        values += [float(x), float(y), 1.0] if visible else [0.0, 0.0, 0.0]
    return values


def webui_dwpose_json(poses: Poses) -> dict:
    """sd-webui-controlnet's JSON of DWPose results (see the module docstring)."""
    people = []
    for n in range(len(poses)):
        kept = np.asarray(poses.scores[n], np.float64) >= 0.3
        points = poses.exact_keypoints[n]

        def part(index):
            return flat(points[index], kept[index]) if kept[index].any() else None

        face = None
        if kept[FACE].any():
            face = flat(points[FACE], kept[FACE]) + flat(points[[14, 15]], kept[[14, 15]])
        people.append({"pose_keypoints_2d": flat(points[BODY], kept[BODY]), "face_keypoints_2d": face,
                       "hand_left_keypoints_2d": part(LEFT_HAND), "hand_right_keypoints_2d": part(RIGHT_HAND)})
    return {"people": people, "animals": [], "canvas_height": poses.height, "canvas_width": poses.width}


@pytest.fixture
def two_people():
    rng = np.random.default_rng(11)
    points = rng.uniform(20, 480, (2, NUM_OPENPOSE, 2))
    scores = rng.choice(np.array([0.1, 0.5, 0.9], np.float32), (2, NUM_OPENPOSE))
    scores[1, LEFT_HAND] = 0.1  # a hand with nothing shown: null
    return Poses(points, scores, np.zeros((2, 4), np.float32), np.zeros(2, np.float32), 512, 384)


def test_sd_webui_controlnet_json_draws_as_the_web_ui_drew_it(two_people):
    data = json.loads(json.dumps(webui_dwpose_json(two_people)))
    assert data["people"][1]["hand_left_keypoints_2d"] is None
    read = Poses.from_openpose_json(data)
    assert (read.width, read.height) == (512, 384) and read.normalized_keypoints is None
    for style in ("sd-webui-controlnet", "controlnet"):
        np.testing.assert_array_equal(draw_poses(read, style=style), draw_poses(two_people, style=style))


def test_pose_editor_file_with_missing_keys_and_a_70_point_face():
    body = [[100 + 10 * j, 50 + 20 * j] for j in range(18)]
    shown = [j != 3 for j in range(18)]
    face = [[200 + j, 100 + (j % 7)] for j in range(70)]
    data = {"people": [{"pose_keypoints_2d": flat(body, shown), "face_keypoints_2d": flat(face, [True] * 70)}],
            "animals": [], "canvas_width": 768, "canvas_height": 512}
    read = Poses.from_openpose_json(data)
    np.testing.assert_array_equal(read.exact_keypoints[0, BODY][shown], np.array(body, float)[shown])
    np.testing.assert_array_equal(read.exact_keypoints[0, FACE], np.array(face[:68], float))
    assert not read.visible()[0, 3] and read.visible()[0, BODY].sum() == 17
    assert not read.visible()[0, LEFT_HAND].any() and not read.visible()[0, RIGHT_HAND].any()
    expected = np.zeros((1, NUM_OPENPOSE, 2))
    expected[0, BODY], expected[0, FACE] = body, face[:68]
    scores = np.zeros((1, NUM_OPENPOSE), np.float32)
    scores[0, BODY], scores[0, FACE] = shown, 1
    direct = Poses(expected, scores, np.zeros((1, 4), np.float32), np.zeros(1, np.float32), 768, 512)
    np.testing.assert_array_equal(draw_poses(read), draw_poses(direct))


def openpose_body_25_file():
    """One person: BODY_25 with a mid-hip, real confidences, a 70-point face, no canvas size."""
    body = np.array([[300 + 5 * j, 100 + 15 * j, 0.8] for j in range(25)])
    body[8] = [999, 999, 0.9]  # mid-hip: not in COCO-18
    body[4, 2] = 0.2  # right wrist: not confident
    face = [[400 + j, 60 + j % 5, 0.7] for j in range(70)]
    hand = [[50 + j, 400 + j, 0.25 if j == 0 else 0.6] for j in range(21)]
    return {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": body.ravel().tolist(),
                                        "face_keypoints_2d": np.ravel(face).tolist(),
                                        "hand_left_keypoints_2d": np.ravel(hand).tolist(),
                                        "hand_right_keypoints_2d": [], "pose_keypoints_3d": [],
                                        "face_keypoints_3d": [], "hand_left_keypoints_3d": [],
                                        "hand_right_keypoints_3d": []}]}, body


def test_openpose_body_25_with_confidences():
    data, body = openpose_body_25_file()
    with pytest.raises(PoseFormatError, match="canvas_width: missing"):
        Poses.from_openpose_json(data)
    read = Poses.from_openpose_json(data, 640, 480)
    coco_18 = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    np.testing.assert_array_equal(read.exact_keypoints[0, BODY], body[coco_18, :2])
    np.testing.assert_array_equal(read.exact_keypoints[0, FEET], body[19:25, :2])
    visible = read.visible()[0]
    assert not visible[4] and visible[BODY].sum() == 17  # 0.2 is below the threshold
    assert visible[FEET].all() and visible[FACE].all()
    assert visible[LEFT_HAND].sum() == 20 and not visible[RIGHT_HAND].any()
    assert draw_poses(read).any()


def test_normalised_frames_read_as_the_editors_write_them():
    """ultimate-openpose-editor: normalised, [] for absent parts; a hand just off the canvas (x 1.02) keeps the
    frame normalised (a [0, 1] rule would take it for pixels)."""
    body = [[(j + 1) / 32, (j + 2) / 32] for j in range(18)]
    hand = [[0.5 + j / 64, 0.25] for j in range(21)]
    hand[20] = [1.02, 0.25]
    frame = {"people": [{"pose_keypoints_2d": flat(body, [True] * 18), "face_keypoints_2d": [],
                         "hand_left_keypoints_2d": flat(hand, [True] * 21), "hand_right_keypoints_2d": []}],
             "canvas_width": 512, "canvas_height": 768}
    read = Poses.from_openpose_json(frame)
    np.testing.assert_array_equal(read.normalized_keypoints[0, BODY], body)
    np.testing.assert_array_equal(read.exact_keypoints[0, BODY], np.array(body) * [512, 768])
    in_pixels = json.loads(json.dumps(frame))
    for key in ("pose_keypoints_2d", "hand_left_keypoints_2d"):
        values = np.array(in_pixels["people"][0][key]).reshape(-1, 3)
        values[:, :2] *= [512, 768]
        in_pixels["people"][0][key] = values.ravel().tolist()
    for style in ("controlnet", "sd-webui-controlnet", "easy-dwpose"):
        np.testing.assert_array_equal(draw_poses(read, style=style),
                                      draw_poses(Poses.from_openpose_json(in_pixels), style=style))
    forced = Poses.from_openpose_json(frame, normalized=False)
    np.testing.assert_array_equal(forced.exact_keypoints[0, BODY], body)


def test_nested_points_real_scores_and_feet():
    """Magos' nested [x, y, score] points with a 68-point face; SDPose's foot_keypoints_2d."""
    body = [[100.0 + j, 200.0 + j, 0.9] for j in range(18)]
    feet = [[150.0 + j, 380.0, 0.8] for j in range(6)]
    frame = {"people": [{"pose_keypoints_2d": body, "face_keypoints_2d": [[300.0 + j, 90.0, 0.6] for j in range(68)],
                         "foot_keypoints_2d": flat(np.array(feet)[:, :2], [True] * 6)}],
             "canvas_width": 400, "canvas_height": 400}
    read = Poses.from_pose_keypoint(frame)
    np.testing.assert_array_equal(read.exact_keypoints[0, BODY], np.array(body)[:, :2])
    np.testing.assert_array_equal(read.exact_keypoints[0, FEET], np.array(feet)[:, :2])
    assert read.visible()[0, FEET].all() and read.visible()[0, FACE].all()
    assert not np.array_equal(draw_poses(read, include_foot=True), draw_poses(read))


def test_the_dwpose_hidden_mark_hides_a_point_whatever_its_confidence():
    """ProportionChanger writes a hidden point as (-W, -H, 1.0): relative (-1, -1)."""
    body = [[-512.0, -768.0] if j == 4 else [100.0 + j, 100.0 + j] for j in range(18)]
    read = Poses.from_openpose_json({"people": [{"pose_keypoints_2d": flat(body, [True] * 18)}],
                                     "canvas_width": 512, "canvas_height": 768})
    assert not read.visible()[0, 4] and read.visible()[0, BODY].sum() == 17


def test_proportion_changer_25_point_bodies_are_18_and_two_toes():
    """Its frames say "version": "1.0" (a string; OpenPose's 1.3 is a number): points 18 and 19 are the left and
    right toe, 20-24 zeros."""
    body = [[100.0 + 3 * j, 50.0 + 7 * j] for j in range(20)] + [[0.0, 0.0]] * 5
    shown = [True] * 20 + [False] * 5
    read = Poses.from_openpose_json({"version": "1.0", "people": [{"pose_keypoints_2d": flat(body, shown)}],
                                     "canvas_width": 512, "canvas_height": 512})
    np.testing.assert_array_equal(read.exact_keypoints[0, BODY], body[:18])
    np.testing.assert_array_equal(read.exact_keypoints[0, FEET], [body[18], body[18], [0, 0], body[19], body[19], [0, 0]])
    assert list(read.visible()[0, FEET]) == [True, True, False, True, True, False]


def kijai_metas(rng, width, height, frames=2):
    """POSEDATA's pose_metas_original (normalised dicts) and the same poses as AAPoseMeta-like objects."""
    originals, objects = [], []
    for _ in range(frames):
        parts = {"keypoints_body": 20, "keypoints_left_hand": 21, "keypoints_right_hand": 21, "keypoints_face": 69}
        meta = {"width": width, "height": height}
        for key, count in parts.items():
            meta[key] = np.concatenate([rng.uniform(0.05, 0.95, (count, 2)), rng.uniform(0, 1, (count, 1))], axis=1)
        originals.append(meta)
        attributes = {"keypoints_body": "kps_body", "keypoints_left_hand": "kps_lhand",
                      "keypoints_right_hand": "kps_rhand", "keypoints_face": "kps_face"}
        obj = SimpleNamespace(width=width, height=height)
        for key, name in attributes.items():
            setattr(obj, name, meta[key][:, :2] * [width, height])
            setattr(obj, name + "_p", meta[key][:, 2])
        objects.append(obj)
    return originals, objects


def test_kijai_posedata():
    rng = np.random.default_rng(5)
    originals, objects = kijai_metas(rng, 720, 1280)
    from_dicts = read_pose_frames({"pose_metas_original": originals, "pose_metas": None, "retarget_image": None})
    from_objects = read_pose_frames({"pose_metas": objects, "pose_metas_original": originals})
    assert len(from_dicts) == len(from_objects) == 2
    for poses, meta, other in zip(from_dicts, originals, from_objects):
        body, face = meta["keypoints_body"], meta["keypoints_face"]
        assert (poses.width, poses.height, len(poses)) == (720, 1280, 1)
        np.testing.assert_array_equal(poses.normalized_keypoints[0, BODY], body[:18, :2])
        np.testing.assert_array_equal(poses.scores[0, BODY], body[:18, 2].astype(np.float32))
        np.testing.assert_array_equal(poses.normalized_keypoints[0, FACE], face[1:, :2])
        np.testing.assert_array_equal(poses.normalized_keypoints[0, LEFT_HAND], meta["keypoints_left_hand"][:, :2])
        feet = poses.normalized_keypoints[0, FEET]
        np.testing.assert_array_equal(feet[[0, 1]], body[[18, 18], :2])
        np.testing.assert_array_equal(feet[[3, 4]], body[[19, 19], :2])
        np.testing.assert_array_equal(feet[5], face[0, :2])
        np.testing.assert_allclose(other.exact_keypoints, poses.exact_keypoints)
        assert np.array_equal(other.scores, poses.scores)
    with pytest.raises(PoseFormatError, match=r"pose_metas\[0\].keypoints_face"):
        bad = dict(originals[0], keypoints_face=originals[0]["keypoints_face"][:68])
        read_pose_frames({"pose_metas_original": [bad]})


def test_host_values_as_json_strings_and_single_frames(two_people):
    frame = two_people.to_pose_keypoint()
    for value in (json.dumps([frame, frame]), [frame, frame]):
        frames = read_pose_frames(value)
        assert len(frames) == 2 and frames[1].to_pose_keypoint() == frame
    assert read_pose_frames(frame)[0].to_pose_keypoint() == frame
    with pytest.raises(PoseFormatError, match="not JSON"):
        read_pose_frames("{'people': None}")


def test_empty_frames_read_as_no_people():
    for frame in ({"people": [], "canvas_width": 64, "canvas_height": 32},
                  {"people": None, "canvas_width": 64, "canvas_height": 32},
                  {"canvas_width": 64.0, "canvas_height": 32}):
        poses = Poses.from_openpose_json(frame)
        assert (len(poses), poses.width, poses.height) == (0, 64, 32)
        assert not draw_poses(poses).any()
    person = Poses.from_openpose_json({"people": [{"pose_keypoints_2d": None, "face_keypoints_2d": None}],
                                       "canvas_width": 64, "canvas_height": 32})
    assert len(person) == 1 and not person.visible().any()


MALFORMED = [
    ([], "expected an OpenPose JSON object"),
    ({"people": {}, "canvas_width": 8, "canvas_height": 8}, "people: expected a list"),
    ({"people": ["x"], "canvas_width": 8, "canvas_height": 8}, r"people\[0\]: expected an object"),
    ({"people": [], "canvas_width": "512", "canvas_height": 8}, "canvas_width: expected a positive whole number"),
    ({"people": [], "canvas_width": -5, "canvas_height": 8}, "canvas_width"),
    ({"people": [], "canvas_width": 8}, "canvas_height: missing"),
    ({"people": [{"pose_keypoints_2d": [1.0, 2.0] * 18}], "canvas_width": 8, "canvas_height": 8},
     r"people\[0\].pose_keypoints_2d: expected 54 or 75 values .* got 36 \(x, y pairs without confidences"),
    ({"people": [{"pose_keypoints_2d": [[1.0, 2.0]] * 18}], "canvas_width": 8, "canvas_height": 8},
     r"people\[0\].pose_keypoints_2d\[0\]: expected a point \[x, y, confidence\], got 2 values"),
    ({"people": [{"pose_keypoints_2d": [1.0, "2", 1.0] * 18}], "canvas_width": 8, "canvas_height": 8},
     r"people\[0\].pose_keypoints_2d\[1\]: expected a number, got str '2'"),
    ({"people": [{"pose_keypoints_2d": [1.0, None, 1.0] * 18}], "canvas_width": 8, "canvas_height": 8},
     r"pose_keypoints_2d\[1\]: expected a number, got NoneType None"),
    ({"people": [{"pose_keypoints_2d": [1.0, True, 1.0] * 18}], "canvas_width": 8, "canvas_height": 8},
     r"pose_keypoints_2d\[1\]: expected a number, got bool"),
    ({"people": [{"pose_keypoints_2d": "1 2 1"}], "canvas_width": 8, "canvas_height": 8},
     r"pose_keypoints_2d: expected a list"),
    ({"people": [{"pose_keypoints_2d": [1.0, 2.0, 1.0] * 17}], "canvas_width": 8, "canvas_height": 8},
     r"pose_keypoints_2d: expected 54 or 75 values \(18 or 25 points of x, y, confidence\), got 51"),
    ({"people": [{"hand_left_keypoints_2d": [1.0, 2.0, 1.0] * 20}], "canvas_width": 8, "canvas_height": 8},
     r"people\[0\].hand_left_keypoints_2d: expected 63 values"),
    ({"people": [{"face_keypoints_2d": [1.0, 2.0, 1.0] * 72}], "canvas_width": 8, "canvas_height": 8},
     r"people\[0\].face_keypoints_2d"),
    ({"people": [{"track_id": "a"}], "canvas_width": 8, "canvas_height": 8}, r"people\[0\].track_id"),
]


@pytest.mark.parametrize("frame, message", MALFORMED)
def test_malformed_frames_name_the_field(frame, message):
    with pytest.raises(PoseFormatError, match=message):
        Poses.from_openpose_json(frame)
    with pytest.raises(ValueError):  # PoseFormatError is a ValueError for code written before it
        Poses.from_openpose_json(frame)
