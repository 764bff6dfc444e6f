"""COCO / COCO-WholeBody keypoint AP and AR, computed as the official COCO-WholeBody evaluation does.

`python -m annotator.dwpose eval --gt ANNOTATIONS.json --images DIR [--gt-boxes] [--predictions OUT.json]`
runs the pipeline over the images of an annotation file and prints the AP / AR table;
`eval --gt ANNOTATIONS.json --predictions PRED.json` evaluates an existing result file.

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

predict() runs DWposeDetector over the images and converts as mmpose's top-down evaluation does (see
to_results).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np

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

# mmpose's top-down scoring (CocoMetric score_mode="bbox_keypoint", keypoint_score_thr=0.2) and OKS NMS
# (nms_mode="oks_nms", nms_thr=0.9); its GetBBoxCenterScale padding and the 288x384 input's aspect ratio
# give the person area the NMS uses.
KEYPOINT_SCORE_THR = 0.2
NMS_THR = 0.9
BOX_PADDING = 1.25
INPUT_ASPECT = 288 / 384


class EvaluationError(ValueError):
    """A ground-truth or prediction file that cannot be evaluated (the CLI reports it and exits 2)."""


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


# ---------------------------------------------------------------------------------------- prediction

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
    from PIL import Image

    if not path.is_file():
        raise EvaluationError(f"image not found: {path}")
    with Image.open(path) as image:  # stored pixels, no EXIF rotation: COCO annotates those
        array = np.asarray(image.convert("RGB"))
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


# -------------------------------------------------------------------------------------- command line

def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m annotator.dwpose eval",
        description="COCO / COCO-WholeBody keypoint AP and AR (body, foot, face, hands, whole body) as the "
                    "official COCO-WholeBody evaluation computes them")
    parser.add_argument("--gt", required=True, type=Path, help="COCO or COCO-WholeBody annotation JSON")
    parser.add_argument("--images", type=Path, help="folder of the annotation file's images: run the pipeline on them")
    parser.add_argument("--gt-boxes", action="store_true",
                        help="with --images: use the annotated person boxes instead of the person detector")
    parser.add_argument("--predictions", type=Path, metavar="JSON",
                        help="with --images: where to write the predictions; without: the results file to evaluate")
    parser.add_argument("--det", help="person detector ONNX (default: yolox_l.onnx)")
    parser.add_argument("--pose", help="pose model ONNX (default: dw-ll_ucoco_384.onnx)")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--backend", choices=["onnxruntime", "openvino", "torch"])
    parser.add_argument("--device", help="torch device for --backend torch: cuda, cuda:N, mps, cpu")
    args = parser.parse_args(argv)
    if args.images is None and args.predictions is None:
        parser.error("give --images DIR (run the pipeline) or --predictions JSON (evaluate a results file)")
    if args.gt_boxes and args.images is None:
        parser.error("--gt-boxes needs --images")
    return args


def main(argv=None) -> int:
    """The `eval` subcommand: prints the table; 2 on a bad argument or file."""
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    try:
        dataset = load_ground_truth(args.gt)
        if args.images is not None:
            if not args.images.is_dir():
                return fail(f"image folder not found: {args.images}")
            from tqdm import tqdm

            from .detector import DWposeDetector
            from .weights import WeightsError

            try:
                detector = DWposeDetector(args.det, args.pose, precision=args.precision, backend=args.backend,
                                          device=args.device)
            except (WeightsError, FileNotFoundError) as err:
                return fail(str(err))
            predictions = predict(detector, dataset, args.images, gt_boxes=args.gt_boxes,
                                  progress=lambda items: tqdm(items, desc="images", unit="image"))
            if args.predictions is not None:
                args.predictions.parent.mkdir(parents=True, exist_ok=True)
                with open(args.predictions, "w", encoding="utf-8") as f:
                    json.dump(predictions, f)
        else:
            predictions = args.predictions
        results = evaluate(dataset, predictions)
    except EvaluationError as err:
        return fail(str(err))
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
