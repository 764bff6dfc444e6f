"""Poses: the people found in one image, in the OpenPose-134 layout (skeleton.py), in pixels of that image.

The formats (formats/) are reached through Poses' to_* / from_* / save_* methods.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .formats import coco_wholebody, comfyui, npz, openpose_json, pose_dict
from .skeleton import BODY, NUM_OPENPOSE, THRESHOLD


def visible_mask(keypoints: np.ndarray, scores: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Which points are drawn and exported: body points with score > threshold, the others with
    score >= threshold (the reference's two rules), and only where the coordinates are finite."""
    scores = np.asarray(scores, dtype=np.float64)  # the reference compares in float64
    visible = scores >= threshold
    visible[:, BODY] = scores[:, BODY] > threshold
    return visible & np.isfinite(keypoints).all(axis=-1)


@dataclass(eq=False)
class Poses:
    """People found in one image, in the OpenPose layout, in pixels of that image.

    keypoints: float32 (N, 134, 2); scores: float32 (N, 134); boxes: float32 (N, 4) x1 y1 x2 y2;
    box_scores: float32 (N,), 0 for the whole-image box used when no person was detected;
    width, height: the image size; exact_keypoints: the float64 keypoints the renderer draws
    from (float32 rounding could move a truncated pixel coordinate by one); track_ids: int64 (N,)
    identities across the frames of a video (DWposeDetector.track), else None.
    """

    exact_keypoints: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    box_scores: np.ndarray
    width: int
    height: int
    track_ids: np.ndarray | None = None

    def __post_init__(self):
        with np.errstate(over="ignore"):  # coordinates beyond float32 become inf, as a cast should
            self.keypoints = self.exact_keypoints.astype(np.float32)

    @classmethod
    def empty(cls, width: int, height: int) -> "Poses":
        """No people in a width x height image."""
        return cls(np.zeros((0, NUM_OPENPOSE, 2)), np.zeros((0, NUM_OPENPOSE), np.float32),
                   np.zeros((0, 4), np.float32), np.zeros(0, np.float32), width, height)

    def __len__(self) -> int:
        return len(self.scores)

    def in_pixels_of(self, width: int, height: int) -> "Poses":
        """The same poses in pixels of a width x height version of the image (e.g. the input that was
        resized for detection): x scaled by width / self.width, y by height / self.height."""
        scale = np.array([float(width) / self.width, float(height) / self.height])
        return Poses(self.exact_keypoints * scale, self.scores.copy(), (self.boxes * np.tile(scale, 2)).astype(np.float32),
                     self.box_scores.copy(), int(width), int(height), track_ids=self.track_ids)

    def subset(self, indices) -> "Poses":
        """The persons at `indices`, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return Poses(self.exact_keypoints[indices], self.scores[indices], self.boxes[indices], self.box_scores[indices],
                     self.width, self.height, None if self.track_ids is None else self.track_ids[indices])

    def visible(self, threshold: float = THRESHOLD) -> np.ndarray:
        """bool (N, 134): which points are shown at `threshold` (see visible_mask)."""
        return visible_mask(self.exact_keypoints, self.scores, threshold)

    def normalized(self, threshold: float = THRESHOLD, visible: np.ndarray | None = None) -> np.ndarray:
        """float64 (N, 134, 2) coordinates divided by the image width and height, -1 where hidden.
        `visible`: the mask of visible(threshold), when the caller has it already."""
        points = self.exact_keypoints.copy()
        points[..., 0] /= float(self.width)
        points[..., 1] /= float(self.height)
        points[~(self.visible(threshold) if visible is None else visible)] = -1
        return points

    def to_openpose_json(self, threshold: float = THRESHOLD) -> dict:
        """sd-webui-controlnet's OpenPose JSON (what its pose editor reads), in absolute pixels; see
        formats/openpose_json.py."""
        return openpose_json.to_openpose_json(self, threshold)

    def save_openpose_json(self, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
        """Write to_openpose_json(threshold) to the file `path`."""
        openpose_json.save_openpose_json(self, path, threshold)

    def to_pose_keypoint(self, width: int | None = None, height: int | None = None, include_hand: bool = True,
                         include_face: bool = True, include_body: bool = True, include_foot: bool = False) -> dict:
        """comfyui_controlnet_aux's POSE_KEYPOINT frame, in pixels of a width x height frame (default: this
        image's size), the parts switched off left out as its node leaves them out; see formats/comfyui.py."""
        return comfyui.to_pose_keypoint(self, width, height, include_hand, include_face, include_body, include_foot)

    def to_pose_dict(self, layout: str = "mimicmotion") -> dict:
        """The normalised pose dict of DWPose-based video pipelines: layout "mimicmotion" or "easy-dwpose";
        see formats/pose_dict.py."""
        return pose_dict.to_pose_dict(self, layout)

    @classmethod
    def from_pose_dict(cls, pose: dict, width: int, height: int) -> "Poses":
        """Poses from a pose dict of either to_pose_dict layout, in pixels of a width x height image (the
        dict's coordinates are relative to it); lossless for to_pose_dict's own dicts. Each person gets the
        whole-image box with box score 0 and no track id; see formats/pose_dict.py."""
        return cls(**pose_dict.read_pose_dict(pose, width, height))

    def save_npz(self, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
        """Write a Cog-style npz file: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)},
        coordinates relative to the image size, -1 where hidden. Load with allow_pickle=True."""
        npz.save_npz(self, path, threshold)

    to_npz = save_npz  # the name of earlier releases

    def to_coco_wholebody(self, image_id: int) -> list[dict]:
        """COCO-WholeBody result entries (for xtcocotools), keypoints as (x, y, score) triplets in COCO order;
        `score` is the mean keypoint score, per-part means are `<part>_score`."""
        return coco_wholebody.to_coco_wholebody(self, image_id)
