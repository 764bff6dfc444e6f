"""Heatmap pose models (models/vitpose.py): Wan 2.2 Animate's decode and crop to the bit, the graph told from a
SimCC one, static and dynamic batches, external data files, and the whole pipeline on stand-ins whose truth
is known (tests/stand_in_heatmap.py)."""

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

import stand_in_heatmap as sh
import stand_in_models as sim
from annotator.dwpose import DWposeDetector, WeightsError
from annotator.dwpose.models import RTMPose, ViTPose, load_pose_model
from annotator.dwpose.models.vitpose import decode_heatmaps, wan_to_image
from annotator.dwpose.runtime import Runtime

INPUT_HW = (256, 192)

# ------------------------------------------------------------------------------------------------------------
# Wan's code written out from its lines (Wan-Video/Wan2.2 at 42bf4cf, wan/modules/animate/preprocess/), one
# keypoint at a time, with the types numpy < 2 gives (Wan's requirements.txt: numpy>=1.23.5,<2): there a
# float32 scalar times a Python number is float64, and a float32 array with a float64 number stays float32.


def official_blur(heatmap: np.ndarray) -> np.ndarray:
    """pose2d_utils.py _gaussian_blur, lines 738-753, kernel 11: one map zero-padded by 5, blurred, unpadded,
    rescaled to its old maximum."""
    border = 5
    padded = np.zeros((heatmap.shape[0] + 2 * border, heatmap.shape[1] + 2 * border), dtype=np.float32)
    padded[border:-border, border:-border] = heatmap
    blurred = cv2.GaussianBlur(padded, (11, 11), 0)[border:-border, border:-border].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        blurred *= np.max(heatmap) / np.max(blurred)
    return blurred


def official_taylor(hm: np.ndarray, x: np.float32, y: np.float32) -> tuple:
    """pose2d_utils.py _taylor, lines 628-648, on one log-modulated map from the argmax cell (x, y)."""
    f64 = np.float64
    height, width = hm.shape
    px, py = int(x), int(y)
    if not (1 < px < width - 2 and 1 < py < height - 2):
        return x, y
    dx = 0.5 * f64(hm[py, px + 1] - hm[py, px - 1])  # float32 difference, float64 product
    dy = 0.5 * f64(hm[py + 1, px] - hm[py - 1, px])
    dxx = 0.25 * (f64(hm[py, px + 2]) - 2 * f64(hm[py, px]) + f64(hm[py, px - 2]))  # 2 * float32 is float64
    dxy = 0.25 * f64(hm[py + 1, px + 1] - hm[py - 1, px + 1] - hm[py + 1, px - 1] + hm[py - 1, px - 1])
    dyy = 0.25 * (f64(hm[py + 2, px]) - 2 * f64(hm[py, px]) + f64(hm[py - 2, px]))
    if dxx * dyy - dxy ** 2 == 0:
        return x, y
    offset = -np.linalg.inv(np.array([[dxx, dxy], [dxy, dyy]])) @ np.array([[dx], [dy]])
    return np.float32(f64(x) + offset[0, 0]), np.float32(f64(y) + offset[1, 0])  # `coord += offset`, float32


