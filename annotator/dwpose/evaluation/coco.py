"""COCO / COCO-WholeBody keypoint AP and AR, computed as the official COCO-WholeBody evaluation does.

The official figures (jin-s13/COCO-WholeBody, and mmpose's CocoWholeBodyMetric that DWPose reports with)
come from xtcocotools' COCOeval, run once per part: iouType "keypoints_body", "keypoints_foot",
"keypoints_face", "keypoints_lefthand", "keypoints_righthand", "keypoints_wholebody", each with that part's
OKS sigmas and use_area=True. xtcocotools 1.14.3 ships wheels built against numpy < 2 only, so this module
drives pycocotools (PyPI `pycocotools`, numpy 2 wheels) instead, reproducing per part what xtcocotools does
differently from a plain pycocotools keypoint evaluation with the part's sigmas:

- which ground truths a part ignores: pycocotools ignores a person whose `num_keypoints` (the labelled
  *body* points) is 0; xtcocotools ignores one with no labelled point (v > 0) *in that part*. Each part's
  ground truth is therefore given to pycocotools with `keypoints` = the part's triplets and `num_keypoints`
  = its labelled count (the 133 concatenated in the order body, foot, face, left hand, right hand for
  whole body).
- which detections a part sees: xtcocotools drops a detection none of whose points in that part has a
  score > 0; pycocotools keeps them all (as false positives).
- which score ranks a part's detections: "score" for body; "foot_score", "face_score", "lefthand_score",
  "righthand_score", "wholebody_score" for the others, each falling back to "score" where a detection
  lacks it (note: the body uses "score", never "body_score").
- which area a detection has: xtcocotools' loadRes takes it from the extent of the *body* "keypoints" (all
  17, as given) for every part (or from "bbox" where results carry one); it only decides which unmatched
  detections the medium / large ranges ignore. Substituting the part's points into "keypoints" and
  calling pycocotools' loadRes would take the part's extent, so the areas are computed here once.
- the OKS area is the ground-truth "area" for every part (use_area=True), as in pycocotools.

Everything else (OKS, greedy matching, maxDets 20, area ranges, 101-point interpolated precision) is
pycocotools' own code, which xtcocotools 1.14.3 shares (its -1 initialised match arrays give the same
results for the positive ids used here). On jin-s13/COCO-WholeBody's example_pred.json this gives the
official body 0.8539, foot 0.9696, face 0.7330, left hand 0.5633, right hand 0.5349, whole body 0.6421.

A part a prediction does not carry at all (no "foot_kpts" key, say) counts as all-zero triplets: that
part sees no detection from it (AP 0 where every prediction lacks it), and its whole-body OKS compares
zeros there. xtcocotools itself raises KeyError on such a file.

A plain COCO person-keypoints file (no "foot_kpts" in its annotations) is evaluated for the body only,
as mmpose's CocoMetric does (xtcocotools iouType "keypoints", COCO sigmas, "score").
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np

from ..errors import EvaluationError
from ..optional import require

PARTS = ("body", "foot", "face", "lefthand", "righthand", "wholebody")
# result / annotation key of each part's (x, y, v) triplets
PART_KEYS = {"body": "keypoints", "foot": "foot_kpts", "face": "face_kpts", "lefthand": "lefthand_kpts",
             "righthand": "righthand_kpts"}
PART_SIZES = {"body": 17, "foot": 6, "face": 68, "lefthand": 21, "righthand": 21}
SCORE_KEYS = {"body": "score", "foot": "foot_score", "face": "face_score", "lefthand": "lefthand_score",
              "righthand": "righthand_score", "wholebody": "wholebody_score"}
STATS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
PART_TITLES = {"body": "body", "foot": "foot", "face": "face", "lefthand": "left hand",
               "righthand": "right hand", "wholebody": "whole body"}

# COCO-WholeBody OKS sigmas (jin-s13/COCO-WholeBody evaluation, mmpose configs/_base_/datasets/coco_wholebody.py);
# the body's are COCO's.
SIGMAS = {
    "body": [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087,
             0.087, 0.089, 0.089],
    "foot": [0.068, 0.066, 0.066, 0.092, 0.094, 0.094],
    "face": [0.042, 0.043, 0.044, 0.043, 0.04, 0.035, 0.031, 0.025, 0.02, 0.023, 0.029, 0.032, 0.037, 0.038, 0.043,
             0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013, 0.015, 0.009, 0.007,
             0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.01, 0.017, 0.011, 0.009, 0.011, 0.009, 0.007, 0.013,
             0.008, 0.011, 0.012, 0.01, 0.034, 0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.01, 0.008, 0.009,
             0.009, 0.009, 0.007, 0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.01, 0.008],
    "lefthand": [0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026, 0.017,
                 0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031],
}
SIGMAS["righthand"] = list(SIGMAS["lefthand"])
SIGMAS["wholebody"] = [s for part in ("body", "foot", "face", "lefthand", "righthand") for s in SIGMAS[part]]



# ------------------------------------------------------------------------------------------- loading

def _load_json(source, what: str):
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise EvaluationError(f"{what} file not found: {path}")
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise EvaluationError(f"{path}: not a JSON file ({err})") from err
    return source


def load_ground_truth(gt) -> dict:
    """The annotation file (a path or the loaded dict), checked to be COCO person keypoints."""
    dataset = _load_json(gt, "ground-truth")
    name = gt if isinstance(gt, (str, Path)) else "ground truth"
    if not isinstance(dataset, dict) or not all(isinstance(dataset.get(k), list) for k in ("images", "annotations")):
        raise EvaluationError(f"{name}: not a COCO annotation file (expected a JSON object with 'images' and "
                              "'annotations' lists)")
    for ann in dataset["annotations"]:
        if not isinstance(ann, dict) or not all(k in ann for k in ("image_id", "keypoints", "bbox", "area")):
            raise EvaluationError(f"{name}: not a COCO keypoint annotation file (an annotation lacks "
                                  "'image_id', 'keypoints', 'bbox' or 'area')")
        if len(ann["keypoints"]) != 3 * PART_SIZES["body"]:
            raise EvaluationError(f"{name}: annotation {ann.get('id')} has {len(ann['keypoints'])} keypoint "
                                  f"values, expected {3 * PART_SIZES['body']} (17 COCO body points)")
    if is_whole_body(dataset):
        for ann in dataset["annotations"]:
            for part, key in PART_KEYS.items():
                if len(ann.get(key, ())) != 3 * PART_SIZES[part]:
                    raise EvaluationError(f"{name}: annotation {ann.get('id')} lacks {3 * PART_SIZES[part]} "
                                          f"'{key}' values (a COCO-WholeBody file has all five parts)")
    return dataset


def is_whole_body(dataset: dict) -> bool:
    """COCO-WholeBody (foot, face and hands annotated) rather than plain COCO body keypoints."""
    return any("foot_kpts" in ann for ann in dataset["annotations"])


def _load_predictions(predictions, dataset: dict) -> list[dict]:
    results = _load_json(predictions, "predictions")
    name = predictions if isinstance(predictions, (str, Path)) else "predictions"
    if not isinstance(results, list):
        raise EvaluationError(f"{name}: not a COCO results file (expected a JSON list of detections)")
    known = {img["id"] for img in dataset["images"]}
    unknown = set()
    for det in results:
        if not isinstance(det, dict) or not all(k in det for k in ("image_id", "keypoints", "score")):
            raise EvaluationError(f"{name}: every result needs 'image_id', 'keypoints' and 'score'")
        if len(det["keypoints"]) != 3 * PART_SIZES["body"]:
            raise EvaluationError(f"{name}: a result for image {det['image_id']} has {len(det['keypoints'])} "
                                  f"'keypoints' values, expected {3 * PART_SIZES['body']}")
        if det["image_id"] not in known:
            unknown.add(det["image_id"])
    if unknown:
        shown = ", ".join(map(str, sorted(unknown, key=str)[:5])) + (", ..." if len(unknown) > 5 else "")
        raise EvaluationError(f"{name}: predictions for {len(unknown)} image id(s) not in the ground truth: {shown}")
    return results


# ---------------------------------------------------------------------------------------- evaluation

def _part_triplets(ann: dict, part: str) -> list:
    """The part's (x, y, v) values; a missing part of a prediction counts as zeros."""
    if part == "wholebody":
        return [v for p in PART_KEYS for v in _part_triplets(ann, p)]
    values = ann.get(PART_KEYS[part])
    return list(values) if values is not None else [0.0] * (3 * PART_SIZES[part])


