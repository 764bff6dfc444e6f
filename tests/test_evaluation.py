"""Evaluation (annotator/dwpose/evaluation/): the official COCO-WholeBody figures of jin-s13's example
results, hand-checkable cases built here, predict() with stand-in models, and `eval` on the command line."""

import copy
import json

import numpy as np
import pytest

from annotator.dwpose import DWposeDetector, evaluation
from annotator.dwpose.cli import main as cli_main
from annotator.dwpose.evaluation import PARTS, STATS, evaluate, format_table, predict
from conftest import shared_path


def main(argv: list) -> int:
    """`python -m annotator.dwpose eval ...`"""
    return cli_main(["eval", *argv])

pytest.importorskip("pycocotools")

# jin-s13/COCO-WholeBody's example_pred.json scored by xtcocotools 1.14.3 (the official evaluation)
OFFICIAL_AP = {"body": 0.8539, "foot": 0.9696, "face": 0.7330, "lefthand": 0.5633, "righthand": 0.5349,
               "wholebody": 0.6421}
PART_KEYS = ["keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts"]


def wb(name):
    return shared_path("coco_wholebody", name)


# ------------------------------------------------------------------------------- hand-built data

def person(x0, y0, scale, ann_id, image_id, *, hands=True):
    """A COCO-WholeBody annotation: points on a grid inside a box at (x0, y0), all labelled (v=2)
    except the hands when `hands` is False."""
    def grid(count, offset):
        points = []
        for i in range(count):
            points += [x0 + scale * (0.1 + 0.8 * ((i * 7 + offset) % 13) / 12),
                       y0 + scale * 2 * (0.05 + 0.9 * ((i * 5 + offset) % 17) / 16), 2]
        return points

    ann = {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0, "bbox": [x0, y0, scale, 2 * scale],
           "area": 0.6 * scale * 2 * scale, "keypoints": grid(17, 0), "foot_kpts": grid(6, 1),
           "face_kpts": grid(68, 2), "lefthand_kpts": grid(21, 3), "righthand_kpts": grid(21, 4)}
    if not hands:
        ann["lefthand_kpts"] = [0] * 63
        ann["righthand_kpts"] = [0] * 63
    ann["num_keypoints"] = 17
    return ann


@pytest.fixture(scope="module")
def toy_gt():
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in (1, 2, 3)]
    anns = [person(20, 30, 80, 1, 1), person(200, 40, 120, 2, 1), person(400, 10, 60, 3, 1, hands=False),
            person(50, 50, 150, 4, 2), person(300, 60, 40, 5, 3)]
    return {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}


def as_predictions(gt, shift=0.0, drop=None):
    """The ground truth as results: labelled points at their place (+ shift in x) with score 1."""
    results = []
    for ann in gt["annotations"]:
        result = {"image_id": ann["image_id"], "category_id": 1, "score": 1.0}
        for key in PART_KEYS:
            values = list(ann[key])
            for i in range(0, len(values), 3):
                values[i] += shift if values[i + 2] > 0 else 0
                values[i + 2] = 1.0 if values[i + 2] > 0 else 0.0
            result[key] = values
        if drop:
            del result[drop]
        results.append(result)
    return results


# ----------------------------------------------------------------------------------- the figures

def test_sigmas_are_the_official_ones():
    sigmas = json.loads(wb("sigmas.json").read_text())
    for part in PARTS:
        assert evaluation.SIGMAS[part] == sigmas[part], part


@pytest.mark.requires_shared
def test_example_predictions_give_the_official_figures():
    gt, pred = wb("example_gt.json"), wb("example_pred.json")
    before = pred.read_text()
    results = evaluate(gt, pred)
    assert list(results) == list(PARTS)
    for part, ap in OFFICIAL_AP.items():
        assert set(results[part]) == set(STATS)
        assert round(results[part]["AP"], 4) == ap, part
    # the rest of the official table (xtcocotools 1.14.3): body AR, whole-body AP75 / APm
    assert round(results["body"]["AR"], 4) == 0.8958
    assert round(results["wholebody"]["AP75"], 4) == 0.8411
    assert round(results["wholebody"]["APm"], 4) == 0.6765
    # the same from loaded objects, which are left as they were
    loaded_gt, loaded_pred = json.loads(wb("example_gt.json").read_text()), json.loads(before)
    copies = copy.deepcopy(loaded_gt), copy.deepcopy(loaded_pred)
    assert evaluate(loaded_gt, loaded_pred) == results
    assert (loaded_gt, loaded_pred) == copies and pred.read_text() == before


