"""Real detectors on real photos from ../shared (skipped when it is absent)."""

import json

import numpy as np
import pytest
from PIL import Image

from annotator.dwpose import DWposeDetector
from conftest import shared_path

pytestmark = pytest.mark.requires_shared

DETECTORS = ["yolox_nano.onnx", "rtmdet_nano.onnx"]
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def photos(folder):
    """The photos of a ../shared/photos folder; a folder without any is an error (the tests would prove nothing)."""
    found = sorted(p for p in shared_path("photos", folder).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    assert found, f"no photos in {shared_path('photos', folder)}"
    return found


@pytest.fixture(scope="module", params=DETECTORS)
def detector(request, random_pose):
    return DWposeDetector(shared_path("ckpts", request.param), random_pose, fallback_whole_image=False)


def test_people_are_found(detector):
    for photo in photos("people"):
        poses = detector.detect(Image.open(photo))
        assert len(poses) >= 1, photo.name
        assert (np.diff(poses.box_scores) <= 0).all(), "persons are ordered by score, best first"
    crowd = detector.detect(Image.open(shared_path("photos", "people", "girls.jpg")))
    assert len(crowd) >= 5


def test_most_photos_without_people_have_no_detection(detector):
    empty = [len(detector.detect(Image.open(photo))) == 0 for photo in photos("no_person")]
    assert sum(empty) >= 0.7 * len(empty)


def test_boxes_lie_on_the_person(request):
    # Both detectors must agree on the single person of a portrait-style photo (same pixels).
    boxes = []
    for name in DETECTORS:
        det = DWposeDetector(shared_path("ckpts", name), request.getfixturevalue("random_pose"))
        boxes.append(det.detect(Image.open(shared_path("photos", "people", "woman.jpeg"))).boxes[0])
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = boxes
    inter = max(0, min(ax2, bx2) - max(ax1, bx1)) * max(0, min(ay2, by2) - max(ay1, by1))
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    assert inter / union > 0.7


@pytest.mark.parametrize("folder", ["people", "no_person", "non_photo"])
def test_full_pipeline_runs_on_every_photo(folder, random_pose):
    detector = DWposeDetector(shared_path("ckpts", "yolox_nano.onnx"), random_pose)
    for photo in photos(folder):
        image = Image.open(photo)
        canvas, poses = detector.annotate(image)
        assert canvas.dtype == np.uint8 and canvas.ndim == 3 and canvas.any(), photo.name
        assert len(poses) >= 1  # people, or the whole-image fallback
        json.dumps(poses.to_openpose_json())


def test_openpose_json_has_the_structure_sd_webui_writes(random_pose):
    example = json.loads(shared_path("photos", "expected", "sdwebui_pose_example.json").read_text())
    detector = DWposeDetector(shared_path("ckpts", "yolox_nano.onnx"), random_pose)
    _, poses = detector.annotate(Image.open(shared_path("photos", "people", "woman.jpeg")))
    ours = poses.to_openpose_json()
    assert set(example) <= set(ours)
    assert (ours["canvas_width"], ours["canvas_height"]) == (poses.width, poses.height)
    for key, value in example["people"][0].items():
        got = ours["people"][0][key]
        assert isinstance(got, list) and len(got) == len(value), key
        assert all(isinstance(v, float) for v in got)
    for person in ours["people"]:
        assert len(person["pose_keypoints_2d"]) == 18 * 3
        assert person["face_keypoints_2d"] is None or len(person["face_keypoints_2d"]) == 70 * 3
        body = np.array(person["pose_keypoints_2d"]).reshape(18, 3)
        shown = body[:, 2] == 1
        assert (body[~shown] == 0).all() and np.isfinite(body).all()
