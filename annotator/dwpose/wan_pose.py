"""One person in one frame as Wan 2.2 Animate's preprocessing holds it (Wan-Video/Wan2.2 @ 42bf4cf,
wan/modules/animate/preprocess/pose2d_utils.py): `WanPose` is the meta of load_pose_metas_from_kp2ds_seq
(coordinates relative to the frame), `WanPixels` the AAPoseMeta that draw_aapose_by_meta_new draws (pixels).

Wan's pose model gives float32 (133, 3) arrays (x, y, score in COCO-WholeBody order); the meta divides x by the
frame's width and y by its height in float32, then split_kp2ds_for_aa takes its 20-point body as the mean of
two points each (float32): OpenPose-18 with the neck as the mean of the shoulders (coordinates and scores alike),
then the left toe and the right toe, each the mean of that foot's big and small toe. The hands are COCO 91..111
(left) and 112..132 (right). Wan's face slice is COCO 22..90 (the right heel, then the 68 face points) and its
face box drops the first point (utils.py get_face_bboxes), so `face` holds the 68 face points only.
AAPoseMeta.from_humanapi_meta multiplies the relative float32 coordinates by (width, height) in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .skeleton import COCO_INDEX, NUM_COCO

# split_kp2ds_for_aa: Wan's body point i is the mean of COCO-WholeBody points COCO_FIRST[i] and COCO_SECOND[i].
COCO_FIRST = [0, 6, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, 17, 20]
COCO_SECOND = [0, 5, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, 18, 21]
COCO_LEFT_HAND = slice(91, 112)
COCO_RIGHT_HAND = slice(112, 133)
COCO_FACE = slice(23, 91)
NUM_WAN_BODY = 20
# Wan's body points by name (retarget_pose.py keypoint_list), 0-based.
WAN_BODY_JOINTS = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                   "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                   "right_eye", "left_eye", "right_ear", "left_ear", "left_toe", "right_toe")


@dataclass
class WanPose:
    """One person, relative to a width x height frame: body (20, 3), left_hand / right_hand (21, 3), face
    (68, 3), float32 rows x / width, y / height, score (Wan's meta: keypoints_body, keypoints_left_hand,
    keypoints_right_hand, keypoints_face without its first point)."""

    width: int
    height: int
    body: np.ndarray
    left_hand: np.ndarray
    right_hand: np.ndarray
    face: np.ndarray

    @classmethod
    def from_coco(cls, keypoints, scores, width: int, height: int) -> "WanPose":
        """The meta of COCO-WholeBody `keypoints` (133, 2) in pixels and `scores` (133,), as Wan computes it
        (float32 throughout, as its pose model's arrays are)."""
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # absurd values become inf, as a cast should
            kps = np.concatenate([np.asarray(keypoints, np.float32).reshape(NUM_COCO, 2),
                                  np.asarray(scores, np.float32).reshape(NUM_COCO, 1)], axis=1)
            kps[:, 0] /= width
            kps[:, 1] /= height
            body = (kps[COCO_FIRST] + kps[COCO_SECOND]) / 2
        return cls(int(width), int(height), body, kps[COCO_LEFT_HAND].copy(), kps[COCO_RIGHT_HAND].copy(),
                   kps[COCO_FACE].copy())

    def pixels(self) -> "WanPixels":
        """AAPoseMeta.from_humanapi_meta: the coordinates times (width, height), in float64."""
        scale = np.array([self.width, self.height])

        def part(rows):
            with np.errstate(invalid="ignore", over="ignore"):
                return np.concatenate([rows[:, :2] * scale, rows[:, 2:].astype(np.float64)], axis=1)

        return WanPixels(self.width, self.height, part(self.body), part(self.left_hand), part(self.right_hand))


@dataclass
class WanPixels:
    """One person as draw_aapose_by_meta_new draws it: body (20, 3), left_hand / right_hand (21, 3), float64
    rows x, y (pixels of a width x height canvas), score; NaN coordinates with score 0 where Wan has None."""

    width: int
    height: int
    body: np.ndarray
    left_hand: np.ndarray
    right_hand: np.ndarray


def coco_of_poses(poses, person: int) -> tuple[np.ndarray, np.ndarray]:
    """Person `person` of a Poses as COCO-WholeBody keypoints (133, 2) in pixels and scores (133,): the
    OpenPose layout's points put back in COCO order (the neck, which COCO has not, dropped). Coordinates come
    from the relative ones (relative() times the size) when a relative format gave them."""
    points = poses.exact_keypoints[person]
    if poses.normalized_keypoints is not None:
        points = poses.normalized_keypoints[person] * np.array([float(poses.width), float(poses.height)])
    keypoints = np.zeros((NUM_COCO, 2))
    scores = np.zeros(NUM_COCO, np.float32)
    coco = COCO_INDEX >= 0
    keypoints[COCO_INDEX[coco]] = points[coco]
    scores[COCO_INDEX[coco]] = poses.scores[person][coco]
    return keypoints, scores


def wan_poses(poses) -> list[WanPose]:
    """Each person of a Poses (in its order) as a WanPose of its frame."""
    return [WanPose.from_coco(*coco_of_poses(poses, n), poses.width, poses.height) for n in range(len(poses))]