def test_plain_coco_file_gives_body_only(toy_gt, tmp_path):
    """A COCO person-keypoints file (no foot, face or hands annotated) is scored for the body only."""
    plain = copy.deepcopy(toy_gt)
    for ann in plain["annotations"]:
        for key in PART_KEYS[1:]:
            del ann[key]
    gt = tmp_path / "person_keypoints.json"
    gt.write_text(json.dumps(plain))
    preds = [{"image_id": a["image_id"], "category_id": 1, "keypoints": [v if i % 3 != 2 else float(v > 0)
                                                                         for i, v in enumerate(a["keypoints"])],
              "score": 1.0} for a in plain["annotations"]]
    results = evaluate(gt, preds)
    assert list(results) == ["body"] and results["body"]["AP"] == pytest.approx(1.0)
    preds[0]["keypoints"][0] += 40  # one nose far off: no longer perfect
    assert evaluate(gt, preds)["body"]["AP"] < 1


def test_perfect_predictions_give_ap_1_for_every_part(toy_gt):
    results = evaluate(toy_gt, as_predictions(toy_gt))
    for part in PARTS:
        assert results[part]["AP"] == pytest.approx(1.0), part
        assert results[part]["AR"] == pytest.approx(1.0), part


def test_a_missing_part_gives_that_part_ap_0(toy_gt):
    # xtcocotools raises KeyError on such a file; a missing part counts as all-zero triplets, which it
    # drops from that part's evaluation (no scored point): no detection, AP 0. Whole body compares zeros
    # with the labelled left hands (21 of 133 points lost: OKS about 0.84, a miss at thresholds 0.85-0.95
    # for the people with hands), so it falls below 1 while the other parts stay perfect.
    results = evaluate(toy_gt, as_predictions(toy_gt, drop="lefthand_kpts"))
    assert results["lefthand"]["AP"] == 0 and results["lefthand"]["AR"] == 0
    for part in ("body", "foot", "face", "righthand"):
        assert results[part]["AP"] == pytest.approx(1.0), part
    assert 0.6 < results["wholebody"]["AP"] < 0.8
    # the same with the part present but unscored (what xtcocotools itself evaluates)
    zeroed = as_predictions(toy_gt)
    for result in zeroed:
        result["lefthand_kpts"] = [0.0] * 63
    assert evaluate(toy_gt, zeroed) == results


def test_ground_truth_without_a_part_is_ignored_for_that_part(toy_gt):
    # person 3 has no labelled hands: its hand ground truth is ignored, not a miss, so hands stay at 1
    # (plain pycocotools, ignoring on the body's num_keypoints only, would count it as a miss)
    results = evaluate(toy_gt, as_predictions(toy_gt))
    assert results["lefthand"]["AR"] == pytest.approx(1.0)


def test_part_scores_rank_the_parts(toy_gt):
    # two predictions for image 3's person: a wrong one with the higher "score" and a right one with the
    # higher "face_score". Body ranks by "score" (wrong first: AP < 1), face by face_score (AP 1).
    preds = [p for p in as_predictions(toy_gt) if p["image_id"] == 3]
    wrong = copy.deepcopy(preds[0])
    for key in PART_KEYS:
        wrong[key] = [v + 30 if i % 3 == 0 else v for i, v in enumerate(wrong[key])]
    wrong.update(score=0.9, face_score=0.1)
    preds[0].update(score=0.5, face_score=0.8)
    gt = {**toy_gt, "annotations": [a for a in toy_gt["annotations"] if a["image_id"] == 3]}
    results = evaluate(gt, [wrong, preds[0]])
    assert results["face"]["AP"] == pytest.approx(1.0)
    assert results["body"]["AP"] < 0.9


