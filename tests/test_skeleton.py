"""skeleton.py: the OpenPose-134 layout as DWPose builds it from the 133 COCO-WholeBody points
(DWPose's annotator/dwpose/wholebody.py: neck = mean of the shoulders, inserted at 17, then the body
reordered with mmpose_idx [17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15, 2, 1, 4, 3] -> openpose_idx
[1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17])."""

import numpy as np

from annotator.dwpose import skeleton
from annotator.dwpose.skeleton import (BODY, BODY_JOINTS, COCO_INDEX, FACE, FEET, LEFT_HAND, LIMBS, NECK, NUM_COCO,
                                       NUM_OPENPOSE, PARTS, RIGHT_HAND, coco_to_openpose, pad_to_whole_body)

# COCO-17 body order (nose, left eye, right eye, left ear, right ear, left shoulder, right shoulder, ...).
COCO_BODY = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
             "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
             "right_knee", "left_ankle", "right_ankle"]


def test_parts_cover_the_134_points_once_in_order():
    covered = [i for part in (BODY, FEET, FACE, LEFT_HAND, RIGHT_HAND) for i in range(part.start, part.stop)]
    assert covered == list(range(NUM_OPENPOSE))
    assert list(PARTS.values()) == [BODY, FEET, FACE, LEFT_HAND, RIGHT_HAND]
    assert [p.stop - p.start for p in PARTS.values()] == [18, 6, 68, 21, 21]


def test_every_openpose_body_joint_comes_from_the_coco_joint_of_its_name():
    assert len(BODY_JOINTS) == 18 and BODY_JOINTS[NECK] == "neck" and COCO_INDEX[NECK] == -1
    for openpose, name in enumerate(BODY_JOINTS):
        if name != "neck":
            assert COCO_BODY[COCO_INDEX[openpose]] == name
    # the rest keeps the COCO order: feet, face, hands follow the 17 body points
    np.testing.assert_array_equal(COCO_INDEX[18:], np.arange(17, NUM_COCO))
    assert sorted(COCO_INDEX[COCO_INDEX >= 0]) == list(range(NUM_COCO))


def test_joint_constants_name_their_joints():
    for constant, name in ((skeleton.NOSE, "nose"), (skeleton.RIGHT_WRIST, "right_wrist"),
                           (skeleton.LEFT_WRIST, "left_wrist"), (skeleton.RIGHT_ANKLE, "right_ankle"),
                           (skeleton.LEFT_ANKLE, "left_ankle"), (skeleton.R_EYE, "right_eye"),
                           (skeleton.L_EYE, "left_eye")):
        assert BODY_JOINTS[constant] == name
    assert skeleton.FOOT_JOINTS[:3] == ("left_big_toe", "left_small_toe", "left_heel")


def test_limbs_join_body_joints_and_each_drawn_limb_has_a_colour():
    assert all(1 <= a <= 18 and 1 <= b <= 18 for a, b in LIMBS)
    assert len(skeleton.BODY_LIMBS) == skeleton.DRAWN_LIMBS == 17 and len(skeleton.COLORS) == 18
    assert len(skeleton.HAND_EDGES) == len(skeleton.HAND_COLORS) == 20
    assert {BODY_JOINTS[a - 1] + "-" + BODY_JOINTS[b - 1] for a, b in skeleton.BODY_LIMBS[:2]} == \
        {"neck-right_shoulder", "neck-left_shoulder"}


def test_coco_to_openpose_inserts_the_neck_and_reorders():
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 100, (2, NUM_COCO, 2))
    scores = rng.uniform(0, 1, (2, NUM_COCO)).astype(np.float32)
    scores[0, [5, 6]] = [0.9, 0.8]  # both shoulders above 0.3: the neck is shown
    scores[1, [5, 6]] = [0.9, 0.29]  # one below 0.3: hidden
    points, out_scores = coco_to_openpose(keypoints, scores)
    assert points.shape == (2, NUM_OPENPOSE, 2) and out_scores.dtype == np.float32
    np.testing.assert_array_equal(points[:, NECK], (keypoints[:, 5] + keypoints[:, 6]) / 2)
    assert list(out_scores[:, NECK]) == [1.0, 0.0]
    others = COCO_INDEX >= 0
    np.testing.assert_array_equal(points[:, others], keypoints[:, COCO_INDEX[others]])
    np.testing.assert_array_equal(out_scores[:, others], scores[:, COCO_INDEX[others]])


def test_body_models_are_padded_with_hidden_points():
    keypoints, scores = np.ones((3, 17, 2)), np.ones((3, 17), np.float32)
    padded, padded_scores = pad_to_whole_body(keypoints, scores)
    assert padded.shape == (3, NUM_COCO, 2) and (padded[:, 17:] == 0).all() and (padded_scores[:, 17:] == 0).all()
    whole = np.ones((1, NUM_COCO, 2)), np.ones((1, NUM_COCO), np.float32)
    assert pad_to_whole_body(*whole)[0] is whole[0]