def _detection_extent(det: dict) -> tuple[float, list]:
    """Area and xywh box of a result as xtcocotools' (and pycocotools') loadRes give it."""
    box = det.get("bbox")
    if box is not None and len(box) == 4:  # loadRes's "bbox" branch
        return float(box[2]) * float(box[3]), [float(v) for v in box]
    kp = np.asarray(det["keypoints"], dtype=np.float64)
    x, y = kp[0::3], kp[1::3]
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    return float((x1 - x0) * (y1 - y0)), [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def _coco(dataset: dict):
    require("pycocotools", "COCO evaluation")
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _evaluate_part(dataset: dict, results: list[dict], extents: list, part: str) -> dict:
    from pycocotools.cocoeval import COCOeval

    categories = dataset.get("categories") or [{"id": 1, "name": "person"}]
    gts = []
    for ann in dataset["annotations"]:
        triplets = _part_triplets(ann, part)
        labelled = int(np.count_nonzero(np.asarray(triplets[2::3], dtype=np.float64) > 0))
        gts.append({**ann, "keypoints": triplets, "num_keypoints": labelled, "iscrowd": ann.get("iscrowd", 0),
                    "category_id": ann.get("category_id", 1)})
    for n, ann in enumerate(gts):
        ann.setdefault("id", n + 1)
    score_key = SCORE_KEYS[part]
    dts = []
    for n, (det, (area, box)) in enumerate(zip(results, extents)):
        triplets = _part_triplets(det, part)
        if not np.any(np.asarray(triplets[2::3], dtype=np.float64) > 0):
            continue  # xtcocotools drops a detection with no scored point in the part
        dts.append({"id": n + 1, "image_id": det["image_id"], "category_id": det.get("category_id", 1),
                    "keypoints": triplets, "score": float(det.get(score_key, det["score"])),
                    "area": area, "bbox": box, "iscrowd": 0})
    gt_coco = _coco({"images": dataset["images"], "categories": categories, "annotations": gts})
    dt_coco = _coco({"images": dataset["images"], "categories": categories, "annotations": dts})
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt_coco, dt_coco, "keypoints")
        evaluator.params.kpt_oks_sigmas = np.array(SIGMAS[part])
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(value) for name, value in zip(STATS, evaluator.stats)}