def official_decode(heatmaps: np.ndarray, center: np.ndarray, scale: np.ndarray) -> tuple:
    """pose2d.py line 315: keypoints_from_heatmaps(heatmaps, center, scale * 200, unbiased=True,
    use_udp=False) for the people of `heatmaps` (N, K, H, W), `center` and `scale` (N, 2) in Wan's units.
    With post_process='default' and unbiased=True it runs as 'unbiased' (lines 871-876): _get_max_preds
    (lines 401-410), log(max(_gaussian_blur(., 11), 1e-10)) (lines 909-910), _taylor per keypoint (lines
    911-913), transform_preds without UDP (lines 315-321). Returns image keypoints (N, K, 2) float32 and
    scores (N, K) float32."""
    n_people, n_points, height, width = heatmaps.shape
    keypoints = np.zeros((n_people, n_points, 2), dtype=np.float32)
    scores = np.zeros((n_people, n_points), dtype=np.float32)
    for n in range(n_people):
        pixels = scale[n] * 200
        for k in range(n_points):
            heatmap = heatmaps[n, k]
            cell = int(np.argmax(heatmap))
            scores[n, k] = np.max(heatmap)
            x, y = (np.float32(cell % width), np.float32(cell // width)) if scores[n, k] > 0 else (np.float32(-1),) * 2
            log_map = np.log(np.maximum(official_blur(heatmap), np.float32(1e-10)))
            x, y = official_taylor(log_map, x, y)
            keypoints[n, k, 0] = x * np.float32(pixels[0] / width) + np.float32(center[n, 0]) - np.float32(pixels[0] * 0.5)
            keypoints[n, k, 1] = y * np.float32(pixels[1] / height) + np.float32(center[n, 1]) - np.float32(pixels[1] * 0.5)
    return keypoints, scores


def official_crop(rgb: np.ndarray, bbox) -> tuple:
    """Pose2d's pose-model input for one person box of an RGB frame: Pose2d.load_images swaps the channels
    (pose2d.py line 391/393), ViTPose.preprocess (lines 324-343) replaces a box under 10 pixels a side by the
    whole frame, bbox_from_detector (pose2d_utils.py lines 1049-1066) and crop (lines 1075-1098, with
    get_transform / transform, lines 1004-1041) cut it, then (v / 255 - mean) / std. Returns the (3, 256, 192)
    float32 input, center and scale."""
    image = rgb[..., ::-1]
    if bbox[2] - bbox[0] < 10 or bbox[3] - bbox[1] < 10:
        bbox = np.array([0, 0, image.shape[1], image.shape[0]])
    rows, cols = INPUT_HW
    ratio = rows / float(cols)
    center = np.array([(bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0])
    size = max((bbox[2] - bbox[0]) * ratio, bbox[3] - bbox[1])
    scale = np.array([size / ratio, size]) / 200.0
    scale *= 1.25

    def to_image(pt):  # transform(pt, center, max(scale), res, invert=1)
        h = 200 * max(scale)
        w = h / ratio
        t = np.array([[float(cols) / w, 0, cols * (-float(center[0]) / w + .5)],
                      [0, float(rows) / h, rows * (-float(center[1]) / h + .5)], [0, 0, 1]])
        p = np.dot(np.linalg.inv(t), np.array([pt[0] - 1, pt[1] - 1, 1.]))
        return np.array([round(p[0]), round(p[1])], dtype=int) + 1

    ul = to_image([1, 1]) - 1
    br = to_image([cols + 1, rows + 1]) - 1
    region = np.zeros([br[1] - ul[1], br[0] - ul[0], 3], dtype=np.float32)
    new_x = max(0, -ul[0]), min(br[0], len(image[0])) - ul[0]
    new_y = max(0, -ul[1]), min(br[1], len(image)) - ul[1]
    old_x = max(0, ul[0]), min(len(image[0]), br[0])
    old_y = max(0, ul[1]), min(len(image), br[1])
    try:
        region[new_y[0]:new_y[1], new_x[0]:new_x[1]] = image[old_y[0]:old_y[1], old_x[0]:old_x[1]]
    except ValueError:  # Wan prints it and goes on with zeros
        pass
    crop = cv2.resize(region, (cols, rows))
    blob = ((crop / 255. - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225]))
    return blob.transpose(2, 0, 1).astype(np.float32), center, scale


# ------------------------------------------------------------------------------------------------------------


def random_heatmaps(rng, n=3, k=133, hw=(64, 48)) -> np.ndarray:
    """Heatmaps like a model's: one Gaussian peak per map anywhere (edges included), noise, some maps all
    zero and some all negative."""
    yy, xx = np.mgrid[0:hw[0], 0:hw[1]]
    cx = rng.uniform(-2, hw[1] + 1, (n, k, 1, 1))
    cy = rng.uniform(-2, hw[0] + 1, (n, k, 1, 1))
    sigma = rng.uniform(0.8, 3, (n, k, 1, 1))
    peak = rng.uniform(0.05, 1, (n, k, 1, 1))
    maps = peak * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2)) + rng.normal(0, 0.02, (n, k, *hw))
    maps = maps.astype(np.float32)
    maps[0, :4] = 0
    maps[1, :4] = -np.abs(maps[1, :4])
    return maps


