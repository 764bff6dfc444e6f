"""End-to-end geometry against known truth, with constructed models (no real weights needed).

Expected values are computed here from the conventions (spec sections 1-3), not by calling the
library's own helpers.
"""

import json
import math

import cv2
import numpy as np
import pytest

import stand_in_models as sim
from annotator.dwpose import DWposeDetector
from annotator.dwpose.models import letterbox

IN_W, IN_H = 288, 384

# OpenPose-18 body position -> COCO index (spec section 3); "neck" is the shoulders' mean.
OPENPOSE_FROM_COCO = [0, "neck", 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3]


def expected_keypoint(box, bin_xy, split=2.0):
    """Spec: center/scale of the box with padding 1.25 widened to 288:384, then back-projection."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    w, h = (x2 - x1) * 1.25, (y2 - y1) * 1.25
    if w > h * IN_W / IN_H:
        h = w * IN_H / IN_W
    else:
        w = h * IN_W / IN_H
    x = bin_xy[0] / split / IN_W * w + cx - w / 2
    y = bin_xy[1] / split / IN_H * h + cy - h / 2
    return x, y


def peak_model(model_dir, name, bins, values, batch):
    return sim.save(sim.simcc_peak_model(bins, values, batch=batch), model_dir / name)


@pytest.fixture(scope="module")
def peaks():
    """Distinct bins for all 133 keypoints; COCO 5 (left shoulder) has a low score."""
    k = np.arange(133)
    bins = np.stack([40 + 3 * k, 30 + 5 * k], axis=1)
    values = 0.5 + k / 1000.0
    values[5] = 0.2
    return bins, values.astype(np.float32)


def yolox_raw(rows):
    """Raw YOLOX output with given anchor rows: (stride, row, col, dx, dy, w, h, obj, class_id, cls_score)."""
    raw = np.zeros((sim.num_anchors(416), 85), dtype=np.float32)
    for stride, row, col, dx, dy, w, h, obj, class_id, cls_score in rows:
        i = sim.anchor_index(416, stride, row, col)
        raw[i, :4] = [dx, dy, math.log(w / stride), math.log(h / stride)]
        raw[i, 4] = obj
        raw[i, 5 + class_id] = cls_score
    return raw


def test_letterbox_places_resized_image_top_left_and_pads_114():
    image = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    padded, ratio = letterbox(image, (416, 416))
    assert ratio == pytest.approx(416 / 500)
    new_w, new_h = int(500 * ratio), int(300 * ratio)
    np.testing.assert_array_equal(padded[:new_h, :new_w], cv2.resize(image, (new_w, new_h)))
    assert (padded[new_h:] == 114).all() and (padded[:, new_w:] == 114).all()


def test_yolox_decode_nms_order_and_filters(model_dir, peaks):
    # Image 832x624 -> letterbox ratio 0.5. Anchor (stride 16, row 5, col 7) with offsets (0.25, 0.5)
    # and size 64x128 -> letterbox box (84, 24, 148, 152) -> image box (168, 48, 296, 304).
    raw = yolox_raw([
        (16, 5, 7, 0.25, 0.5, 64, 128, 0.9, 0, 0.8),     # person 0.72
        (8, 11, 15, 0.0, 0.0, 60, 120, 0.9, 0, 0.7),      # overlaps the first, 0.63: suppressed by NMS
        (32, 8, 10, 0.5, 0.5, 96, 160, 0.9, 0, 0.5),      # person 0.45, elsewhere
        (32, 2, 2, 0.5, 0.5, 64, 64, 0.9, 0, 0.3),        # person 0.27 <= 0.3: dropped
        (32, 3, 8, 0.5, 0.5, 64, 64, 0.95, 2, 0.95),      # a car: not a person
    ])
    det = sim.save(sim.yolox_model(raw), model_dir / "yolox_known.onnx")
    bins, values = peaks
    pose = peak_model(model_dir, "peaks_static.onnx", bins, values, batch=1)
    detector = DWposeDetector(det, pose)
    poses = detector.detect(np.zeros((624, 832, 3), dtype=np.uint8))

    second = [((10 + 0.5) * 32 - 48) * 2, ((8 + 0.5) * 32 - 80) * 2, ((10 + 0.5) * 32 + 48) * 2,
              ((8 + 0.5) * 32 + 80) * 2]
    np.testing.assert_allclose(poses.boxes, [[168, 48, 296, 304], second], atol=1e-3)
    np.testing.assert_allclose(poses.box_scores, [0.72, 0.45], atol=1e-6)
    # Each box's keypoints are the peaks projected through that box.
    for n, box in enumerate(poses.boxes.astype(np.float64)):
        nose = expected_keypoint(box, bins[0])
        np.testing.assert_allclose(poses.keypoints[n, 0], nose, atol=1e-3)


def test_person_threshold_per_call_leaves_the_detector_as_it_was(model_dir, peaks):
    raw = yolox_raw([(16, 5, 7, 0.25, 0.5, 64, 128, 0.9, 0, 0.8),    # person 0.72
                     (32, 8, 10, 0.5, 0.5, 96, 160, 0.9, 0, 0.5)])   # person 0.45
    bins, values = peaks
    detector = DWposeDetector(sim.save(sim.yolox_model(raw), model_dir / "yolox_two.onnx"),
                              peak_model(model_dir, "peaks_two.onnx", bins, values, batch=1))
    image = np.zeros((624, 832, 3), dtype=np.uint8)
    assert len(detector.detect(image)) == 2
    np.testing.assert_allclose(detector.detect(image, det_threshold=0.5).box_scores, [0.72], atol=1e-6)
    _, poses = detector.annotate(image, 512, 512, det_threshold=0.5)
    assert len(poses) == 1
    assert len(detector.detect(image)) == 2 and detector.detector.score_threshold == 0.3  # unchanged
    # Above every score: nobody, so the whole-image fallback (score 0), as without a threshold.
    np.testing.assert_array_equal(detector.detect(image, det_threshold=0.9).box_scores, [0.0])
    for bad in (-0.1, 1.5, "0.5", float("nan"), True):
        with pytest.raises(ValueError, match="det_threshold must be a number from 0 to 1"):
            detector.detect(image, det_threshold=bad)


def test_rtmdet_boxes_scaled_filtered_and_sorted(model_dir, peaks):
    # Image 640x480 -> letterbox 320 ratio 0.5; dets are in letterbox pixels.
    dets = [[10, 20, 60, 120, 0.5], [100, 50, 150, 200, 0.9], [0, 0, 30, 30, 0.2], [5, 5, 40, 40, 0.95]]
    labels = [0, 0, 0, 3]
    det = sim.save(sim.rtmdet_model(dets, labels), model_dir / "rtmdet_known.onnx")
    bins, values = peaks
    detector = DWposeDetector(det, peak_model(model_dir, "peaks_dyn.onnx", bins, values, batch="batch"))
    poses = detector.detect(np.zeros((480, 640, 3), dtype=np.uint8))
    np.testing.assert_allclose(poses.boxes, [[200, 100, 300, 400], [20, 40, 120, 240]], atol=1e-4)
    np.testing.assert_allclose(poses.box_scores, [0.9, 0.5], atol=1e-6)


@pytest.mark.parametrize("batch", [1, "batch"])
def test_crop_decode_back_projection_and_openpose_layout(model_dir, empty_yolox, peaks, batch):
    bins, values = peaks
    pose = peak_model(model_dir, f"peaks_{batch}.onnx", bins, values, batch=batch)
    detector = DWposeDetector(empty_yolox, pose)
    boxes = [[100.0, 50.0, 300.0, 450.0], [400.0, 100.0, 600.0, 200.0]]  # tall and wide boxes
    poses = detector.detect(np.zeros((480, 640, 3), dtype=np.uint8), boxes=boxes)
    assert poses.keypoints.dtype == np.float32 and poses.keypoints.shape == (2, 134, 2)
    assert poses.scores.dtype == np.float32 and poses.scores.shape == (2, 134)

    for n, box in enumerate(boxes):
        coco = np.array([expected_keypoint(box, b) for b in bins])
        for i, source in enumerate(OPENPOSE_FROM_COCO):
            if source == "neck":
                np.testing.assert_allclose(poses.keypoints[n, i], (coco[5] + coco[6]) / 2, atol=1e-3)
                assert poses.scores[n, i] == 0.0  # left shoulder score 0.2 <= 0.3
            else:
                np.testing.assert_allclose(poses.keypoints[n, i], coco[source], atol=1e-3)
                assert poses.scores[n, i] == pytest.approx(values[source])
        # feet, face and hands keep COCO order after the body
        np.testing.assert_allclose(poses.keypoints[n, 18:], coco[17:], atol=1e-3)
        np.testing.assert_allclose(poses.scores[n, 18:], values[17:])


def test_static_and_dynamic_batch_give_identical_numbers(model_dir, empty_yolox, random_pose):
    dynamic = sim.save(sim.simcc_random_model(batch="batch"), model_dir / "random_dynamic.onnx")
    image = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    boxes = [[10, 20, 200, 400], [250, 30, 600, 470], [0, 0, 640, 480]]
    a = DWposeDetector(empty_yolox, random_pose).detect(image, boxes=boxes)
    b = DWposeDetector(empty_yolox, dynamic).detect(image, boxes=boxes)
    np.testing.assert_array_equal(a.exact_keypoints, b.exact_keypoints)
    np.testing.assert_array_equal(a.scores, b.scores)


def white_dot_image(x, y, size=(480, 640)):
    image = np.zeros((*size, 3), dtype=np.uint8)
    image[y, x] = 255
    return image


@pytest.mark.parametrize("box", [[300, 150, 500, 450], [350, 280, 420, 310], [380, -100, 900, 700]])
def test_affine_crop_finds_the_marker_where_it_is(empty_yolox, marker_pose, box):
    poses = DWposeDetector(empty_yolox, marker_pose).detect(white_dot_image(400, 300), boxes=[box])
    # One crop pixel in image pixels: the crop's scale over the model input size.
    w, h = (box[2] - box[0]) * 1.25, (box[3] - box[1]) * 1.25
    pixel = max(w / IN_W, h / IN_H)
    np.testing.assert_allclose(poses.keypoints[0, 0], [400, 300], atol=pixel)


def test_pipeline_from_detector_to_json_and_npz(model_dir, marker_pose, tmp_path):
    # Detector box around the marker; the nose (and every other point) must come out at the marker.
    raw = yolox_raw([(16, 12, 15, 0.5, 0.5, 80, 160, 0.95, 0, 0.95)])  # 416x416 model
    det = sim.save(sim.yolox_model(raw), model_dir / "yolox_marker.onnx")
    image = white_dot_image(250, 200, size=(416, 416))
    detector = DWposeDetector(det, marker_pose)
    poses = detector.detect(image)
    np.testing.assert_allclose(poses.boxes[0], [208, 120, 288, 280], atol=1e-3)
    np.testing.assert_allclose(poses.keypoints[0, 0], [250, 200], atol=1.5)

    data = poses.to_openpose_json()
    nose = data["people"][0]["pose_keypoints_2d"][:3]
    assert nose[2] == 1.0 and nose[:2] == pytest.approx(poses.exact_keypoints[0, 0].tolist())
    json.dumps(data)  # plain JSON types only
    assert (data["canvas_width"], data["canvas_height"]) == (416, 416)

    poses.to_npz(tmp_path / "p.npz")
    person = np.load(tmp_path / "p.npz", allow_pickle=True)["person_0"].item()
    assert person["body"].shape == (18, 2) and person["face"].shape == (68, 2) and person["hands"].shape == (2, 21, 2)
    np.testing.assert_allclose(person["body"][0], poses.exact_keypoints[0, 0] / 416)


def test_detect_resolution_canvas_and_output_sizes(model_dir, marker_pose, empty_yolox):
    detector = DWposeDetector(empty_yolox, marker_pose)
    image = white_dot_image(100, 100, size=(300, 500))
    canvas, poses = detector.annotate(image, detect_resolution=512, image_resolution=768)
    # shorter side 300 -> 512: 500 * 512 / 300 = 853.3 -> 832 (64 multiples); 768: 1280 x 768
    assert (poses.width, poses.height) == (832, 512)
    assert canvas.shape == (768, 1280, 3)
    pil = detector(image, output_type="pil")
    assert pil.size == (832, 512) and pil.mode == "RGB"


def test_no_person_uses_whole_image_or_nothing(empty_yolox, marker_pose):
    image = white_dot_image(320, 240)
    poses = DWposeDetector(empty_yolox, marker_pose).detect(image)
    np.testing.assert_array_equal(poses.boxes, [[0, 0, 640, 480]])
    assert poses.box_scores[0] == 0
    np.testing.assert_allclose(poses.keypoints[0, 0], [320, 240], atol=1.5)

    off = DWposeDetector(empty_yolox, marker_pose, fallback_whole_image=False)
    empty = off.detect(image)
    assert len(empty) == 0 and empty.keypoints.shape == (0, 134, 2)
    assert empty.to_openpose_json()["people"] == []
    assert not off(image, output_type="np").any()


def test_coco_wholebody_export_inverts_the_layout(model_dir, empty_yolox, peaks):
    bins, values = peaks
    detector = DWposeDetector(empty_yolox, peak_model(model_dir, "peaks_coco.onnx", bins, values, batch=1))
    box = [100.0, 50.0, 300.0, 450.0]
    poses = detector.detect(np.zeros((480, 640, 3), dtype=np.uint8), boxes=[box])
    entry = poses.to_coco_wholebody(image_id=785)[0]
    coco = np.array([expected_keypoint(box, b) for b in bins])
    triplets = np.array(entry["keypoints"] + entry["foot_kpts"] + entry["face_kpts"] + entry["lefthand_kpts"]
                        + entry["righthand_kpts"]).reshape(133, 3)
    np.testing.assert_allclose(triplets[:, :2], coco, atol=1e-3)
    np.testing.assert_allclose(triplets[:, 2], values, atol=1e-6)
    assert entry["image_id"] == 785 and entry["category_id"] == 1
    assert [len(entry[k]) for k in ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")] == \
        [51, 18, 204, 63, 63]