def test_shifted_predictions_lower_ap_monotonically(toy_gt):
    aps = {part: [] for part in PARTS}
    for shift in (0, 1, 2, 4, 8, 16, 64):
        results = evaluate(toy_gt, as_predictions(toy_gt, shift=shift))
        for part in PARTS:
            aps[part].append(results[part]["AP"])
    for part, values in aps.items():
        assert values[0] == pytest.approx(1.0)
        assert all(a >= b for a, b in zip(values, values[1:])), (part, values)
        assert values[-1] < 0.1, (part, values)
    assert aps["wholebody"][2] < 1


def test_format_table():
    stats = dict(zip(STATS, [0.5, 0.6, 0.7, -1, 0.8, 0.1, 0.2, 0.3, -1, 0.4]))
    table = format_table({"body": stats, "lefthand": stats})
    lines = table.splitlines()
    assert lines[0].split() == ["part"] + list(STATS)
    assert lines[2].startswith("left hand") and "0.5000" in lines[1] and lines[1].split().count("-") == 2


# ------------------------------------------------------------------------------------- predict

class Recording:
    """A DWposeDetector that records the boxes each detect() call was given."""

    def __init__(self, detector):
        self.detector, self.calls = detector, []

    def detect(self, image, boxes=None):
        self.calls.append((image.shape, None if boxes is None else np.array(boxes)))
        return self.detector.detect(image) if boxes is None else self.detector.detect(image, boxes=boxes)


@pytest.fixture(scope="module")
def stand_in_detector(crowd_yolox, random_pose):
    return DWposeDetector(crowd_yolox, random_pose)