def test_decode_equals_wans_keypoints_from_heatmaps_to_the_bit():
    rng = np.random.default_rng(0)
    for heatmaps in (random_heatmaps(rng), rng.uniform(-1, 1, (2, 17, 64, 48)).astype(np.float32)):
        centers = rng.uniform(0, 600, (len(heatmaps), 2))
        scales = rng.uniform(0.3, 3, (len(heatmaps), 2))
        expected, expected_scores = official_decode(heatmaps, centers, scales)
        locs, scores = decode_heatmaps(heatmaps)
        keypoints = np.stack([wan_to_image(locs[i], (48, 64), centers[i], scales[i] * 200) for i in range(len(locs))])
        np.testing.assert_array_equal(keypoints, expected)
        np.testing.assert_array_equal(scores, expected_scores)


def test_decode_finds_sub_cell_peaks_and_keeps_argmax_near_the_border():
    peaks = np.array([[10.3, 20.7], [30.25, 40.5], [24.9, 3.1], [1.4, 30.2], [46.6, 62.7]])
    model = sh.heatmap_peak_model(peaks, values=[0.9, 0.8, 0.7, 0.6, 0.5])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    heatmaps = session.run(None, {"input": np.zeros((1, 3, *INPUT_HW), np.float32)})[0]
    locs, scores = decode_heatmaps(heatmaps)
    np.testing.assert_allclose(locs[0, :3], peaks[:3], atol=0.01)  # DARK, inside the map
    np.testing.assert_array_equal(locs[0, 3:], [[1, 30], [47, 63]])  # under 2 cells from the edge: the argmax
    np.testing.assert_array_equal(scores[0], sh.gaussian_heatmaps(peaks, values=[0.9, 0.8, 0.7, 0.6, 0.5]).max(axis=(1, 2)))


@pytest.fixture(scope="module")
def marker_paths(model_dir):
    """The marker model as a static-batch file, a dynamic-batch file, and a static file with external data."""
    return {
        "static": sim.save(sh.heatmap_marker_model(), model_dir / "vit_marker_static.onnx"),
        "dynamic": sim.save(sh.heatmap_marker_model(batch="batch"), model_dir / "vit_marker_dynamic.onnx"),
        "external": sh.save_with_external_data(sh.heatmap_marker_model(), model_dir / "ext" / "vit_marker.onnx"),
    }


BOXES = np.array([[10.25, 20.5, 110.75, 300.25], [0, 0, 640, 480], [-50.5, -30.2, 80.1, 200.6],
                  [500, 300, 700, 600], [100, 100, 105, 300], [600.5, 10.5, 700.5, 120.5], [33, 44, 233, 144],
                  [1000, 1000, 1100, 1200], [-300, 50, -200, 250], [0.5, 0.5, 639.5, 479.5], [200, 100, 330, 109]])


def test_wan_crop_equals_pose2d_input_to_the_bit(marker_paths):
    model = load_pose_model(marker_paths["dynamic"], Runtime())
    assert model.mode == "wan"  # the default for heatmap models
    image = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    blob, centers, scales = model.crops(image, BOXES)
    for i, box in enumerate(BOXES):  # inside, whole image, partly and wholly outside, too small
        expected, center, scale = official_crop(image, box)
        np.testing.assert_array_equal(blob[i], expected)
        np.testing.assert_array_equal(centers[i], center)
        np.testing.assert_array_equal(scales[i], scale * 200)  # pixels: Wan's decode gets scale * 200


def test_wan_mode_gives_pose2d_keypoints_for_the_same_box(marker_paths):
    """The whole path of one box: Wan's crop, the model, Wan's decode."""
    model = load_pose_model(marker_paths["dynamic"], Runtime())
    image = np.random.default_rng(2).integers(0, 60, (480, 640, 3), dtype=np.uint8)
    image[200:209, 300:309] = 255
    session = ort.InferenceSession(str(marker_paths["static"]), providers=["CPUExecutionProvider"])
    for box in BOXES[[0, 1, 3, 6, 9]]:
        blob, center, scale = official_crop(image, box)
        expected, expected_scores = official_decode(session.run(None, {"input": blob[None]})[0], center[None],
                                                    scale[None])
        keypoints, scores = model(image, box[None])
        np.testing.assert_array_equal(keypoints, expected.astype(np.float64))
        np.testing.assert_array_equal(scores, expected_scores)


