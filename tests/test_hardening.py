"""Hardening of the library and the cog predictor: threads, fuzzed inputs, huge and broken files,
degenerate detector outputs, broken weights. Every call returns a result or raises a clear ValueError /
TypeError (WeightsError for weight files), quickly.

Run with `--hypothesis-show-statistics` to see how many examples each property ran.
Threads: DWPOSE_HARDENING_CALLS calls per thread (default 50; the issue's 200 takes ~4x as long).
"""

import io
import os
import struct
import threading
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

import stand_in_models as sim
from annotator.dwpose import DWposeDetector, WeightsError
from annotator.dwpose.weights import find_weights

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLEAR = (ValueError, TypeError)
EXAMPLES = {}  # property -> examples run, printed at the end of the module (pytest -s)


def count(name: str) -> None:
    EXAMPLES[name] = EXAMPLES.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print("\nhypothesis examples per property:", dict(sorted(EXAMPLES.items())))


@pytest.fixture(scope="module")
def detector(crowd_yolox, marker_pose):
    return DWposeDetector(crowd_yolox, marker_pose)


# ---------------------------------------------------------------- files declaring huge sizes

def encoded(image: np.ndarray, fmt: str, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, fmt, **save)
    return buffer.getvalue()


def huge_png(width=50_000, height=50_000) -> bytes:
    """A small valid PNG whose IHDR (rewritten, CRC fixed) declares width x height."""
    data = bytearray(encoded(np.zeros((8, 8, 3), np.uint8), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def huge_jpeg(width=50_000, height=50_000) -> bytes:
    """A small valid baseline JPEG whose SOF0 marker (rewritten) declares width x height."""
    data = bytearray(encoded(np.zeros((8, 8, 3), np.uint8), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("make", [huge_png, huge_jpeg])
def test_pil_refuses_huge_headers_at_open_in_the_library_loading_path(tmp_path, make):
    """The library's loader refuses a file whose header declares a huge image at once, before decoding: PIL's
    DecompressionBombError (the command line reports it), or an ImageError by the limit asked for."""
    from annotator.dwpose import ImageError, load_image

    path = tmp_path / "huge.img"
    path.write_bytes(make())
    start = time.monotonic()
    with pytest.raises(Image.DecompressionBombError):
        load_image(path)
    path.write_bytes(make(2000, 1000))
    with pytest.raises(ImageError, match="2000x1000 pixels, more than the 1.0 megapixels"):
        load_image(path, max_pixels=1_000_000)
    assert time.monotonic() - start < 1


def test_lazily_opened_huge_or_truncated_pil_images_give_value_errors(detector, monkeypatch):
    """Images PIL opened without decoding: refused by size before decoding (even where the user turned
    PIL's own limit off), or a ValueError when the data is broken."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    big = Image.open(io.BytesIO(huge_png(17_000, 16_000)))  # 272 Mpx: above the library's limit
    start = time.monotonic()
    with pytest.raises(ValueError, match="more than"):
        detector.detect(big)
    assert time.monotonic() - start < 1
    photo = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    for fmt in ("PNG", "JPEG"):
        truncated = Image.open(io.BytesIO(encoded(photo, fmt)[:1500]))
        with pytest.raises(ValueError, match="truncated"):
            detector.detect(truncated)


# ---------------------------------------------------------------- threads

def test_threads_give_the_single_threaded_results_without_deadlock_or_growth(detector):
    """8 threads on one detector, different images each: results equal the single-threaded ones; RSS flat."""
    calls = int(os.environ.get("DWPOSE_HARDENING_CALLS", "50"))
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (96 + 16 * i, 128 + 8 * i, 3), dtype=np.uint8) for i in range(8)]
    expected = [detector.annotate(image, 128, 128) for image in images]
    failures, done = [], []

    def work(worker: int) -> None:
        for call in range(calls):
            index = (worker + call) % len(images)
            pose_map, poses = detector.annotate(images[index], 128, 128)
            want_map, want = expected[index]
            if not (np.array_equal(pose_map, want_map) and np.array_equal(poses.keypoints, want.keypoints)
                    and np.array_equal(poses.scores, want.scores)):
                failures.append((worker, call))
            if worker == 0 and call == calls // 10:
                done.append(rss())
        done.append(worker)

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "deadlock: threads still running"
    assert not failures
    warm = next(value for value in done if isinstance(value, float))
    assert rss() < warm * 1.05, (warm, rss())


def rss() -> float:
    """Resident memory of this process in bytes (Linux /proc; skips elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return float(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        pytest.skip("needs /proc/self/statm")


# ---------------------------------------------------------------- fuzzed images

# Valid inputs are generated apart from invalid ones: a valid input must give a result (any error fails the
# property), an invalid one must raise a clear ValueError / TypeError.

@st.composite
def valid_images(draw):
    """What the library accepts: uint8 arrays HxW, HxWx1, HxWx3, HxWx4 (sides 1-40, often 1, sometimes a view
    with negative strides), and 8-bit PIL images (RGB, L, RGBA, P, LA)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    side = st.one_of(st.just(1), st.integers(1, 40))
    shape = [draw(side), draw(side)] + draw(st.sampled_from([[], [1], [3], [4]]))
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    if draw(st.booleans()) and array.shape[1] > 1:
        array = array[:, ::-1]
    if len(shape) == 3 and shape[2] == 3 and draw(st.booleans()):
        mode = draw(st.sampled_from(["RGB", "L", "RGBA", "P", "LA"]))
        return Image.fromarray(np.ascontiguousarray(array)).convert(mode)
    return array


@st.composite
def invalid_images(draw):
    """What it refuses: other dtypes (NaN / inf among floats), empty sides, other shapes or channel counts,
    16-bit and float PIL images, things that are not images."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["dtype", "empty", "shape", "channels", "pil", "object"]))
    if kind == "dtype":
        dtype = draw(st.sampled_from([np.uint16, np.int32, np.float32, np.float64, np.bool_, np.int8]))
        array = (rng.random((8, 9, 3)) * 300).astype(dtype)
        if np.issubdtype(dtype, np.floating) and draw(st.booleans()):
            array.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return array
    if kind == "empty":
        return np.zeros(draw(st.sampled_from([(0, 5, 3), (5, 0), (0, 0, 4)])), np.uint8)
    if kind == "shape":
        return np.zeros(draw(st.sampled_from([(), (7,), (2, 6, 7, 3), (1, 1, 1, 1)])), np.uint8)
    if kind == "channels":
        return np.zeros((6, 7, draw(st.sampled_from([2, 5]))), np.uint8)
    if kind == "pil":
        mode = draw(st.sampled_from(["I;16", "F"]))
        return Image.fromarray(rng.integers(0, 65536, (6, 7)).astype(np.uint16)).convert(mode)
    return draw(st.sampled_from([None, "image.png", [[1, 2, 3]], 3.5]))


VALID_RESOLUTIONS = st.sampled_from([None, 64, 128])
INVALID_RESOLUTIONS = st.sampled_from([0, -5, 7.5, True, "512"])


@FUZZ
@given(image=valid_images(), detect_resolution=VALID_RESOLUTIONS, image_resolution=st.sampled_from([64, 128]))
def test_fuzz_call(detector, image, detect_resolution, image_resolution):
    count("__call__")
    result = detector(image, detect_resolution, image_resolution, output_type="np")
    assert result.dtype == np.uint8 and result.ndim == 3 and result.shape[2] == 3


@FUZZ
@given(case=st.one_of(st.tuples(invalid_images(), VALID_RESOLUTIONS, st.just(64)),
                      st.tuples(valid_images(), INVALID_RESOLUTIONS, st.just(64)),
                      st.tuples(valid_images(), VALID_RESOLUTIONS, st.sampled_from([0, 3, -64, 1.5]))))
def test_fuzz_call_refuses_invalid_input(detector, case):
    count("__call__ (invalid)")
    image, detect_resolution, image_resolution = case
    with pytest.raises(CLEAR):
        detector(image, detect_resolution, image_resolution, output_type="np")


@FUZZ
@given(image=valid_images())
def test_fuzz_detect(detector, image):
    count("detect")
    poses = detector.detect(image)
    height, width = np.asarray(image).shape[:2]
    assert (poses.width, poses.height) == (width, height) and np.isfinite(poses.boxes).all()


@FUZZ
@given(image=invalid_images())
def test_fuzz_detect_refuses_invalid_images(detector, image):
    count("detect (invalid)")
    with pytest.raises(CLEAR):
        detector.detect(image)


@FUZZ
@given(image=valid_images(), detect_resolution=VALID_RESOLUTIONS, threshold=st.sampled_from([0.0, 0.3, 1.0, 5.0]))
def test_fuzz_annotate(detector, image, detect_resolution, threshold):
    count("annotate")
    pose_map, poses = detector.annotate(image, detect_resolution, 64, threshold=threshold)
    assert pose_map.dtype == np.uint8 and len(poses.keypoints) == len(poses)


@FUZZ
@given(case=st.one_of(st.tuples(invalid_images(), VALID_RESOLUTIONS, st.just(0.3)),
                      st.tuples(valid_images(), INVALID_RESOLUTIONS, st.just(0.3)),
                      st.tuples(valid_images(), VALID_RESOLUTIONS, st.sampled_from([np.nan, np.inf, "x", None]))))
def test_fuzz_annotate_refuses_invalid_input(detector, case):
    count("annotate (invalid)")
    image, detect_resolution, threshold = case
    with pytest.raises(CLEAR):
        detector.annotate(image, detect_resolution, 64, threshold=threshold)


@FUZZ
@given(frames=st.lists(valid_images(), min_size=0, max_size=3), det_every=st.sampled_from([1, 2, 5]))
def test_fuzz_track(detector, frames, det_every):
    count("track")
    results = list(detector.track(frames, det_every=det_every, detect_resolution=64, image_resolution=64))
    assert len(results) == len(frames) and all(r.pose_map.dtype == np.uint8 for r in results)


@FUZZ
@given(case=st.one_of(st.tuples(st.lists(valid_images(), min_size=1, max_size=2), st.sampled_from([0, -1, 1.5, True])),
                      st.tuples(st.lists(valid_images(), max_size=2).flatmap(
                          lambda good: st.lists(invalid_images(), min_size=1, max_size=1).map(lambda bad: good + bad)),
                          st.just(2))))
def test_fuzz_track_refuses_invalid_input(detector, case):
    """A bad det_every, or a bad frame (after good ones: the frames before it are given, then the error)."""
    count("track (invalid)")
    frames, det_every = case
    with pytest.raises(CLEAR):
        list(detector.track(frames, det_every=det_every, detect_resolution=64, image_resolution=64))


finite = st.floats(-1e6, 1e6, width=32)


@FUZZ
@given(boxes=st.one_of(
    st.lists(st.lists(finite, min_size=4, max_size=4), max_size=4),  # zero-size, inverted, out of the image
    st.lists(finite, max_size=8).filter(lambda values: len(values) % 4 == 0),  # flat x1 y1 x2 y2 ...
    st.sampled_from([None, [[]], np.zeros((2, 4, 1))]),
))
def test_fuzz_detect_with_boxes(detector, boxes):
    """Zero-size, inverted and out-of-image boxes given to detect(): a pose per box (the whole image when none)."""
    count("detect(boxes=)")
    image = np.full((60, 80, 3), 128, np.uint8)
    poses = detector.detect(image, boxes=boxes)
    given_count = 0 if boxes is None else np.asarray(boxes, dtype=np.float64).size // 4
    assert np.isfinite(poses.boxes).all() and (len(poses) == given_count or given_count == 0)


@FUZZ
@given(boxes=st.one_of(
    st.lists(st.lists(st.sampled_from([np.nan, np.inf, -np.inf, 1.0]), min_size=4, max_size=4), min_size=1,
             max_size=3).filter(lambda rows: not np.isfinite(rows).all()),
    st.lists(finite, min_size=1, max_size=7).filter(lambda values: len(values) % 4 != 0),
    st.sampled_from(["box", [[1, 2, 3]], {"x": 1}]),
))
def test_fuzz_detect_refuses_malformed_boxes(detector, boxes):
    count("detect(boxes=) (invalid)")
    with pytest.raises(CLEAR):
        detector.detect(np.full((60, 80, 3), 128, np.uint8), boxes=boxes)


# ---------------------------------------------------------------- degenerate detector outputs

def yolox_with_rows(rows) -> "sim.onnx.ModelProto":
    """A YOLOX stand-in whose first raw output rows are `rows` (cx, cy, log w, log h, objectness, person)."""
    raw = np.zeros((sim.num_anchors(416), 85), dtype=np.float32)
    raw[:len(rows), :6] = rows
    return sim.yolox_model(raw)


DEGENERATE_ROWS = {
    "zero-size": [[0.5, 0.5, -np.inf, -np.inf, 0.9, 0.9]],
    "nan": [[np.nan, 0.5, 1.0, 1.0, 0.9, 0.9], [0.5, 0.5, np.nan, 1.0, 0.9, 0.9]],
    "nan-score": [[0.5, 0.5, 1.0, 1.0, np.nan, 0.9]],
    "inf-size": [[0.5, 0.5, np.inf, 1.0, 0.9, 0.9]],
    "out-of-image": [[1e6, -1e6, 1.0, 1.0, 0.9, 0.9], [-50.0, 50.0, 20.0, 20.0, 0.9, 0.9]],
    "huge-score": [[0.5, 0.5, 1.0, 1.0, 1e30, 1e30]],
    "many-anchors": None,  # 400 anchors are confident people: NMS over hundreds of boxes
}


@pytest.mark.parametrize("case", list(DEGENERATE_ROWS))
def test_degenerate_yolox_outputs(tmp_path, marker_pose, case):
    rows = DEGENERATE_ROWS[case]
    if rows is None:
        rows = np.tile([[0.5, 0.5, 1.0, 1.0, 0.9, 0.9]], (400, 1))
    model = sim.save(yolox_with_rows(np.asarray(rows, dtype=np.float32)), tmp_path / "yolox.onnx")
    detector = DWposeDetector(model, marker_pose)
    image = np.full((120, 160, 3), 90, np.uint8)
    start = time.monotonic()
    poses = detector.detect(image)
    assert np.isfinite(poses.boxes).all() and np.isfinite(poses.keypoints).all()
    pose_map, _ = detector.annotate(image, 64, 64)
    assert pose_map.ndim == 3 and pose_map.dtype == np.uint8
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("dets", [
    [[50, 50, 50, 50, 0.9]],          # zero-size
    [[100, 90, 10, 20, 0.9]],         # inverted
    [[-900, -900, -800, -800, 0.9]],  # out of the image
    [[np.nan, 0, 10, 10, 0.9]],       # NaN
    [[0, 0, np.inf, 10, 0.9]],        # infinite
    [[0, 0, 10, 10, np.nan]],         # NaN score
])
def test_degenerate_rtmdet_outputs(tmp_path, marker_pose, dets):
    model = sim.save(sim.rtmdet_model(np.asarray(dets, np.float32), np.zeros(len(dets))), tmp_path / "rtmdet.onnx")
    detector = DWposeDetector(model, marker_pose)
    poses = detector.detect(np.full((120, 160, 3), 90, np.uint8))
    assert np.isfinite(poses.boxes).all() and np.isfinite(poses.keypoints).all()


# ---------------------------------------------------------------- weights
# Covered elsewhere: truncated, empty, non-ONNX and wrong-contract files (test_inputs.py
# test_missing_truncated_and_wrong_model_files, test_weights.py test_check_*), truncated / corrupt /
# resumed downloads (test_weights.py test_truncated_download, test_corrupt_download_is_removed,
# test_dropped_connection_resumes), an unwritable session cache (test_sessions.py).

def test_corrupt_onnx_that_starts_like_one_is_a_weights_error(tmp_path, crowd_yolox, marker_pose):
    data = bytearray(marker_pose.read_bytes())
    rng = np.random.default_rng(5)
    data[20:2000] = rng.integers(0, 256, 1980, dtype=np.uint8).tobytes()  # garbage after the first field
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt"):
        DWposeDetector(crowd_yolox, corrupt)


def test_read_only_ckpts_folder_works(tmp_path, monkeypatch, crowd_yolox, marker_pose):
    folder = tmp_path / "ckpts"
    folder.mkdir()
    (folder / "yolox_l.onnx").write_bytes(crowd_yolox.read_bytes())
    (folder / "dw-ll_ucoco_384.onnx").write_bytes(marker_pose.read_bytes())
    folder.chmod(0o555)
    try:
        monkeypatch.setenv("DWPOSE_CKPTS", str(folder))
        detector = DWposeDetector()
        assert len(detector.detect(np.full((64, 64, 3), 200, np.uint8))) >= 1
    finally:
        folder.chmod(0o755)


def test_missing_ckpts_folder_offline_says_where_it_looked(tmp_path, monkeypatch, hub_offline):
    monkeypatch.setenv("DWPOSE_CKPTS", str(tmp_path / "nowhere"))
    with pytest.raises(WeightsError) as info:
        DWposeDetector(search_dirs=[tmp_path / "also-missing"])
    message = str(info.value)
    assert "nowhere" in message and "offline" in message


def test_interrupted_download_is_not_taken_as_complete(tmp_path, monkeypatch, hub_offline, marker_pose):
    """What huggingface_hub leaves when a download is killed: a blob named <etag>.incomplete and no
    snapshot link. A later (offline) run must not use it."""
    monkeypatch.delenv("DWPOSE_CKPTS", raising=False)
    repo = tmp_path / "hub" / "models--yzd-v--DWPose"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (repo / "blobs" / ("a" * 64 + ".incomplete")).write_bytes(marker_pose.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="not found locally"):
        find_weights("dw-ll_ucoco_384.onnx", cache_dir=tmp_path / "hub")


# ---------------------------------------------------------------- the predictor, in process

@pytest.fixture(scope="module")
def predictor(tmp_path_factory, crowd_yolox, marker_pose):
    pytest.importorskip("cog")
    import predict

    folder = tmp_path_factory.mktemp("predict-ckpts")
    (folder / "yolox_l.onnx").write_bytes(crowd_yolox.read_bytes())
    (folder / "dw-ll_ucoco_384.onnx").write_bytes(marker_pose.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DWPOSE_CKPTS", str(folder))
        instance = predict.Predictor()
        instance.setup()
    return instance


def run_predict(predictor, path, **inputs):
    """predict() with cog's defaults for the inputs not given (in process nobody fills them in)."""
    import inspect

    import predict

    parameters = inspect.signature(predict.Predictor.predict).parameters
    values = {name: getattr(p.default, "default", p.default) for name, p in parameters.items() if name != "self"}
    values.update(image=path, **inputs)
    return predictor.predict(**values)


def readable(data: bytes) -> bool:
    """Whether PIL decodes the file whole, upright (then the service must give a result)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            ImageOps.exif_transpose(image).load()
    except Exception:  # whatever PIL raises for damaged data
        return False
    return True


def test_predictor_setup_without_weights_is_a_clear_weights_error(tmp_path, monkeypatch, hub_offline):
    pytest.importorskip("cog")
    import predict

    monkeypatch.setenv("DWPOSE_CKPTS", str(tmp_path))
    with pytest.raises(WeightsError, match="yolox_l.onnx"):
        predict.Predictor().setup()


@pytest.mark.parametrize("make", [huge_png, huge_jpeg, lambda: huge_png(12_000, 9_000)])
def test_predictor_refuses_huge_headers_quickly(predictor, tmp_path, make):
    path = tmp_path / "huge"
    path.write_bytes(make())
    start = time.monotonic()
    with pytest.raises(ValueError, match="too big|more than"):
        run_predict(predictor, path)
    assert time.monotonic() - start < 1


@st.composite
def files(draw):
    """Image files of many formats and modes, whole, truncated or with flipped bytes, or random bytes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.integers(0, 9)) == 0:
        return rng.integers(0, 256, draw(st.integers(0, 300)), dtype=np.uint8).tobytes()
    width, height = draw(st.integers(1, 70)), draw(st.integers(1, 70))
    mode = draw(st.sampled_from(["RGB", "L", "RGBA", "P", "1", "LA", "I;16", "I", "F", "CMYK"]))
    fmt = draw(st.sampled_from(["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]))
    image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    if mode in ("I;16", "I", "F"):
        image = Image.fromarray(rng.integers(0, 65536, (height, width)).astype(np.uint16)).convert(mode)
    else:
        image = image.convert(mode)
    buffer = io.BytesIO()
    try:
        image.save(buffer, fmt)
    except (OSError, ValueError, KeyError):  # this format cannot store this mode
        image.convert("RGB").save(buffer, fmt)
    data = bytearray(buffer.getvalue())
    damage = draw(st.sampled_from(["none", "truncate", "flip"]))
    if damage == "truncate":
        data = data[:draw(st.integers(0, max(len(data) - 1, 0)))]
    elif damage == "flip" and data:
        for index in rng.integers(0, len(data), 5):
            data[index] ^= 0xFF
    return bytes(data)


@FUZZ
@given(data=files(), threshold=st.sampled_from([0.0, 0.3, 1.0]), detect_resolution=st.sampled_from([64, 128]),
       include_hand=st.booleans())
def test_fuzz_predict(predictor, tmp_path_factory, data, threshold, detect_resolution, include_hand):
    count("predict")
    path = tmp_path_factory.mktemp("fuzz") / "input"
    path.write_bytes(data)
    try:
        output = run_predict(predictor, path, threshold=threshold, detect_resolution=detect_resolution,
                             image_resolution=64, include_hand=include_hand)
    except ValueError as err:  # damaged or random bytes: the service says why
        assert str(err) and not readable(data), "a readable image file was refused"
        return
    people = np.load(output.npz, allow_pickle=True)
    for name in people.files:
        person = people[name].item()
        assert person["body"].shape == (18, 2) and person["hands"].shape == (2, 21, 2)
    assert Image.open(output.pose_map).size == Image.open(output.overlay).size


def test_an_uncompressed_tiff_taller_than_its_strips_is_read_as_pil_reads_its_bytes(tmp_path):
    """Found by test_fuzz_predict: a raw TIFF whose header declares more rows than its strips hold. PIL maps such a
    file into memory and refuses it ("buffer is not large enough", a ValueError) yet decodes the same bytes from
    memory (the missing rows blank); load_image reads it as the latter."""
    from annotator.dwpose import load_image

    rows = np.random.default_rng(0).integers(0, 256, (53, 4, 4), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rows, "CMYK").save(buffer, "TIFF", compression="raw")
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(struct.unpack_from("<H", data, ifd)[0]):
        where = ifd + 2 + 12 * entry
        if struct.unpack_from("<H", data, where)[0] == 257:  # ImageLength (LONG): 53 -> 65333
            struct.pack_into("<I", data, where + 8, 65333)
    path = tmp_path / "tall.tif"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="buffer is not large enough"):
        Image.open(path).load()
    image = load_image(path)
    assert image.shape == (65333, 4, 3)
    with Image.open(io.BytesIO(bytes(data))) as expected:
        np.testing.assert_array_equal(image, np.asarray(expected.convert("RGB")))
