"""Identities across video frames, person boxes between detector runs, and which people are kept.

Used by the video tracker (tracker.py). Matching is greedy on a similarity that averages the box IoU and an
OKS-like keypoint similarity, a track unseen for some frames compared where it would be now if it kept
its last velocity (so a person hidden for a few frames while walking is still recognised); a track not seen for
`max_missed` frames ends, and a person nobody matches gets a new id. Between detector runs each
person's box is the box of its visible body keypoints on the previous frame, widened as the detector's
boxes are wider than the keypoints; persons whose keypoints collapse, or land on someone else's
(an occluded person's crop finding the person in front), are re-detected at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..poses import Poses
from ..skeleton import BODY, THRESHOLD

KEYPOINT_BOX_PADDING = 1.2  # a detector box reaches past the outermost keypoints (head top, feet)
OKS_SIGMA = 0.1  # relative keypoint spread, as COCO's typical body sigmas
MIN_SIMILARITY = 0.2  # below this a pose is not the same person
COLLAPSED = 0.3  # a track whose mean body score falls below this is re-detected
DUPLICATE = 0.4  # two persons of one frame whose keypoint similarity exceeds this share many points


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of `a` (N, 4) with every box of `b` (M, 4): (N, M)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda boxes: np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def keypoint_similarity(a_points, a_shown, b_points, b_shown, scale: float) -> float:
    """OKS-like: mean of exp(-d^2 / (2 (scale * OKS_SIGMA)^2)) over the body points both show."""
    both = a_shown & b_shown
    if not both.any() or scale <= 0:
        return 0.0
    d2 = np.sum((a_points[both] - b_points[both]) ** 2, axis=1)
    return float(np.mean(np.exp(-d2 / (2 * (scale * OKS_SIGMA) ** 2))))


def keypoint_boxes(poses: Poses, threshold: float = THRESHOLD) -> np.ndarray:
    """For each person, the box of its visible body points widened by KEYPOINT_BOX_PADDING: (N, 4)
    x1 y1 x2 y2. Where the points say too little (fewer than two, or spanning under a tenth of the
    person's box either way) or nonsense (a box reaching more than the image's own size beyond it, which a
    diverging pose model can give: its crop would take gigabytes), the person's box as it was."""
    boxes = poses.boxes.astype(np.float64).copy()
    shown = poses.visible(threshold)[:, BODY]
    for n in range(len(poses)):
        points = poses.exact_keypoints[n, BODY][shown[n]]
        if len(points) < 2:
            continue
        low, high = points.min(axis=0), points.max(axis=0)
        if ((high - low) < 0.1 * (boxes[n, 2:] - boxes[n, :2])).any():
            continue
        center, half = (low + high) / 2, (high - low) / 2 * KEYPOINT_BOX_PADDING
        box = np.array([*(center - half), *(center + half)])
        size = np.array([poses.width, poses.height] * 2, dtype=np.float64)
        if not np.isfinite(box).all() or (box < -size).any() or (box > 2 * size).any():
            continue
        boxes[n] = box
    return boxes


def collapsed(poses: Poses) -> np.ndarray:
    """Which persons' body keypoint scores collapsed (mean below COLLAPSED): they are re-detected."""
    if len(poses) == 0:
        return np.zeros(0, bool)
    return poses.scores[:, BODY].mean(axis=1) < COLLAPSED


def duplicated(poses: Poses) -> bool:
    """Whether two persons' body keypoints largely coincide (keypoint similarity above DUPLICATE), as when
    the crop of a person behind another finds the one in front: the boxes are then re-detected."""
    shown = poses.visible()[:, BODY]
    points = poses.exact_keypoints[:, BODY]
    for i in range(len(poses)):
        scale = _box_scale(poses.boxes[i])
        for j in range(i + 1, len(poses)):
            if keypoint_similarity(points[i], shown[i], points[j], shown[j], scale) > DUPLICATE:
                return True
    return False


def _box_scale(box: np.ndarray) -> float:
    """sqrt(area) of an x1 y1 x2 y2 box (at least 1): the object scale of the keypoint similarity."""
    return math.sqrt(max(float(np.prod(np.clip(box[2:] - box[:2], 0, None))), 1.0))


