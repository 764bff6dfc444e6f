"""Predictions for a COCO / COCO-WholeBody annotation file: a pipeline run over its images, scored and
suppressed as mmpose's top-down evaluation does (to_results), ready for evaluate() (coco.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import EvaluationError, ImageError
from ..images import load_image
from .coco import PART_KEYS, SIGMAS, is_whole_body, load_ground_truth

# mmpose's top-down scoring (CocoMetric score_mode="bbox_keypoint", keypoint_score_thr=0.2) and OKS NMS
# (nms_mode="oks_nms", nms_thr=0.9); its GetBBoxCenterScale padding and the 288x384 input's aspect ratio
# give the person area the NMS uses.
KEYPOINT_SCORE_THR = 0.2
NMS_THR = 0.9
BOX_PADDING = 1.25
INPUT_ASPECT = 288 / 384


def _oks_overlap(top: np.ndarray, others: np.ndarray, area_top: float, areas: np.ndarray,
                 sigmas: np.ndarray) -> np.ndarray:
    """OKS of one pose (K, 2) with each of `others` (M, K, 2), over the mean of the two areas."""
    variances = (2 * sigmas) ** 2
    squared = ((others - top) ** 2).sum(axis=-1)
    e = squared / variances / ((area_top + areas)[:, None] / 2 + np.spacing(1)) / 2
    return np.exp(-e).mean(axis=1)


def oks_nms(points: np.ndarray, scores: np.ndarray, areas: np.ndarray, sigmas, threshold: float = NMS_THR):
    """Indices of the poses kept by greedy OKS non-maximum suppression (highest score first), dropping
    those whose OKS with a kept one is above `threshold`, as mmpose's oks_nms."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(int(i))
        overlap = _oks_overlap(points[i], points[rest], areas[i], areas[rest], sigmas)
        order = rest[overlap <= threshold]
    return keep


def _person_areas(boxes: np.ndarray) -> np.ndarray:
    """mmpose's top-down person area: the padded box, widened or heightened to the input's aspect ratio."""
    w = (boxes[:, 2] - boxes[:, 0]) * BOX_PADDING
    h = (boxes[:, 3] - boxes[:, 1]) * BOX_PADDING
    wide = w > h * INPUT_ASPECT
    return np.where(wide, w, h * INPUT_ASPECT) * np.where(wide, w / INPUT_ASPECT, h)


def to_results(poses, image_id: int, whole_body: bool = True, nms: bool = True) -> list[dict]:
    """COCO-WholeBody results of one image's Poses, scored as mmpose's top-down evaluation scores them.

    Keypoints come from Poses.to_coco_wholebody. Its "score" (the mean of all 133 keypoint scores) and
    "<part>_score" (per-part means) are replaced: "score" = box score x mean of the keypoint scores
    above 0.2 (0 when none is), and no "<part>_score", so that every part is ranked by it, as with
    mmpose's result files. Then OKS NMS at 0.9 over the image's people. `whole_body` False (a plain COCO
    ground truth): only "keypoints", scored and suppressed on the 17 body points.
    """
    entries = poses.to_coco_wholebody(image_id)
    if not entries:
        return []
    keys = list(PART_KEYS.values()) if whole_body else ["keypoints"]
    triplets = np.array([[v for key in keys for v in entry[key]] for entry in entries], dtype=np.float64)
    triplets = triplets.reshape(len(entries), -1, 3)
    point_scores = triplets[..., 2]
    valid = point_scores > KEYPOINT_SCORE_THR
    counts = valid.sum(axis=1)
    means = np.where(counts > 0, (point_scores * valid).sum(axis=1) / np.maximum(counts, 1), 0.0)
    scores = np.asarray(poses.box_scores, dtype=np.float64) * means
    results = []
    for entry, score in zip(entries, scores):
        result = {"image_id": int(image_id), "category_id": 1}
        result.update({key: entry[key] for key in keys})
        result["score"] = float(score)
        results.append(result)
    if nms and len(results) > 1:
        sigmas = SIGMAS["wholebody"] if whole_body else SIGMAS["body"]
        boxes = np.asarray(poses.boxes, dtype=np.float64)
        keep = oks_nms(triplets[..., :2], scores, _person_areas(boxes), sigmas)
        results = [results[i] for i in sorted(keep)]
    return results


def _gt_boxes_by_image(dataset: dict) -> dict:
    """x1 y1 x2 y2 boxes of each image's non-crowd annotations with a positive size."""
    boxes: dict = {}
    for ann in dataset["annotations"]:
        x, y, w, h = (float(v) for v in ann["bbox"])
        if ann.get("iscrowd", 0) or w <= 0 or h <= 0:
            continue
        boxes.setdefault(ann["image_id"], []).append([x, y, x + w, y + h])
    return boxes


def _read_image(path: Path, info: dict) -> np.ndarray:
    if not path.is_file():
        raise EvaluationError(f"image not found: {path}")
    try:
        array = load_image(path, upright=False)  # stored pixels, no EXIF rotation: COCO annotates those
    except ImageError as err:
        raise EvaluationError(f"{path}: {err}") from err
    if "width" in info and "height" in info and array.shape[:2] != (info["height"], info["width"]):
        raise EvaluationError(f"{path}: {array.shape[1]}x{array.shape[0]} pixels, the annotation file says "
                              f"{info['width']}x{info['height']}")
    return array


def predict(detector, gt, images_dir, gt_boxes: bool = False, progress=None) -> list[dict]:
    """Results for every image of the annotation file `gt` (path or dict), read from `images_dir` by its
    file_name: `detector.detect(image)`, or with `gt_boxes` `detector.detect(image, boxes=...)` on the
    image's annotated person boxes (COCO x y w h -> x1 y1 x2 y2; crowd and empty boxes left out, images
    without any skipped), converted by to_results. `progress`: e.g. tqdm, wrapped around the images."""
    dataset = load_ground_truth(gt)
    whole_body = is_whole_body(dataset)
    boxes_by_image = _gt_boxes_by_image(dataset) if gt_boxes else {}
    images = dataset["images"]
    results = []
    for info in (progress(images) if progress is not None else images):
        if gt_boxes:
            boxes = boxes_by_image.get(info["id"])
            if not boxes:
                continue
            poses = detector.detect(_read_image(Path(images_dir) / info["file_name"], info),
                                    boxes=np.array(boxes, dtype=np.float64))
        else:
            poses = detector.detect(_read_image(Path(images_dir) / info["file_name"], info))
        results += to_results(poses, info["id"], whole_body=whole_body)
    return results