@pytest.fixture(scope="module")
def toy_dataset(toy_gt, tmp_path_factory):
    """toy_gt as files: (the annotation file, the folder of its three textured 640x480 JPEG images)."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("toy_coco")
    rng = np.random.default_rng(5)
    for info in toy_gt["images"]:
        pixels = rng.integers(0, 256, (info["height"], info["width"], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / info["file_name"])
    gt = folder / "annotations.json"
    gt.write_text(json.dumps(toy_gt))
    return gt, folder


def check_results(results, image_ids):
    for r in results:
        assert r["image_id"] in image_ids and r["category_id"] == 1
        assert [len(r[k]) for k in PART_KEYS] == [51, 18, 204, 63, 63]
        # SimCC keypoint scores are not probabilities: a score may exceed 1
        assert np.isfinite(r["score"]) and r["score"] >= 0 and not any(k.endswith("_score") for k in r)


def test_predict_with_the_detector(stand_in_detector, toy_dataset):
    gt_path, images = toy_dataset
    gt = json.loads(gt_path.read_text())
    recording = Recording(stand_in_detector)
    seen = []
    results = predict(recording, gt_path, images, progress=lambda items: seen.extend(items) or items)
    assert len(seen) == 3 and len(recording.calls) == 3 and all(b is None for _, b in recording.calls)
    assert [shape[:2] for shape, _ in recording.calls] == [(i["height"], i["width"]) for i in gt["images"]]
    check_results(results, {i["id"] for i in gt["images"]})
    assert results
    table = evaluate(gt, results)
    assert set(table) == set(PARTS) and all(0 <= table[p]["AP"] <= 1 for p in PARTS)


def test_predict_with_gt_boxes_uses_exactly_the_annotated_boxes(stand_in_detector, toy_dataset):
    gt_path, images = toy_dataset
    gt = json.loads(gt_path.read_text())
    recording = Recording(stand_in_detector)
    results = predict(recording, gt, images, gt_boxes=True)
    expected = {}
    for ann in gt["annotations"]:
        x, y, w, h = ann["bbox"]
        expected.setdefault(ann["image_id"], []).append([x, y, x + w, y + h])
    with_people = [i for i in gt["images"] if i["id"] in expected]
    assert len(recording.calls) == len(with_people)
    for (shape, boxes), info in zip(recording.calls, with_people):
        np.testing.assert_array_equal(boxes, np.array(expected[info["id"]]))
    assert len(results) <= len(gt["annotations"])
    check_results(results, set(expected))
    evaluate(gt, results)


def test_to_results_scores_as_mmpose():
    from annotator.dwpose.poses import Poses
    from annotator.dwpose.skeleton import NUM_OPENPOSE

    rng = np.random.default_rng(0)
    points = rng.uniform(0, 100, (2, NUM_OPENPOSE, 2))
    points[1] += 300  # far apart: NMS keeps both
    scores = rng.uniform(0, 1, (2, NUM_OPENPOSE)).astype(np.float32)
    poses = Poses(points, scores, np.array([[0, 0, 100, 100], [300, 300, 400, 400]], np.float32),
                  np.array([0.5, 1.0], np.float32), 500, 500)
    results = evaluation.to_results(poses, 7)
    assert len(results) == 2
    for n, r in enumerate(results):
        s = np.concatenate([np.asarray(r[k])[2::3] for k in PART_KEYS])
        assert r["score"] == pytest.approx(poses.box_scores[n] * s[s > 0.2].mean())
    # a duplicate of a person is suppressed (OKS 1 > 0.9), the better scored one kept
    dup = Poses(points[[0, 0]], np.stack([scores[0], scores[0] * 0.5]), poses.boxes[[0, 0]], np.ones(2, np.float32),
                500, 500)
    kept = evaluation.to_results(dup, 7)
    assert len(kept) == 1 and kept[0]["score"] == pytest.approx(s_mean(scores[0]))
    body = evaluation.to_results(poses, 7, whole_body=False)
    assert set(body[0]) == {"image_id", "category_id", "keypoints", "score"}


def s_mean(scores):
    coco = np.asarray(scores, dtype=np.float64)
    coco = np.delete(coco, 1)  # the neck is not a COCO point
    return coco[coco > 0.2].mean()


# ---------------------------------------------------------------------------------- command line

@pytest.mark.requires_shared
def test_cli_prints_the_official_table(capsys):
    assert main(["--gt", str(wb("example_gt.json")), "--predictions", str(wb("example_pred.json"))]) == 0
    out = capsys.readouterr().out
    rows = {line.rsplit(None, 10)[0]: line.split()[-10] for line in out.splitlines()[1:]}
    assert rows == {"body": "0.8539", "foot": "0.9696", "face": "0.7330", "left hand": "0.5633",
                    "right hand": "0.5349", "whole body": "0.6421"}


def test_cli_runs_the_pipeline_and_writes_predictions(tmp_path, crowd_yolox, random_pose, capsys, toy_dataset):
    gt, images = toy_dataset
    out = tmp_path / "pred.json"
    code = main(["--gt", str(gt), "--images", str(images), "--gt-boxes", "--predictions", str(out),
                 "--det", str(crowd_yolox), "--pose", str(random_pose)])
    printed = capsys.readouterr().out
    assert code == 0 and "whole body" in printed
    assert main(["--gt", str(gt), "--predictions", str(out)]) == 0
    assert capsys.readouterr().out == printed  # the written predictions score as they did


def run_cli(argv):
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's own errors
        return exit_.code


@pytest.mark.parametrize("case", ["missing gt", "not coco", "missing predictions", "unknown image", "no mode",
                                  "gt boxes without images", "missing images", "not json"])
def test_cli_errors_exit_2(case, tmp_path, toy_gt, capsys):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(toy_gt))
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps(as_predictions(toy_gt)))
    argv = {"missing gt": ["--gt", str(tmp_path / "nope.json"), "--predictions", str(pred)],
            "not coco": ["--gt", str(pred), "--predictions", str(pred)],
            "missing predictions": ["--gt", str(gt), "--predictions", str(tmp_path / "nope.json")],
            "unknown image": ["--gt", str(gt), "--predictions", str(tmp_path / "bad.json")],
            "no mode": ["--gt", str(gt)],
            "gt boxes without images": ["--gt", str(gt), "--gt-boxes", "--predictions", str(pred)],
            "missing images": ["--gt", str(gt), "--images", str(tmp_path / "nowhere")],
            "not json": ["--gt", str(tmp_path / "bad.txt"), "--predictions", str(pred)]}[case]
    (tmp_path / "bad.json").write_text(json.dumps([{**as_predictions(toy_gt)[0], "image_id": 999}]))
    (tmp_path / "bad.txt").write_text("not json {")
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    expected = {"missing gt": "not found", "not coco": "not a COCO annotation file", "missing predictions":
                "not found", "unknown image": "999", "no mode": "--images", "gt boxes without images": "--gt-boxes",
                "missing images": "image folder not found", "not json": "not a JSON file"}[case]
    assert expected in err
