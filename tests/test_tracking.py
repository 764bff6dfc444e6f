"""video/tracking.py as units: identities (PoseTracker), who is kept (select_people), the boxes between
detector runs (keypoint_boxes) and when the detector must run again (collapsed, duplicated); poses built
here, with known truth."""

import numpy as np
import pytest

from annotator.dwpose import Poses
from annotator.dwpose.skeleton import BODY, NUM_OPENPOSE
from annotator.dwpose.video.tracking import (PoseTracker, box_iou, collapsed, duplicated, keypoint_boxes,
                                             select_people)

# A standing figure's 18 body points in a 40 x 100 box (x, y), from its top left corner.
FIGURE = np.array([[20, 5], [20, 20], [10, 20], [6, 40], [4, 58], [30, 20], [34, 40], [36, 58], [14, 55],
                   [14, 78], [14, 98], [26, 55], [26, 78], [26, 98], [18, 3], [22, 3], [15, 5], [25, 5]], float)


def people(*corners, score=0.9, size=(640, 480), scale=1.0) -> Poses:
    """One figure per (x, y) corner, body points scored `score`, the rest hidden; boxes around them."""
    n = len(corners)
    points = np.zeros((n, NUM_OPENPOSE, 2))
    scores = np.zeros((n, NUM_OPENPOSE), np.float32)
    boxes = np.zeros((n, 4), np.float32)
    for i, (x, y) in enumerate(corners):
        points[i, BODY] = FIGURE * scale + (x, y)
        scores[i, BODY] = score
        boxes[i] = [x - 5, y - 5, x + 45 * scale, y + 105 * scale]
    return Poses(points, scores, boxes, np.full(n, 0.9, np.float32), *size)


def test_box_iou():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(box_iou(a, b), [[1, 50 / 150, 0], [0, 0, 0]])


def test_ids_follow_people_as_they_move_and_swap_places_in_the_list():
    tracker = PoseTracker()
    assert list(tracker.assign(people((100, 100), (400, 100)))) == [0, 1]
    assert list(tracker.assign(people((106, 102), (394, 101)))) == [0, 1]
    # the detector lists them the other way round: the ids go with the people
    assert list(tracker.assign(people((388, 100), (112, 104)))) == [1, 0]


def test_a_newcomer_gets_a_new_id_and_a_lost_track_ends_after_max_missed():
    tracker = PoseTracker(max_missed=2)
    tracker.assign(people((100, 100)))
    assert list(tracker.assign(people((100, 100), (400, 200)))) == [0, 1]
    for _ in range(3):  # person 0 unseen for three frames: past max_missed
        tracker.assign(people((400, 200)))
    assert list(tracker.assign(people((100, 100), (400, 200)))) == [2, 1]


def test_a_person_hidden_while_walking_is_recognised_where_its_velocity_takes_it():
    tracker = PoseTracker()
    for step in range(4):  # 10 px a frame to the right
        assert list(tracker.assign(people((100 + 10 * step, 100)))) == [0]
    for step in range(4, 7):  # hidden for three frames
        tracker.assign(Poses.empty(640, 480))
    # back 40 px further than it was last seen, where it was heading: its old box barely overlaps (IoU 0.11)
    # and its old keypoints are far off, so only the prediction recognises it
    assert list(tracker.assign(people((100 + 10 * 7, 100)))) == [0]
    other = PoseTracker()
    other.assign(people((130, 100)))
    assert list(other.assign(people((170, 100)))) == [1]  # the same jump without a velocity: someone new


def test_an_empty_frame_gives_no_ids():
    assert PoseTracker().assign(Poses.empty(64, 64)).shape == (0,)


def test_select_people():
    poses = people((10, 10), (300, 180), (500, 20), scale=1.0)
    poses.boxes[1] = [250, 140, 390, 340]  # the biggest, and nearest the centre (320, 240)
    poses.track_ids = np.array([7, 8, 9])
    assert list(select_people(poses)) == [0, 1, 2]
    assert list(select_people(poses, people="largest")) == [1]
    assert list(select_people(poses, people="center")) == [1]
    assert list(select_people(poses, people=[9, 7])) == [0, 2]  # in image order
    assert list(select_people(poses, max_people=2)) == [0, 1]  # the two biggest, in image order
    assert list(select_people(poses, max_people=0)) == []
    assert list(select_people(Poses.empty(64, 64), people="largest")) == []
    with pytest.raises(ValueError, match="people must be"):
        select_people(poses, people="tallest")


def test_keypoint_boxes_widen_the_visible_body_points():
    poses = people((100, 100))
    (box,) = keypoint_boxes(poses)
    low, high = FIGURE.min(axis=0) + 100, FIGURE.max(axis=0) + 100
    center, half = (low + high) / 2, (high - low) / 2 * 1.2
    np.testing.assert_allclose(box, [*(center - half), *(center + half)])
    # too few visible points to say anything: the person's box as it was
    poses.scores[0, 1:18] = 0
    np.testing.assert_array_equal(keypoint_boxes(poses)[0], poses.boxes[0])


def test_collapsed_and_duplicated_say_when_to_detect_again():
    assert list(collapsed(people((100, 100), (300, 100)))) == [False, False]
    low = people((100, 100), score=0.2)
    assert list(collapsed(low)) == [True]
    assert collapsed(Poses.empty(8, 8)).shape == (0,)
    assert not duplicated(people((100, 100), (300, 100)))
    assert duplicated(people((100, 100), (101, 100)))  # one person's points found twice
