"""COCO-WholeBody result entries, as xtcocotools and the evaluation read them: per person "keypoints" (17 body),
"foot_kpts" (6), "face_kpts" (68), "lefthand_kpts" (21), "righthand_kpts" (21) as (x, y, score) triplets
in COCO order, in pixels."""

from __future__ import annotations

import numpy as np

from ..skeleton import COCO_INDEX, NUM_COCO


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
    parts = {"keypoints": (0, 17), "foot_kpts": (17, 23), "face_kpts": (23, 91),
             "lefthand_kpts": (91, 112), "righthand_kpts": (112, 133)}
    results = []
    for n in range(len(poses)):
        triplets = np.concatenate([coco_xy[n], coco_sc[n][:, None]], axis=1)
        entry = {"image_id": int(image_id), "category_id": 1, "score": float(coco_sc[n].mean())}
        for key, (start, stop) in parts.items():
            entry[key] = [float(v) for v in triplets[start:stop].ravel()]
            part = "body" if key == "keypoints" else key.replace("_kpts", "")
            entry[f"{part}_score"] = float(coco_sc[n, start:stop].mean())
        results.append(entry)
    return results
