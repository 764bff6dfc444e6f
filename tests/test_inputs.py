"""Bad and unusual inputs: images, resolutions, boxes, weight files, providers."""

import warnings

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

import stand_in_models as sim
from annotator.dwpose import DWposeDetector, ProviderFallbackWarning, WeightsError
from annotator.dwpose.images import HWC3


@pytest.fixture(scope="module")
def detector(empty_yolox, marker_pose):
    return DWposeDetector(empty_yolox, marker_pose)


@pytest.mark.parametrize("image, said", [
    (np.zeros((64, 64, 3), dtype=np.float32), "float32"),
    (np.zeros((64, 64, 3), dtype=np.uint16), "uint16"),
    (np.zeros((64, 64), dtype=np.int64), "int64"),
    (np.zeros((1, 64, 64, 3), dtype=np.uint8), "(1, 64, 64, 3)"),
    (np.zeros((64, 64, 2), dtype=np.uint8), "(64, 64, 2)"),
    (np.zeros((64, 64, 5), dtype=np.uint8), "(64, 64, 5)"),
    (np.zeros((0, 64, 3), dtype=np.uint8), "empty"),
    (np.zeros((64, 0), dtype=np.uint8), "empty"),
    (np.zeros(64, dtype=np.uint8), "(64,)"),
    ("photo.jpg", "str"),
    ([[0, 0], [0, 0]], "list"),
    (None, "NoneType"),
    (Image.new("I;16", (32, 32)), "I;16"),
    (Image.new("F", (32, 32)), "'F'"),
])
def test_bad_images_raise_value_error_saying_what_was_given(detector, image, said):
    for call in (detector.detect, detector):
        with pytest.raises(ValueError) as info:
            call(image)
        assert said in str(info.value) and "uint8" in str(info.value)


@pytest.mark.parametrize("image", [
    np.full((48, 80), 200, dtype=np.uint8),
    np.full((48, 80, 1), 200, dtype=np.uint8),
    np.full((48, 80, 4), 200, dtype=np.uint8),
    Image.new("L", (80, 48), 200),
    Image.new("RGBA", (80, 48), (10, 20, 30, 128)),
    Image.new("P", (80, 48)),
    Image.new("1", (80, 48)),
    Image.new("CMYK", (80, 48)),
    Image.new("LA", (80, 48)),
])
def test_grey_rgba_and_other_8bit_images_are_accepted(detector, image):
    poses = detector.detect(image)
    assert (poses.width, poses.height) == (80, 48)
    assert detector(image, output_type="np").shape == (512, 832, 3)  # shorter side to 512


def test_rgba_is_composited_over_white():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]   # opaque red stays red
    rgba[0, 1] = [255, 0, 0, 0]     # transparent becomes white
    rgba[1, 0] = [0, 0, 0, 128]     # half black over white
    out = HWC3(rgba)
    assert out[0, 0].tolist() == [255, 0, 0] and out[0, 1].tolist() == [255, 255, 255]
    # 255 * (1 - 128/255) is 127 on paper; ControlNet's float32 maths then truncation give 126.
    assert out[1, 0].tolist() == [126, 126, 126]


@pytest.mark.parametrize("size", [(1, 1), (1, 3000), (2000, 2)])
def test_tiny_and_extreme_aspect_images(detector, size):
    image = np.full((*size, 3), 90, dtype=np.uint8)
    poses = detector.detect(image)
    assert len(poses) == 1  # the whole-image fallback
    assert np.isfinite(poses.keypoints).all()


def test_bad_resolutions_and_output_type(detector):
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    for bad in (0, -5, 2.5, "512", True):
        with pytest.raises(ValueError, match="resolution"):
            detector(image, detect_resolution=bad)
    with pytest.raises(ValueError, match="resolution"):
        detector(image, image_resolution=20)  # 20 / 64 rounds to a 0-pixel side
    with pytest.raises(ValueError, match="pixels"):
        detector(np.zeros((1, 500, 3), dtype=np.uint8), detect_resolution=4096)  # 4096 x 2 million
    with pytest.raises(ValueError, match="output_type"):
        detector(image, output_type="tensor")


