"""The 133-point COCO-WholeBody -> 134-point OpenPose layout, and the result formats users exchange.

OpenPose layout (after inserting the neck and reordering the body):
body 0-17 (OpenPose-18), feet 18-23, face 24-91, left hand 92-112, right hand 113-133.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

NUM_COCO = 133
NUM_COCO_BODY = 17  # RTMPose body models: the other 116 whole-body points are reported hidden
NUM_OPENPOSE = 134
NECK = 17  # index of the neck before reordering
BODY = slice(0, 18)
FEET = slice(18, 24)
FACE = slice(24, 92)
LEFT_HAND = slice(92, 113)
RIGHT_HAND = slice(113, 134)
R_EYE, L_EYE = 14, 15
THRESHOLD = 0.3
POSE_DICT_LAYOUTS = ("mimicmotion", "easy_dwpose")  # Poses.to_pose_dict

# OpenPose-18 body positions and the (neck-inserted) COCO positions they take, as DWPose reorders.
_OPENPOSE_IDX = [1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17]
_MMPOSE_IDX = [17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15, 2, 1, 4, 3]


def _coco_index_of_openpose() -> np.ndarray:
    """For each of the 134 OpenPose-layout points, its COCO-WholeBody index (-1 for the neck)."""
    with_neck = np.array(list(range(NECK)) + [-1] + list(range(NECK, NUM_COCO)))
    order = np.arange(NUM_OPENPOSE)
    order[_OPENPOSE_IDX] = _MMPOSE_IDX
    return with_neck[order]


COCO_INDEX = _coco_index_of_openpose()
NECK_INDEX = int(np.flatnonzero(COCO_INDEX == -1)[0])  # 1 in OpenPose-18


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
    out_kp[:, NECK_INDEX] = neck
    out_sc[:, NECK_INDEX] = neck_score
    return out_kp, out_sc


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
        """sd-webui-controlnet's OpenPose JSON (what its pose editor reads), in absolute pixels.

        A hidden point is (0, 0, 0); a face or hand without any visible point is None; the face list
        is the 68 face points followed by the body's right and left eye.
        """
        visible = self.visible(threshold)

        def flat(person: int, part) -> list[float]:
            values = []
            for (x, y), shown in zip(self.exact_keypoints[person, part], visible[person, part]):
                values += [float(x), float(y), 1.0] if shown else [0.0, 0.0, 0.0]
            return values

        people = []
        for n in range(len(self)):
            face = None
            if visible[n, FACE].any():
                face = flat(n, FACE) + flat(n, slice(R_EYE, R_EYE + 1)) + flat(n, slice(L_EYE, L_EYE + 1))
            person = {
                "pose_keypoints_2d": flat(n, BODY),
                "face_keypoints_2d": face,
                "hand_left_keypoints_2d": flat(n, LEFT_HAND) if visible[n, LEFT_HAND].any() else None,
                "hand_right_keypoints_2d": flat(n, RIGHT_HAND) if visible[n, RIGHT_HAND].any() else None,
            }
            if self.track_ids is not None:
                person["track_id"] = int(self.track_ids[n])
            people.append(person)
        return {"people": people, "animals": [], "canvas_width": self.width, "canvas_height": self.height}

    def to_pose_dict(self, layout: str = "mimicmotion") -> dict:
        """The normalised pose dict that DWPose-based video pipelines pass around, as their detectors build it
        from these keypoints. All arrays float64; coordinates are pixels divided by the width and height, with
        nothing hidden in them; hands are every left hand, then every right hand.

        layout "mimicmotion" (Tencent/MimicMotion mimicmotion/dwpose/dwpose_detector.py __call__, which its
        draw_pose reads): {"bodies": {"candidate": (N*18, 2), "subset": (N, 18), "score": (N, 18)},
        "hands": (2N, 21, 2), "hands_score": (2N, 21), "faces": (N, 68, 2), "faces_score": (N, 68)};
        subset[n, j] is 18 n + j where the score is > 0.3 (their fixed threshold), else -1.
        layout "easy_dwpose" (reallyigor/easy_dwpose easy_dwpose/dwpose.py _format_pose): {"bodies": the
        candidate, "body_scores": the subset, "hands", "hands_scores", "faces", "faces_scores"}.

        Extra keys, which their code ignores, make the dict lossless (see from_pose_dict): "feet" (N, 6, 2)
        and "feet_score" ("feet_scores" in the easy_dwpose layout) (N, 6); in the easy_dwpose layout
        "body_keypoint_scores" (N, 18), the body scores its subset replaces; "pixel_residual" (N, 134, 2),
        pixels - normalised * size in this layout's point order, since x / W * W is not x for every x and W
        (e.g. W = 720).
        """
        if layout not in POSE_DICT_LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(POSE_DICT_LAYOUTS)}, got {layout!r}")
        n = len(self)
        size = np.array([float(self.width), float(self.height)])
        with np.errstate(invalid="ignore", over="ignore"):
            points = self.exact_keypoints / size
            back = points * size
            exact = np.isfinite(back) & np.isfinite(self.exact_keypoints)
            residual = np.where(exact, self.exact_keypoints - back, 0.0)
        scores = self.scores.astype(np.float64)
        subset = np.where(scores[:, BODY] > THRESHOLD, np.arange(n * 18).reshape(n, 18), -1).astype(np.float64)
        candidate = points[:, BODY].reshape(n * 18, 2)
        hands = np.concatenate([points[:, LEFT_HAND], points[:, RIGHT_HAND]])
        hands_score = np.concatenate([scores[:, LEFT_HAND], scores[:, RIGHT_HAND]])
        faces, faces_score = points[:, FACE].copy(), scores[:, FACE].copy()
        feet, feet_score = points[:, FEET].copy(), scores[:, FEET].copy()
        if layout == "mimicmotion":
            return {"bodies": {"candidate": candidate, "subset": subset, "score": scores[:, BODY].copy()},
                    "hands": hands, "hands_score": hands_score, "faces": faces, "faces_score": faces_score,
                    "feet": feet, "feet_score": feet_score, "pixel_residual": residual}
        return {"bodies": candidate, "body_scores": subset, "hands": hands, "hands_scores": hands_score,
                "faces": faces, "faces_scores": faces_score, "body_keypoint_scores": scores[:, BODY].copy(),
                "feet": feet, "feet_scores": feet_score, "pixel_residual": residual}

    @classmethod
    def from_pose_dict(cls, pose: dict, width: int, height: int) -> "Poses":
        """Poses from a pose dict of either to_pose_dict layout, in pixels of a width x height image (the
        dict's coordinates are relative to it and do not say its size).

        Lossless: from_pose_dict(p.to_pose_dict(layout), p.width, p.height) has p's exact_keypoints bit for
        bit (every finite coordinate, hidden or not; NaN and infinities stay what they were) and p's scores
        bit for bit (float32 -> float64 -> float32). boxes, box_scores and track_ids are not in the dict:
        each person gets the whole-image box with box score 0 and no track id.
        A dict without the extra keys (the pipelines' own) loses only what they drop: feet become hidden
        (-1, -1, score 0) and coordinates are normalised * size. A dict without scores (ControlNet's and
        MusePose's detectors, or easy_dwpose's body_scores) gets score 1 for a body point whose subset is
        >= 0 and for a hand or face point that is not (-1, -1), else 0.
        """
        bodies = pose["bodies"]
        if isinstance(bodies, dict):
            candidate, subset, body_scores = bodies["candidate"], bodies["subset"], bodies.get("score")
            keys = ("hands_score", "faces_score", "feet_score")
        else:
            candidate, subset, body_scores = bodies, pose["body_scores"], pose.get("body_keypoint_scores")
            keys = ("hands_scores", "faces_scores", "feet_scores")
        subset = np.asarray(subset, dtype=np.float64).reshape(-1, 18)
        n = len(subset)
        points = np.full((n, NUM_OPENPOSE, 2), -1.0)
        scores = np.zeros((n, NUM_OPENPOSE))
        points[:, BODY] = np.asarray(candidate, dtype=np.float64)[:18 * n].reshape(n, 18, 2)
        scores[:, BODY] = (subset >= 0) if body_scores is None else np.asarray(body_scores, dtype=np.float64)
        hands = np.asarray(pose["hands"], dtype=np.float64).reshape(-1, 21, 2)
        hands_score, faces_score, feet_score = (pose.get(key) for key in keys)
        if hands_score is not None:
            hands_score = np.asarray(hands_score, dtype=np.float64).reshape(-1, 21)
        parts = [(LEFT_HAND, hands[:n], None if hands_score is None else hands_score[:n]),
                 (RIGHT_HAND, hands[n:2 * n], None if hands_score is None else hands_score[n:2 * n]),
                 (FACE, pose["faces"], faces_score)]
        if "feet" in pose:
            parts.append((FEET, pose["feet"], feet_score))
        for part, xy, part_scores in parts:
            xy = np.asarray(xy, dtype=np.float64).reshape(n, part.stop - part.start, 2)
            points[:, part] = xy
            scores[:, part] = ~(xy == -1).all(axis=-1) if part_scores is None else part_scores
        pixels = points * np.array([float(width), float(height)])
        residual = pose.get("pixel_residual")
        if residual is not None and np.shape(residual) == pixels.shape:
            pixels += residual
        boxes = np.tile(np.array([0, 0, width, height], dtype=np.float32), (n, 1))
        return cls(pixels, scores.astype(np.float32), boxes, np.zeros(n, np.float32), int(width), int(height))

    def save_openpose_json(self, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_openpose_json(threshold), f)

    def save_npz(self, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
        """Write a Cog-style npz file: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)},
        coordinates relative to the image size, -1 where hidden. Load with allow_pickle=True."""
        points = self.normalized(threshold)
        people = {
            f"person_{n}": {
                "body": points[n, BODY],
                "face": points[n, FACE],
                "hands": np.stack([points[n, LEFT_HAND], points[n, RIGHT_HAND]]),
            }
            for n in range(len(self))
        }
        np.savez(path, **people)

    to_npz = save_npz  # the name of earlier releases

    def to_coco_wholebody(self, image_id: int) -> list[dict]:
        """COCO-WholeBody result entries (for xtcocotools), keypoints as (x, y, score) triplets in
        COCO order. `score` is the mean keypoint score; per-part means are given as `<part>_score`."""
        coco_xy = np.zeros((len(self), NUM_COCO, 2))
        coco_sc = np.zeros((len(self), NUM_COCO))
        has_coco = COCO_INDEX >= 0
        coco_xy[:, COCO_INDEX[has_coco]] = self.exact_keypoints[:, has_coco]
        coco_sc[:, COCO_INDEX[has_coco]] = self.scores[:, has_coco]
        coco_xy = np.nan_to_num(coco_xy, nan=0.0, posinf=0.0, neginf=0.0)
        coco_sc = np.nan_to_num(coco_sc, nan=0.0, posinf=0.0, neginf=0.0)
        parts = {"keypoints": (0, 17), "foot_kpts": (17, 23), "face_kpts": (23, 91),
                 "lefthand_kpts": (91, 112), "righthand_kpts": (112, 133)}
        results = []
        for n in range(len(self)):
            triplets = np.concatenate([coco_xy[n], coco_sc[n][:, None]], axis=1)
            entry = {"image_id": int(image_id), "category_id": 1, "score": float(coco_sc[n].mean())}
            for key, (start, stop) in parts.items():
                entry[key] = [float(v) for v in triplets[start:stop].ravel()]
                part = "body" if key == "keypoints" else key.replace("_kpts", "")
                entry[f"{part}_score"] = float(coco_sc[n, start:stop].mean())
            results.append(entry)
        return results
