"""Alignment of a driving video's poses to the person of a reference image, as pose-guided video models
need: a short dancer driving a tall character otherwise gives stretched or shrunken results.

`align_poses(driving, reference, method)` takes the Poses of the driving frames (e.g. from
DWposeDetector.track) and the Poses of the reference image, and returns the driving poses in pixels of
the reference image:
- "mimicmotion": MimicMotion's global rescale (Tencent/MimicMotion mimicmotion/dwpose/preprocess.py
  get_video_pose): a linear fit of y over all frames with exactly one person, on the body points the
  reference shows among nose, neck, shoulders, hips, knees, ankles, eyes and ears; x scaled by that slope
  over the ratio of the two aspect ratios and offset by the mean difference. Every point of every frame
  (hands, face and feet too) goes through the same x -> a x + b.
- "limbs": per-bone retargeting. Each bone of the OpenPose tree (neck outward, feet from the ankles)
  keeps the driving frame's direction and takes the reference person's length; the neck goes where the
  reference person's neck is, moved as the driving person moves over the sequence (scaled by the body
  size ratio); hands follow their wrists and the face follows the nose, scaled by the ratio of the
  reference's hand and face sizes to the driving ones.
Hidden points stay hidden (their scores are kept), frames with nobody stay empty; a reference without
a visible person raises ValueError.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..poses import Poses
from ..skeleton import (BODY, BODY_LIMBS, FACE, FEET, LEFT_ANKLE, LEFT_HAND, LEFT_WRIST, NECK, NOSE, RIGHT_ANKLE,
                        RIGHT_HAND, RIGHT_WRIST)
from .tracking import select_people

METHODS = ("mimicmotion", "limbs")
# MimicMotion's ref_keypoint_id: the body points its fit uses (OpenPose-18 indices).
MIMICMOTION_POINTS = [0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
MIMICMOTION_THRESHOLD = 0.3  # its detector's subset: a body point with a score above this is shown

# (parent, child), neck outward: the 17 drawn limbs (each pair is already parent -> child), then the feet
# (left big toe, small toe, heel from the left ankle; the same on the right).
BONES = [(a - 1, b - 1) for a, b in BODY_LIMBS] + \
        [(LEFT_ANKLE, FEET.start + i) for i in range(3)] + [(RIGHT_ANKLE, FEET.start + 3 + i) for i in range(3)]


def align_poses(driving: Iterable[Poses], reference: Poses, method: str = "mimicmotion",
                reference_person="largest") -> list[Poses]:
    """The driving poses aligned to the reference person (module docstring), in pixels of the reference.

    `driving`: the Poses of each frame (all of one size); `reference`: the Poses of the reference image;
    `reference_person`: which of its people: "largest" (default), "center", or an index.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    driving = list(driving)
    person = _reference_person(reference, reference_person)
    if not driving:
        return []
    if len({(p.width, p.height) for p in driving}) > 1:
        raise ValueError("the driving poses must all be of one frame size")
    if method == "mimicmotion":
        return _mimicmotion(driving, reference, person)
    return _limbs(driving, reference, person)


def _reference_person(reference: Poses, which) -> int:
    """The index of the reference person, or ValueError when there is none with a visible body point."""
    if isinstance(which, str):
        chosen = select_people(reference, people=which)  # raises for an unknown word
        index = int(chosen[0]) if len(chosen) else None
    else:
        index = int(which)
        if not 0 <= index < len(reference):
            raise ValueError(f"reference_person={which!r}, but the reference shows {len(reference)} person(s)")
    if index is None or not reference.visible()[index, BODY].any():
        raise ValueError("the reference image shows no person (no visible body keypoint): alignment needs one")
    return index


def _mimicmotion(driving: Sequence[Poses], reference: Poses, person: int) -> list[Poses]:
    # The fit's numbers in MimicMotion's terms: coordinates normalised by each image's size.
    shown = reference.scores[person, MIMICMOTION_POINTS] > MIMICMOTION_THRESHOLD
    ids = [i for i, ok in zip(MIMICMOTION_POINTS, shown) if ok]
    height, width = reference.height, reference.width
    ref_body = reference.exact_keypoints[person, ids] / np.array([float(width), float(height)])
    fh, fw = driving[0].height, driving[0].width
    frame_size = np.array([float(fw), float(fh)])
    single = [p.exact_keypoints[0] / frame_size for p in driving if len(p) == 1]
    if not single:
        raise ValueError("method='mimicmotion' fits its rescale on frames with exactly one person, and no driving "
                         "frame has one (use max_people=1 or people='largest' when tracking)")
    detected = np.stack(single)[:, ids]
    ay, by = np.polyfit(detected[:, :, 1].flatten(), np.tile(ref_body[:, 1], len(detected)), 1)
    ax = ay / (fh / fw / height * width)
    bx = np.mean(np.tile(ref_body[:, 0], len(detected)) - detected[:, :, 0].flatten() * ax)
    a, b = np.array([ax, ay]), np.array([bx, by])
    out = []
    for poses in driving:
        normalised = poses.exact_keypoints / frame_size * a + b
        boxes = (poses.boxes.reshape(-1, 2, 2) / frame_size * a + b) * np.array([float(width), float(height)])
        out.append(Poses(normalised * np.array([float(width), float(height)]), poses.scores.copy(),
                         boxes.reshape(-1, 4).astype(np.float32), poses.box_scores.copy(), width, height,
                         track_ids=poses.track_ids))
    return out


