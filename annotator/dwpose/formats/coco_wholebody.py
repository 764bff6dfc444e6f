"""COCO-WholeBody result entries, as xtcocotools and the evaluation read them: per person "keypoints" (17 body),
"foot_kpts" (6), "face_kpts" (68), "lefthand_kpts" (21), "righthand_kpts" (21) as (x, y, score) triplets
in COCO order, in pixels."""

from __future__ import annotations

import numpy as np

from ..errors import PoseFormatError
from ..skeleton import COCO_INDEX, NUM_COCO, coco_to_openpose
from .checks import describe, image_size, numbers_array

PARTS = {"keypoints": (0, 17), "foot_kpts": (17, 23), "face_kpts": (23, 91), "lefthand_kpts": (91, 112),
         "righthand_kpts": (112, 133)}


def to_coco_wholebody(poses, image_id: int) -> list[dict]:
    """COCO-WholeBody result entries (for xtcocotools), keypoints as (x, y, score) triplets in
    COCO order. `score` is the mean keypoint score; per-part means are given as `<part>_score`."""
    coco_xy = np.zeros((len(poses), NUM_COCO, 2))
    coco_sc = np.zeros((len(poses), NUM_COCO))
    has_coco = COCO_INDEX >= 0
    coco_xy[:, COCO_INDEX[has_coco]] = poses.exact_keypoints[:, has_coco]
    coco_sc[:, COCO_INDEX[has_coco]] = poses.scores[:, has_coco]
    coco_xy = np.nan_to_num(coco_xy, nan=0.0, posinf=0.0, neginf=0.0)
    coco_sc = np.nan_to_num(coco_sc, nan=0.0, posinf=0.0, neginf=0.0)
    results = []
    for n in range(len(poses)):
        triplets = np.concatenate([coco_xy[n], coco_sc[n][:, None]], axis=1)
        entry = {"image_id": int(image_id), "category_id": 1, "score": float(coco_sc[n].mean())}
        for key, (start, stop) in PARTS.items():
            entry[key] = [float(v) for v in triplets[start:stop].ravel()]
            part = "body" if key == "keypoints" else key.replace("_kpts", "")
            entry[f"{part}_score"] = float(coco_sc[n, start:stop].mean())
        results.append(entry)
    return results


def read_coco_wholebody(entries: list, width: int, height: int, image_id=None) -> dict:
    """The Poses fields of the COCO-WholeBody result entries of one image (those of `image_id`, or all of them
    when they are of one image), in pixels of its width x height (results do not say the size). A part
    missing from an entry (COCO body-only results have only "keypoints") is hidden; the neck is made from the
    shoulders as the pipeline makes it; each person gets the whole-image box with box score 0."""
    width, height = image_size(width, "width"), image_size(height, "height")
    if not isinstance(entries, list):
        raise PoseFormatError(f"expected a list of COCO-WholeBody result entries, got {describe(entries)}")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "keypoints" not in entry:
            raise PoseFormatError(f"[{i}]: expected a result entry with \"keypoints\", got {describe(entry)}")
    if image_id is not None:
        entries = [entry for entry in entries if entry.get("image_id") == image_id]
    elif len({repr(entry.get("image_id")) for entry in entries}) > 1:
        raise PoseFormatError("the entries are of several images: say which image_id to read")
    keypoints = np.zeros((len(entries), NUM_COCO, 2))
    scores = np.zeros((len(entries), NUM_COCO))
    for i, entry in enumerate(entries):
        for key, (start, stop) in PARTS.items():
            if entry.get(key) is not None:
                values = numbers_array(entry[key], f"[{i}].{key}", (3 * (stop - start),)).reshape(-1, 3)
                keypoints[i, start:stop], scores[i, start:stop] = values[:, :2], values[:, 2]
    points, openpose_scores = coco_to_openpose(keypoints, scores.astype(np.float32))
    n = len(entries)
    return dict(exact_keypoints=points, scores=openpose_scores,
                boxes=np.tile(np.array([0, 0, width, height], dtype=np.float32), (n, 1)),
                box_scores=np.zeros(n, np.float32), width=width, height=height)
