"""Poses: the people found in one image, in the OpenPose-134 layout (skeleton.py), in pixels of that image.

The formats (formats/) are reached through Poses' to_* / from_* / save_* methods.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .formats import coco_wholebody, comfyui, npz, openpose_json, pose_dict, table
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
    identities across the frames of a video (DWposeDetector.track), else None; normalized_keypoints: float64
    (N, 134, 2) x / width, y / height as a format that stores relative coordinates gave them (npz, pose dicts,
    normalised OpenPose JSON), else None. Maps are drawn from relative coordinates (relative()), so a map drawn
    from a relative format has the pixels its writer's poses had, even where x / width * width is not x.
    """

    exact_keypoints: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    box_scores: np.ndarray
    width: int
    height: int
    track_ids: np.ndarray | None = None
    normalized_keypoints: np.ndarray | None = None

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
                     self.box_scores.copy(), int(width), int(height), track_ids=self.track_ids,
                     normalized_keypoints=self.normalized_keypoints)

    def subset(self, indices) -> "Poses":
        """The persons at `indices`, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        relative = self.normalized_keypoints
        return Poses(self.exact_keypoints[indices], self.scores[indices], self.boxes[indices], self.box_scores[indices],
                     self.width, self.height, None if self.track_ids is None else self.track_ids[indices],
                     None if relative is None else relative[indices])

    def visible(self, threshold: float = THRESHOLD) -> np.ndarray:
        """bool (N, 134): which points are shown at `threshold` (see visible_mask)."""
        return visible_mask(self.exact_keypoints, self.scores, threshold)

    def relative(self) -> np.ndarray:
        """float64 (N, 134, 2) coordinates relative to the image size: normalized_keypoints where a format gave
        them, else exact_keypoints divided by the width and height."""
        if self.normalized_keypoints is not None:
            return np.array(self.normalized_keypoints, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            return self.exact_keypoints / np.array([float(self.width), float(self.height)])

    def normalized(self, threshold: float = THRESHOLD, visible: np.ndarray | None = None) -> np.ndarray:
        """float64 (N, 134, 2) relative coordinates (relative()), -1 where hidden.
        `visible`: the mask of visible(threshold), when the caller has it already."""
        points = self.relative()
        points[~(self.visible(threshold) if visible is None else visible)] = -1
        return points

    def to_openpose_json(self, threshold: float = THRESHOLD) -> dict:
        """sd-webui-controlnet's OpenPose JSON (what its pose editor reads), in absolute pixels; see
        formats/openpose_json.py."""
        return openpose_json.to_openpose_json(self, threshold)

    def save_openpose_json(self, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
        """Write to_openpose_json(threshold) to the file `path`."""
        openpose_json.save_openpose_json(self, path, threshold)

    @classmethod
    def from_openpose_json(cls, frame: dict, width: int | None = None, height: int | None = None,
                           normalized: bool | None = None) -> "Poses":
        """Poses from an OpenPose JSON frame (a dict: sd-webui-controlnet's and its editor's, OpenPose's own with
        BODY_25 or 70-point faces, a pose video's jsonl line), in pixels of its canvas (`width` x `height` when
        it does not say its size); coordinates pixels, or normalised where a part's are all within [0, 1]
        (`normalized` forces either). Malformed data raises PoseFormatError naming the field; see
        formats/openpose_json.py read_openpose_json."""
        return cls(**openpose_json.read_openpose_json(frame, width, height, normalized))

    @classmethod
    def from_pose_keypoint(cls, frame: dict) -> "Poses":
        """Poses from one frame of a ComfyUI POSE_KEYPOINT (comfyui_controlnet_aux's nodes, ours with
        "foot_keypoints_2d" and "track_id"), in pixels of its canvas; see formats/comfyui.py."""
        return cls(**comfyui.read_pose_keypoint(frame))

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

    @classmethod
    def from_npz(cls, source, width: int, height: int) -> "Poses":
        """Poses from a Cog-style npz (a path or file object) in pixels of a width x height image (the file is
        relative to it); safe on files from elsewhere (only numpy arrays are unpickled); see formats/npz.py."""
        return cls(**npz.read_npz(source, width, height))

    def save_npz(self, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
        """Write a Cog-style npz file: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)},
        coordinates relative to the image size, -1 where hidden. Load with allow_pickle=True."""
        npz.save_npz(self, path, threshold)

    to_npz = save_npz  # the name of earlier releases

    def to_coco_wholebody(self, image_id: int) -> list[dict]:
        """COCO-WholeBody result entries (for xtcocotools), keypoints as (x, y, score) triplets in COCO order;
        `score` is the mean keypoint score, per-part means are `<part>_score`."""
        return coco_wholebody.to_coco_wholebody(self, image_id)

    @classmethod
    def from_coco_wholebody(cls, entries: list, width: int, height: int, image_id=None) -> "Poses":
        """Poses from COCO-WholeBody result entries of one image (those of `image_id`), in pixels of its
        width x height; see formats/coco_wholebody.py."""
        return cls(**coco_wholebody.read_coco_wholebody(entries, width, height, image_id))

    def to_row(self, path: str | None = None, frame: int | None = None, time: float | None = None) -> dict:
        """The Parquet row of these poses (formats/table.py), in pixels of this image."""
        return table.pose_row(path, frame, time, self, self.width, self.height)

    @classmethod
    def from_row(cls, row: dict) -> "Poses":
        """Poses from a Parquet row (a dict, as pyarrow's to_pylist gives it), losslessly; see formats/table.py."""
        return cls(**table.read_row(row))