def _limbs(driving: Sequence[Poses], reference: Poses, person: int) -> list[Poses]:
    ref_points, ref_shown = reference.exact_keypoints[person], reference.visible()[person]
    shown_in = [p.visible() for p in driving]  # per frame, once
    people = [pair for p, visible in zip(driving, shown_in) for pair in zip(p.exact_keypoints, visible)]
    ref_lengths = {bone: _length(ref_points, bone) for bone in BONES if ref_shown[list(bone)].all()}
    drv_lengths = {bone: np.median(lengths) for bone in BONES
                   if (lengths := [_length(points, bone) for points, shown in people if shown[list(bone)].all()])}
    common = [bone for bone in ref_lengths if bone in drv_lengths and drv_lengths[bone] > 0]
    if common:
        scale = sum(ref_lengths[b] for b in common) / sum(drv_lengths[b] for b in common)
    else:  # nothing to compare bone by bone: the ratio of the boxes' heights
        heights = [np.ptp(points[BODY][shown[BODY], 1]) for points, shown in people if shown[BODY].sum() > 1]
        driving_height = float(np.median(heights)) if heights else 0.0
        ref_height = float(np.ptp(ref_points[BODY][ref_shown[BODY], 1]))
        scale = ref_height / driving_height if driving_height > 0 and ref_height > 0 else 1.0
    lengths = {bone: ref_lengths.get(bone, drv_lengths.get(bone, 0.0) * scale) for bone in BONES}
    # Hands follow their wrists, the face the nose, each scaled by the reference's size of it.
    parts = [(part, anchor, _size_ratio(ref_points, ref_shown, people, part, scale))
             for part, anchor in ((LEFT_HAND, LEFT_WRIST), (RIGHT_HAND, RIGHT_WRIST), (FACE, NOSE))]

    # Where the (biggest) driving person's neck is first seen maps to where the reference person's neck is.
    ref_neck = ref_points[NECK] if ref_shown[NECK] else ref_points[BODY][ref_shown[BODY]].mean(axis=0)
    by_size = [(p.exact_keypoints[n], visible[n]) for p, visible in zip(driving, shown_in) for n in _by_size(p)]
    origin = next((points[NECK] for points, shown in by_size if shown[NECK]),
                  next((points[BODY][shown[BODY]].mean(axis=0) for points, shown in by_size if shown[BODY].any()),
                       ref_neck))

    def placed_globally(points):  # the whole-sequence motion, scaled to the reference
        return ref_neck + (points - origin) * scale

    width, height = reference.width, reference.height
    out = []
    for poses, shown in zip(driving, shown_in):
        aligned = placed_globally(poses.exact_keypoints)
        for n in range(len(poses)):
            _retarget(aligned[n], poses.exact_keypoints[n], shown[n], lengths)
            for part, anchor, part_scale in parts:
                offsets = poses.exact_keypoints[n, part] - poses.exact_keypoints[n, anchor]
                aligned[n, part] = aligned[n, anchor] + offsets * part_scale
        boxes = placed_globally(poses.boxes.reshape(-1, 2, 2).astype(np.float64)).reshape(-1, 4)
        out.append(Poses(aligned, poses.scores.copy(), boxes.astype(np.float32), poses.box_scores.copy(), width, height,
                         track_ids=poses.track_ids))
    return out


def _retarget(aligned: np.ndarray, points: np.ndarray, shown: np.ndarray, lengths: dict) -> None:
    """One person's body and feet, bone by bone from the neck, in place: a shown child of a shown, placed
    parent goes the reference length along the driving direction; anything else keeps its global place."""
    placed = np.zeros(len(points), dtype=bool)
    placed[NECK] = shown[NECK]
    for parent, child in BONES:
        if not (shown[child] and placed[parent]):
            continue
        direction = points[child] - points[parent]
        norm = float(np.hypot(*direction))
        aligned[child] = aligned[parent] + (direction / norm * lengths[(parent, child)] if norm > 0 else 0.0)
        placed[child] = True


def _length(points: np.ndarray, bone) -> float:
    return float(np.hypot(*(points[bone[1]] - points[bone[0]])))


def _size(points: np.ndarray) -> float:
    """The diagonal of the points' bounding box."""
    return float(np.hypot(*np.ptp(points, axis=0))) if len(points) > 1 else 0.0


def _size_ratio(ref_points, ref_shown, people, part, fallback: float) -> float:
    """The reference's size of `part` (a hand, the face) over its median size in `people` (the driving
    frames' (points, shown) pairs); `fallback` (the body's ratio) where either is not seen."""
    ref = _size(ref_points[part][ref_shown[part]])
    seen = [_size(points[part][shown[part]]) for points, shown in people]
    seen = [s for s in seen if s > 0]
    return ref / float(np.median(seen)) if ref > 0 and seen else fallback


def _by_size(poses: Poses) -> list[int]:
    """Person indices, biggest box first (the person the sequence's motion is anchored to)."""
    areas = np.prod(np.clip(poses.boxes[:, 2:] - poses.boxes[:, :2], 0, None), axis=1)
    return [int(i) for i in np.argsort(-areas, kind="stable")]