def test_load_pose_model_tells_heatmap_from_simcc_models(marker_paths, marker_pose):
    assert isinstance(load_pose_model(marker_paths["dynamic"], Runtime()), ViTPose)
    assert isinstance(load_pose_model(marker_pose, Runtime()), RTMPose)
    body = sim.save(sh.heatmap_peak_model(np.full((17, 2), 20.0)), marker_paths["static"].parent / "vit_body.onnx")
    assert load_pose_model(body, Runtime()).num_keypoints == 17


def test_wrong_graphs_raise_weights_error_naming_the_file(model_dir):
    fifty = sim.save(sh.heatmap_peak_model(np.full((50, 2), 20.0)), model_dir / "vit_fifty.onnx")
    with pytest.raises(WeightsError, match="vit_fifty.onnx.*50 keypoints"):
        load_pose_model(fifty, Runtime())
    detector = sim.save(sim.yolox_model(np.zeros((sim.num_anchors(416), 85), np.float32)), model_dir / "not_pose.onnx")
    with pytest.raises(WeightsError, match="not_pose.onnx: its inputs/outputs are not those of"):
        load_pose_model(detector, Runtime())
    with pytest.raises(WeightsError, match="not_pose.onnx"):
        DWposeDetector(det_model="none", pose_model=detector)


# People a stand-in YOLOX finds (boxes in its 416 input; x 2 on the 832 x 624 image), apart enough that no
# person's crop holds another one's marker, each with a white 7 x 7 square near its middle (its top left).
PEOPLE_416 = [(20, 30, 80, 150), (130, 20, 190, 140), (240, 30, 300, 150), (50, 180, 110, 300), (280, 170, 350, 300)]
MARKERS = [(95, 170), (330, 150), (522, 190), (150, 470), (640, 460)]


@pytest.fixture(scope="module")
def people_yolox(model_dir):
    return sim.save(sim.yolox_people_model(PEOPLE_416), model_dir / "yolox_five.onnx")


def marker_image(markers=MARKERS, colours=None) -> np.ndarray:
    image = np.random.default_rng(3).integers(0, 60, (624, 832, 3), dtype=np.uint8)
    for i, (x, y) in enumerate(markers):
        image[y:y + 7, x:x + 7] = 255 if colours is None else colours[i]
    return image


def keypoints_by_person(poses) -> np.ndarray:
    """poses.keypoints (N, 134, 2) in the order of PEOPLE_416 (the detector gives them by score)."""
    order = [int(np.argmin(np.abs(np.asarray(PEOPLE_416) * 2 - box).sum(axis=1))) for box in poses.boxes]
    return poses.keypoints[np.argsort(order)]


@pytest.mark.parametrize("mode, tolerance", [("wan", 1.0), ("dwpose", 0.4)])
def test_detector_finds_each_marker_at_its_place(people_yolox, marker_paths, mode, tolerance):
    """DWposeDetector with a person detector and the marker model: every keypoint of each person (133 and the
    neck) lands on that person's marker. Wan's whole-pixel crop costs it up to about a pixel."""
    detector = DWposeDetector(det_model=people_yolox, pose_model=marker_paths["dynamic"])
    detector.pose_model.mode = mode
    poses = detector.detect(marker_image())
    assert len(poses.boxes) == len(PEOPLE_416)
    centres = np.array(MARKERS, float) + 3
    errors = np.abs(keypoints_by_person(poses) - centres[:, None]).max(axis=(1, 2))
    assert errors.max() < tolerance, errors
    assert (poses.scores > 0.3).all()


def test_wan_mode_feeds_bgr_and_dwpose_mode_rgb(people_yolox, marker_paths):
    """Keypoint 0 of the marker model looks at input channel 0, keypoint 2 at channel 2: with a red and a
    blue square in one person, Wan's crop (BGR) sends keypoint 0 to the blue one, RGB to the red one."""
    detector = DWposeDetector(det_model="none", pose_model=marker_paths["dynamic"])
    red, blue = (300, 200), (330, 260)
    image = marker_image([red, blue], [(255, 0, 0), (0, 0, 255)])[:480, :640]
    box = np.array([[250.0, 150.0, 400.0, 350.0]])
    expected = {"wan": (blue, red), "dwpose": (red, blue)}
    for mode, (first, third) in expected.items():
        detector.pose_model.mode = mode
        keypoints, _ = detector.pose_model(image, box)
        np.testing.assert_allclose(keypoints[0, 0], np.add(first, 3), atol=1.0)
        np.testing.assert_allclose(keypoints[0, 2], np.add(third, 3), atol=1.0)
    detector.pose_model.mode = "other"
    with pytest.raises(ValueError, match="mode"):
        detector.detect(image)


