"""formats/: each format written from Poses whose truth is known (shown and hidden points, NaN, a person
without hands), read back where the project reads it (pose dicts: test_pose_dict.py; Parquet rows here),
and reached the same way through the Poses methods."""

import json

import numpy as np
import pytest

from annotator.dwpose import Poses
from annotator.dwpose.formats import coco_wholebody, comfyui, npz, openpose_json, table
from annotator.dwpose.skeleton import BODY, COCO_INDEX, FACE, L_EYE, LEFT_HAND, NUM_OPENPOSE, R_EYE, RIGHT_HAND


@pytest.fixture
def poses():
    """Two people in a 200 x 100 image: person 0 fully shown; person 1 with its hands and face hidden, one
    body point at exactly the threshold (hidden: the body needs > 0.3) and one at NaN."""
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 100, (2, NUM_OPENPOSE, 2))
    scores = np.full((2, NUM_OPENPOSE), 0.9, np.float32)
    scores[1, LEFT_HAND] = scores[1, RIGHT_HAND] = scores[1, FACE] = 0.1
    scores[1, 3] = np.float64(0.3)  # float32(0.3) is above the float64 0.3: shown
    scores[1, 4] = 0.25
    points[1, 5] = np.nan
    boxes = np.array([[1, 2, 90, 95], [50, 5, 120, 99]], np.float32)
    return Poses(points, scores, boxes, np.array([0.8, 0.6], np.float32), 200, 100, track_ids=np.array([4, 9]))


def triplets(values):
    return np.asarray(values, dtype=np.float64).reshape(-1, 3)


def test_openpose_json(poses, tmp_path):
    data = openpose_json.to_openpose_json(poses)
    assert (data["canvas_width"], data["canvas_height"], data["animals"]) == (200, 100, [])
    first, second = data["people"]
    assert (first["track_id"], second["track_id"]) == (4, 9)
    body = triplets(first["pose_keypoints_2d"])
    np.testing.assert_array_equal(body[:, :2], poses.exact_keypoints[0, BODY])
    assert (body[:, 2] == 1).all()
    face = triplets(first["face_keypoints_2d"])
    assert len(face) == 70  # 68 face points, then the body's right and left eye
    np.testing.assert_array_equal(face[68:, :2], poses.exact_keypoints[0, [R_EYE, L_EYE]])
    np.testing.assert_array_equal(triplets(first["hand_left_keypoints_2d"])[:, :2], poses.exact_keypoints[0, LEFT_HAND])
    assert second["face_keypoints_2d"] is None and second["hand_left_keypoints_2d"] is None
    hidden = triplets(second["pose_keypoints_2d"])
    assert list(hidden[[3, 4, 5], 2]) == [1, 0, 0] and (hidden[[4, 5]] == 0).all()
    path = tmp_path / "pose.json"
    poses.save_openpose_json(path)
    assert json.loads(path.read_text()) == data == poses.to_openpose_json()
    assert openpose_json.to_openpose_json(poses, threshold=0.95)["people"][0]["face_keypoints_2d"] is None


def test_comfyui_pose_keypoint(poses):
    frame = comfyui.to_pose_keypoint(poses, 400, 300, include_face=False)
    assert "animals" not in frame and (frame["canvas_width"], frame["canvas_height"]) == (400, 300)
    body = triplets(frame["people"][0]["pose_keypoints_2d"])
    np.testing.assert_allclose(body[:, :2], poses.exact_keypoints[0, BODY] * [2, 3])
    assert all(person["face_keypoints_2d"] is None for person in frame["people"])
    assert frame["people"][0]["hand_right_keypoints_2d"] is not None
    assert poses.to_pose_keypoint(400, 300, include_face=False) == frame
    same_size = comfyui.to_pose_keypoint(poses, include_hand=False)
    assert (same_size["canvas_width"], same_size["people"][0]["hand_left_keypoints_2d"]) == (200, None)


def test_npz(poses, tmp_path):
    path = tmp_path / "pose.npz"
    npz.save_npz(poses, path)
    people = np.load(path, allow_pickle=True)
    assert sorted(people.files) == ["person_0", "person_1"]
    first, second = people["person_0"].item(), people["person_1"].item()
    np.testing.assert_allclose(first["body"], poses.exact_keypoints[0, BODY] / [200, 100])
    assert first["hands"].shape == (2, 21, 2) and first["face"].shape == (68, 2)
    assert (second["hands"] == -1).all() and (second["body"][[4, 5]] == -1).all() and (second["body"][3] != -1).all()
    poses.save_npz(tmp_path / "door.npz")
    assert (tmp_path / "door.npz").read_bytes() == path.read_bytes()


def test_coco_wholebody(poses):
    entries = coco_wholebody.to_coco_wholebody(poses, 42)
    assert [e["image_id"] for e in entries] == [42, 42]
    coco = np.concatenate([triplets(entries[0][key]) for key in
                           ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")])
    assert coco.shape == (133, 3)
    shown = COCO_INDEX >= 0  # every point but the neck, in COCO order
    np.testing.assert_array_equal(coco[COCO_INDEX[shown], :2], poses.exact_keypoints[0, shown])
    assert entries[0]["score"] == pytest.approx(0.9) and entries[1]["face_score"] == pytest.approx(0.1)
    assert np.isfinite(triplets(entries[1]["keypoints"])).all()  # NaN is written as 0
    assert poses.to_coco_wholebody(42) == entries


def test_table_rows_round_trip(poses, tmp_path):
    pytest.importorskip("pyarrow")
    row = table.pose_row("/photos/a.png", 3, 0.1, poses, 400, 200)
    np.testing.assert_allclose(row["keypoints"], poses.exact_keypoints * 2, equal_nan=True)
    path = tmp_path / "rows.parquet"
    table.write_rows([row, table.pose_row("/photos/b.png", None, None, Poses.empty(10, 10), 10, 10)], path)
    read = table.read_table(path).to_pylist()
    assert read[0]["path"] == "/photos/a.png" and read[0]["track_ids"] == [4, 9] and read[1]["keypoints"] == []
    np.testing.assert_array_equal(np.array(read[0]["keypoints"]), np.array(row["keypoints"]))
    np.testing.assert_array_equal(np.array(read[0]["scores"], np.float32), poses.scores)
    assert table.read_table(path).schema == table.table_schema()