def test_injected_boxes_degenerate_and_invalid(detector):
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    boxes = [[50, 50, 50, 50], [80, 90, 10, 20], [-500, -500, -400, -400], [0, 0, 1e5, 1e5]]
    poses = detector.detect(image, boxes=boxes)
    assert len(poses) == 4 and np.isfinite(poses.keypoints).all()
    np.testing.assert_array_equal(poses.boxes[1], [10, 20, 80, 90])  # swapped corners
    assert detector.detect(image, boxes=np.zeros((0, 4))).boxes.shape == (1, 4)  # fallback again
    for bad in ([[0, 0, np.nan, 1]], [[1, 2, 3]], "box"):
        with pytest.raises(ValueError, match="boxes"):
            detector.detect(image, boxes=bad)


def test_missing_truncated_and_wrong_model_files(tmp_path, empty_yolox, marker_pose):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(WeightsError, match="nope.onnx"):
        DWposeDetector(missing, marker_pose)

    truncated = tmp_path / "dw-ll_ucoco_384.onnx"
    truncated.write_bytes(marker_pose.read_bytes()[:200])
    with pytest.raises(WeightsError) as info:
        DWposeDetector(empty_yolox, truncated)
    assert str(truncated) in str(info.value) and "download it again" in str(info.value)

    text = tmp_path / "yolox_l.onnx"
    text.write_text("<html>404 not found</html>")
    with pytest.raises(WeightsError, match="does not look like an ONNX model"):
        DWposeDetector(text, marker_pose)

    # Valid ONNX files with the wrong contract: the pose model given as detector and vice versa.
    with pytest.raises(WeightsError, match="not those of a person detector"):
        DWposeDetector(marker_pose, marker_pose)
    with pytest.raises(WeightsError, match="not those of a pose model"):
        DWposeDetector(empty_yolox, empty_yolox)
    body_68 = sim.save(sim.simcc_marker_model(num_keypoints=68), tmp_path / "k68.onnx")
    with pytest.raises(WeightsError, match="68 keypoints"):
        DWposeDetector(empty_yolox, body_68)


def test_body_only_pose_model_reports_the_rest_hidden(tmp_path, empty_yolox):
    body = sim.save(sim.simcc_marker_model(num_keypoints=17), tmp_path / "body17.onnx")
    poses = DWposeDetector(empty_yolox, body).detect(np.zeros((64, 64, 3), dtype=np.uint8))
    assert (poses.scores[0, :18] > 0.3).all() and (poses.scores[0, 18:] == 0).all()


def test_unavailable_accelerator_falls_back_to_cpu_with_one_warning(empty_yolox, marker_pose):
    missing = next(p for p in ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider")
                   if p not in ort.get_available_providers())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector = DWposeDetector(empty_yolox, marker_pose, providers=[missing, "CPUExecutionProvider"])
    fallback = [w for w in caught if issubclass(w.category, ProviderFallbackWarning)]
    assert len(fallback) == 2  # one per model, both naming the provider
    assert all(missing in str(w.message) for w in fallback)
    assert detector.pose_model.session.get_providers() == ["CPUExecutionProvider"]
    assert len(detector.detect(np.zeros((32, 32, 3), dtype=np.uint8))) == 1


def test_explicit_cpu_provider_gives_no_warning(empty_yolox, marker_pose):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProviderFallbackWarning)
        DWposeDetector(empty_yolox, marker_pose, providers=["CPUExecutionProvider"])


def test_nobody_without_the_fallback_gives_empty_poses_and_a_black_map(empty_yolox, marker_pose, tmp_path):
    detector = DWposeDetector(empty_yolox, marker_pose, fallback_whole_image=False)
    image = np.full((48, 80, 3), 200, dtype=np.uint8)
    poses = detector.detect(image)
    assert len(poses) == 0 and (poses.width, poses.height) == (80, 48)
    assert poses.keypoints.shape == (0, 134, 2) and poses.scores.shape == (0, 134) and poses.boxes.shape == (0, 4)
    assert poses.to_openpose_json()["people"] == []
    canvas, _ = detector.annotate(image, 64, 64)
    assert canvas.shape == (64, 128, 3) and not canvas.any()
    poses.save_npz(tmp_path / "none.npz")
    assert len(np.load(tmp_path / "none.npz").files) == 0


def test_npz_is_written_by_save_npz_and_its_old_name(detector, tmp_path):
    poses = detector.detect(np.full((48, 80, 3), 200, dtype=np.uint8))
    poses.save_npz(tmp_path / "new.npz")
    poses.to_npz(tmp_path / "old.npz")
    new, old = (np.load(tmp_path / name, allow_pickle=True)["person_0"].item() for name in ("new.npz", "old.npz"))
    assert new.keys() == old.keys() == {"body", "face", "hands"}
    for key in new:
        np.testing.assert_array_equal(new[key], old[key])