@pytest.mark.parametrize("mode", ["wan", "dwpose"])
def test_static_batch_of_one_and_dynamic_batches_give_the_same_keypoints(people_yolox, marker_paths, mode):
    image = marker_image()
    boxes = np.asarray(PEOPLE_416, float) * 2
    static = ViTPose(ort.InferenceSession(str(marker_paths["static"]), providers=["CPUExecutionProvider"]), mode=mode)
    assert not static.batched  # one person per run
    expected = static(image, boxes)
    for path in (marker_paths["dynamic"], marker_paths["static"]):  # the static file gets a dynamic-batch copy
        model = load_pose_model(path, Runtime())
        model.mode = mode
        assert model.batched and model.max_batch < len(boxes)  # more people than one run takes
        for got, want in zip(model(image, boxes), expected):
            np.testing.assert_array_equal(got, want)


def test_external_data_file_is_loaded_beside_the_model(marker_paths, people_yolox, tmp_path):
    path = marker_paths["external"]
    assert (path.parent / "vit_marker_data.bin").stat().st_size > path.stat().st_size
    model = load_pose_model(path, Runtime())
    assert isinstance(model, ViTPose) and not model.batched  # no cache copy: it would lose the data file
    inline = load_pose_model(marker_paths["dynamic"], Runtime())
    image, boxes = marker_image(), np.asarray(PEOPLE_416, float) * 2
    for got, want in zip(model(image, boxes), inline(image, boxes)):
        np.testing.assert_array_equal(got, want)
    detector = DWposeDetector(det_model=people_yolox, pose_model=path)
    assert len(detector.detect(image).boxes) == len(PEOPLE_416)

    lonely = tmp_path / "lonely.onnx"  # the graph without its data file
    lonely.write_bytes(path.read_bytes())
    with pytest.raises(WeightsError, match="lonely.onnx"):
        load_pose_model(lonely, Runtime())


def test_tracking_and_the_command_line_take_a_heatmap_model(people_yolox, marker_paths, tmp_path):
    from PIL import Image

    from annotator.dwpose.cli import main

    detector = DWposeDetector(det_model=people_yolox, pose_model=marker_paths["dynamic"])
    frames = list(detector.track([marker_image()] * 3, det_every=2, detect_resolution=None))
    assert [len(frame.poses.boxes) for frame in frames] == [len(PEOPLE_416)] * 3
    centres = np.array(MARKERS, float) + 3
    for frame in frames:
        assert np.abs(keypoints_by_person(frame.poses) - centres[:, None]).max() < 1.0
    Image.fromarray(marker_image()).save(tmp_path / "people.png")
    out = tmp_path / "out"
    assert main([str(tmp_path / "people.png"), "--out", str(out), "--det", str(people_yolox),
                 "--pose", str(marker_paths["external"]), "--json", "--detect-resolution", "624"]) == 0
    assert (out / "people_pose.png").exists() and (out / "people.json").exists()


def test_a_model_without_a_fixed_input_size_is_cropped_as_pose2d_crops(marker_paths, tmp_path):
    """Pose2d crops 256 x 192 whatever the file says (ViTPose.preprocess input_resolution): a heatmap model whose
    input height and width are left open gets that crop, and the keypoints the fixed-size file gives."""
    model = onnx.load(str(marker_paths["static"]))
    for value in (*model.graph.input, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = f"{value.name}_height", f"{value.name}_width"
    path = tmp_path / "vit_marker_any_size.onnx"
    onnx.save(model, str(path))
    open_size = load_pose_model(path, Runtime())
    assert open_size.input_wh == (192, 256)
    image = marker_image()
    boxes = np.array([[40, 60, 160, 300], [260, 40, 380, 280]], float)
    fixed = load_pose_model(marker_paths["static"], Runtime())
    for got, expected in zip(open_size(image, boxes), fixed(image, boxes)):
        np.testing.assert_array_equal(got, expected)