@dataclass
class _Track:
    track_id: int
    box: np.ndarray
    points: np.ndarray
    shown: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # pixels per frame
    missed: int = 0

    def predicted(self) -> tuple[np.ndarray, np.ndarray]:
        """Box and points where the person is now if it kept its velocity while unseen (a track seen on
        the previous frame is compared where it was: keypoint jitter makes a poor velocity)."""
        shift = self.velocity * (self.missed + 1) if self.missed else np.zeros(2)
        return self.box + np.tile(shift, 2), self.points + shift

    def seen(self, box: np.ndarray, points: np.ndarray, shown: np.ndarray) -> "_Track":
        """The track after it is seen at `box` now. Its velocity is the median motion of the body points
        shown both times (boxes from the detector and from keypoints differ in size, points do not; the
        median ignores points that jumped onto someone else)."""
        both = self.shown & shown
        if both.any():
            motion = np.median(points[both] - self.points[both], axis=0)
        else:
            motion = (box[:2] + box[2:] - self.box[:2] - self.box[2:]) / 2
        return _Track(self.track_id, box, points.copy(), shown.copy(), motion / (self.missed + 1))


@dataclass
class PoseTracker:
    """Gives the persons of successive frames their track ids."""

    max_missed: int = 10  # frames a track survives unseen (short occlusions)
    tracks: list = field(default_factory=list)
    next_id: int = 0

    def assign(self, poses: Poses) -> np.ndarray:
        """Track ids (N,) int64 for the persons of this frame, matching the live tracks."""
        shown = poses.visible()[:, BODY]
        points = poses.exact_keypoints[:, BODY]
        boxes = poses.boxes.astype(np.float64)
        ids = np.full(len(poses), -1, dtype=np.int64)
        if self.tracks and len(poses):
            predictions = [track.predicted() for track in self.tracks]
            ious = box_iou(np.stack([box for box, _ in predictions]), boxes)
            pairs = []
            for i, (track, (box, track_points)) in enumerate(zip(self.tracks, predictions)):
                scale = _box_scale(box)
                for j in range(len(poses)):
                    oks = keypoint_similarity(track_points, track.shown, points[j], shown[j], scale)
                    pairs.append((0.5 * ious[i, j] + 0.5 * oks, i, j))
            used_tracks, used_poses = set(), set()
            for similarity, i, j in sorted(pairs, reverse=True):
                if similarity < MIN_SIMILARITY or i in used_tracks or j in used_poses:
                    continue
                used_tracks.add(i)
                used_poses.add(j)
                ids[j] = self.tracks[i].track_id
        by_id = {t.track_id: t for t in self.tracks}
        for j in range(len(poses)):
            if ids[j] < 0:
                ids[j] = self.next_id
                self.next_id += 1
                by_id[int(ids[j])] = _Track(int(ids[j]), boxes[j], points[j].copy(), shown[j].copy())
            else:
                by_id[int(ids[j])] = by_id[int(ids[j])].seen(boxes[j], points[j], shown[j])
        seen = set(ids.tolist())
        for track in self.tracks:
            if track.track_id not in seen:
                track.missed += 1
        self.tracks = [t for t in by_id.values() if t.missed <= self.max_missed]
        return ids


def people_choice(text: str):
    """A choice of people written as text (the commands' --people, the nodes' people): "largest" / "center",
    "all" (None: everyone), or track ids separated by commas ("1,3"). ValueError for anything else."""
    value = str(text).strip().lower()
    if value in ("largest", "center"):
        return value
    if value == "all":
        return None
    try:
        return [int(part) for part in value.split(",")]
    except ValueError:
        raise ValueError(f"people: expected largest, center, all or track ids like 1,3; got {text!r}") from None


def select_people(poses: Poses, max_people: int | None = None, people=None) -> np.ndarray:
    """Indices of the persons kept: `people` = "largest" (the biggest box), "center" (the box nearest the
    image centre), or a list of track ids; then at most `max_people`, biggest boxes first."""
    order = np.arange(len(poses))
    areas = np.prod(np.clip(poses.boxes[:, 2:] - poses.boxes[:, :2], 0, None), axis=1)
    if isinstance(people, str):
        if people not in ("largest", "center"):
            raise ValueError(f"people must be 'largest', 'center' or a list of track ids, got {people!r}")
        if len(poses) == 0:
            return order
        if people == "largest":
            return order[[int(np.argmax(areas))]]
        centers = (poses.boxes[:, :2] + poses.boxes[:, 2:]) / 2
        distance = np.hypot(centers[:, 0] - poses.width / 2, centers[:, 1] - poses.height / 2)
        return order[[int(np.argmin(distance))]]
    if people is not None:
        wanted = {int(i) for i in people}
        order = np.array([i for i in order if poses.track_ids is not None and int(poses.track_ids[i]) in wanted],
                         dtype=np.int64)
    if max_people is not None:
        order = order[np.argsort(-areas[order], kind="stable")][:max(0, int(max_people))]
        order = np.sort(order)
    return order
