"""The OpenPose-134 layout as named data: parts, joints, limbs, colours, and the COCO-WholeBody -> OpenPose
conversion (see ../shared/spec/conventions.md).

The pose model predicts the 133 COCO-WholeBody points (body 0-16, feet 17-22, face 23-90, left hand
91-111, right hand 112-132). DWPose inserts a neck (the mean of the shoulders) and reorders the body into
OpenPose-18, giving 134 points: body 0-17, feet 18-23, face 24-91, left hand 92-112, right hand 113-133.
"""

from __future__ import annotations

import colorsys

import numpy as np

NUM_COCO = 133
NUM_COCO_BODY = 17  # RTMPose body models: the other 116 whole-body points are reported hidden
NUM_OPENPOSE = 134

BODY = slice(0, 18)
FEET = slice(18, 24)
FACE = slice(24, 92)
LEFT_HAND = slice(92, 113)
RIGHT_HAND = slice(113, 134)
PARTS = {"body": BODY, "feet": FEET, "face": FACE, "left_hand": LEFT_HAND, "right_hand": RIGHT_HAND}

# OpenPose-18 body joints, in order; the 134-point layout uses the same indices for the body.
BODY_JOINTS = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
               "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
               "right_eye", "left_eye", "right_ear", "left_ear")
# COCO-WholeBody's foot points, in order (left foot first), at FEET.
FOOT_JOINTS = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
NOSE, NECK = 0, 1
RIGHT_WRIST, LEFT_WRIST = 4, 7
RIGHT_ANKLE, LEFT_ANKLE = 10, 13
R_EYE, L_EYE = 14, 15

THRESHOLD = 0.3  # the reference's keypoint score for a point to be shown (and exported)

# Limbs: 1-based OpenPose-18 index pairs; only the first 17 are drawn (the last two exist in the table only).
LIMBS = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
         [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18], [3, 17], [6, 18]]
DRAWN_LIMBS = 17
BODY_LIMBS = LIMBS[:DRAWN_LIMBS]
# Limb i and joint i are drawn in COLORS[i] (RGB).
COLORS = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
          [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
          [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]

# Hands: 0-based pairs of the 21 points; edge e in HSV(e / 20, 1, 1) * 255, as floats (OpenCV rounds them).
HAND_EDGES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11],
              [11, 12], [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]
HAND_HSV = [colorsys.hsv_to_rgb(e / len(HAND_EDGES), 1.0, 1.0) for e in range(len(HAND_EDGES))]
HAND_COLORS = [tuple(255 * c for c in rgb) for rgb in HAND_HSV]
HAND_POINT_COLOR = (0, 0, 255)
FACE_COLOR = (255, 255, 255)

# Feet (opt-in): per foot, big toe -> heel and small toe -> heel, in the style of the hands.
FOOT_EDGES = [[0, 2], [1, 2], [3, 5], [4, 5]]
FOOT_COLORS = [tuple(255 * c for c in colorsys.hsv_to_rgb(e / len(FOOT_EDGES), 1.0, 1.0))
               for e in range(len(FOOT_EDGES))]


def _coco_index_of_openpose() -> np.ndarray:
    """For each of the 134 OpenPose-layout points, its COCO-WholeBody index (-1 for the neck): DWPose inserts
    the neck after the 17 body points, then moves 15 body points to their OpenPose-18 places."""
    with_neck = np.array(list(range(NUM_COCO_BODY)) + [-1] + list(range(NUM_COCO_BODY, NUM_COCO)))
    openpose_places = [1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17]
    taken_from = [17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15, 2, 1, 4, 3]  # positions in `with_neck`
    order = np.arange(NUM_OPENPOSE)
    order[openpose_places] = taken_from
    return with_neck[order]


COCO_INDEX = _coco_index_of_openpose()


def pad_to_whole_body(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (N, 17, ...) output of a COCO body model as (N, 133, ...) whole-body points, the rest hidden
    (location 0, score 0); 133-point input is returned as it is."""
    if keypoints.shape[1] == NUM_COCO:
        return keypoints, scores
    missing = NUM_COCO - keypoints.shape[1]
    return (np.concatenate([keypoints, np.zeros((len(keypoints), missing, 2), keypoints.dtype)], axis=1),
            np.concatenate([scores, np.zeros((len(scores), missing), scores.dtype)], axis=1))


def coco_to_openpose(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 133, 2) float64 keypoints and (N, 133) scores -> the (N, 134, ...) OpenPose layout.

    The neck is the mean of the shoulders (COCO 5 and 6), with score 1 when both shoulder
    scores are > 0.3, else 0.
    """
    shoulders = keypoints[:, [5, 6]]
    neck = (shoulders[:, 0] + shoulders[:, 1]) / 2
    shoulder_scores = scores[:, [5, 6]].astype(np.float64)
    neck_score = ((shoulder_scores[:, 0] > THRESHOLD) & (shoulder_scores[:, 1] > THRESHOLD)).astype(np.float32)
    out_kp = keypoints[:, np.maximum(COCO_INDEX, 0)]
    out_sc = scores[:, np.maximum(COCO_INDEX, 0)].astype(np.float32)
    out_kp[:, NECK] = neck
    out_sc[:, NECK] = neck_score
    return out_kp, out_sc