def evaluate(gt, predictions) -> dict:
    """AP / AR per part: {"body": {"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"},
    "foot", "face", "lefthand", "righthand", "wholebody"}, as the official COCO-WholeBody evaluation
    computes them (see the module docstring); only "body" for a plain COCO ground truth.

    `gt`: the annotation file's path or its loaded dict; `predictions`: a COCO-WholeBody results file's
    path or the list of results (image_id, category_id, keypoints, foot_kpts, face_kpts, lefthand_kpts,
    righthand_kpts as (x, y, score) triplets, score, optional <part>_score). Neither is modified.
    A value of -1 means no ground truth in that range (e.g. APm without medium people).
    Raises EvaluationError for a file that is not COCO or predictions for unknown image ids.
    """
    dataset = load_ground_truth(gt)
    results = _load_predictions(predictions, dataset)
    extents = [_detection_extent(det) for det in results]
    parts = PARTS if is_whole_body(dataset) else ("body",)
    return {part: _evaluate_part(dataset, results, extents, part) for part in parts}


def format_table(results: dict) -> str:
    """The AP / AR table, one row per part, 4 decimals ("-" where a range has no ground truth)."""
    width = max(len(PART_TITLES.get(p, p)) for p in results)
    lines = [" ".join([f"{'part':<{width}}"] + [f"{name:>6}" for name in STATS])]
    for part, stats in results.items():
        cells = [f"{stats[name]:6.4f}" if stats[name] >= 0 else f"{'-':>6}" for name in STATS]
        lines.append(" ".join([f"{PART_TITLES.get(part, part):<{width}}"] + cells))
    return "\n".join(lines)
