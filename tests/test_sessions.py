"""Sessions: reuse, the on-disk cache, batching of static pose models, and the fast precisions."""

import gc
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from PIL import Image

import stand_in_models as sim
from annotator.dwpose import DWposeDetector, PrecisionFallbackWarning, ProviderFallbackWarning
from annotator.dwpose import session as session_module
from annotator.dwpose.openvino_session import OpenVINOSession, cpu_supports_bf16, openvino_available
from annotator.dwpose.rtmpose import RTMPose
from annotator.dwpose.session import create_session
from conftest import shared_path


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DWPOSE_CACHE", str(tmp_path / "cache"))
    session_module._open_sessions.clear()
    yield tmp_path / "cache"
    session_module._open_sessions.clear()


@pytest.fixture(scope="module")
def crowd():
    return np.asarray(Image.open(shared_path("photos", "people", "girls.jpg")).convert("RGB"))


@pytest.fixture(scope="module")
def yolox():
    return shared_path("ckpts", "yolox_nano.onnx")


def matched_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each box of `a`, the best IoU with a box of `b`."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda boxes: np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)  # noqa: E731
    return (inter / (area(a)[:, None] + area(b)[None, :] - inter)).max(axis=1)


def test_second_detector_shares_sessions_until_both_are_gone(fresh_cache, yolox, random_pose):
    first = DWposeDetector(yolox, random_pose)
    second = DWposeDetector(yolox, random_pose)
    assert second.detector.session is first.detector.session
    assert second.pose_model.session is first.pose_model.session
    other_precision = DWposeDetector(yolox, random_pose, fallback_whole_image=False)
    assert other_precision.pose_model.session is first.pose_model.session  # options outside the session share too

    del first, second, other_precision
    gc.collect()
    assert len(session_module._open_sessions) == 0, "sessions are released when no detector uses them"


def test_optimised_graph_is_cached_on_disk_and_gives_the_same_poses(fresh_cache, yolox, random_pose, crowd):
    expected = DWposeDetector(yolox, random_pose).detect(crowd)
    written = sorted(fresh_cache.glob("*cpu-optimised*.onnx"))
    assert len(written) == 2, "one optimised graph per model"

    session_module._open_sessions.clear()  # as in a new process
    again = DWposeDetector(yolox, random_pose).detect(crowd)
    np.testing.assert_array_equal(again.exact_keypoints, expected.exact_keypoints)
    np.testing.assert_array_equal(again.scores, expected.scores)

    for path in written:  # a damaged cache file is rebuilt, never an error
        path.write_bytes(path.read_bytes()[:100])
    session_module._open_sessions.clear()
    rebuilt = DWposeDetector(yolox, random_pose).detect(crowd)
    np.testing.assert_array_equal(rebuilt.exact_keypoints, expected.exact_keypoints)
    assert all(path.stat().st_size > 1000 for path in written)


def test_unwritable_cache_still_works(tmp_path, monkeypatch, yolox, random_pose, crowd):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("DWPOSE_CACHE", str(blocker))
    session_module._open_sessions.clear()
    poses = DWposeDetector(yolox, random_pose).detect(crowd)
    assert len(poses) >= 5
    session_module._open_sessions.clear()


def test_static_batch_pose_model_runs_all_persons_at_once_with_identical_results(fresh_cache, yolox, random_pose,
                                                                                  crowd):
    assert onnx.load(random_pose).graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1
    detector = DWposeDetector(yolox, random_pose)
    assert detector.pose_model.batched
    boxes, _ = detector.detector(crowd)
    assert len(boxes) >= 5
    one_at_a_time = RTMPose(create_session(random_pose, "pose"))
    assert not one_at_a_time.batched
    expected_keypoints, expected_scores = one_at_a_time(crowd, boxes)
    keypoints, scores = detector.pose_model(crowd, boxes)
    np.testing.assert_array_equal(keypoints, expected_keypoints)
    np.testing.assert_array_equal(scores, expected_scores)


def batch_mixing_pose_model(path):
    """A static-batch SimCC-shaped model whose outputs depend on the other images of the batch
    (it subtracts the batch mean), so batching would change its results."""
    h, w, k = 8, 6, 3
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["batch_mean"], axes=[0], keepdims=1),
        helper.make_node("Sub", ["input", "batch_mean"], ["centred"]),
        helper.make_node("Reshape", ["centred", "shape_x"], ["simcc_x"]),
        helper.make_node("Reshape", ["centred", "shape_y"], ["simcc_y"]),
    ]
    graph = helper.make_graph(
        nodes, "mixing",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, k, 2 * w * 4]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, k, 2 * w * 4])],
        initializer=[sim._const("shape_x", np.array([1, k, 2 * w * 4])), sim._const("shape_y", np.array([1, k, 2 * w * 4]))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


def test_model_whose_batch_changes_results_runs_one_person_at_a_time(fresh_cache, tmp_path):
    path = batch_mixing_pose_model(tmp_path / "mixing.onnx")
    session = create_session(path, "pose", batchable=True)
    assert session.get_inputs()[0].shape[0] == 1, "the published file, not the dynamic-batch copy"
    assert list(fresh_cache.glob("*.fp32-batches"))[0].read_text() == "no"
    session_module._open_sessions.clear()
    assert create_session(path, "pose", batchable=True).get_inputs()[0].shape[0] == 1  # verdict remembered


def test_unknown_precision_is_refused(yolox, random_pose):
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16, fp16"):
        DWposeDetector(yolox, random_pose, precision="int8")


def test_fp16_without_a_gpu_says_so_and_runs_exact(fresh_cache, yolox, random_pose, crowd, monkeypatch):
    monkeypatch.setattr(session_module.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.warns(PrecisionFallbackWarning, match="neither the TensorRT nor the CUDA provider"):
        fast = DWposeDetector(yolox, random_pose, precision="fp16")
    exact = DWposeDetector(yolox, random_pose)
    np.testing.assert_array_equal(fast.detect(crowd).exact_keypoints, exact.detect(crowd).exact_keypoints)


def test_fp16_on_cuda_runs_a_float16_copy_of_the_model(fresh_cache, yolox, random_pose, crowd, monkeypatch):
    # No GPU here: pretend onnxruntime has CUDA. The float16 copy is made and opened with CUDA first;
    # CUDA cannot load, so onnxruntime runs the float16 graph on the CPU and we warn about the provider.
    monkeypatch.setattr(session_module.ort, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast = DWposeDetector(yolox, random_pose, precision="fp16", providers=["CPUExecutionProvider"])
    assert any(issubclass(w.category, ProviderFallbackWarning) for w in caught)
    copies = sorted(fresh_cache.glob("*fp16*.onnx"))
    assert copies, "float16 copies are kept in the cache"
    for copy in copies:
        model = onnx.load(copy)
        assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT  # float32 in and out
        assert any(t.data_type == TensorProto.FLOAT16 for t in model.graph.initializer)
    exact = DWposeDetector(yolox, random_pose).detect(crowd)
    poses = fast.detect(crowd)
    assert len(poses) == len(exact)
    assert (matched_iou(exact.boxes, poses.boxes) > 0.9).all()


def test_bf16_without_openvino_says_how_to_get_it(fresh_cache, yolox, random_pose, monkeypatch):
    monkeypatch.setattr(session_module, "openvino_available", lambda: False)
    with pytest.warns(PrecisionFallbackWarning, match=r"dwpose-annotator\[openvino\]"):
        detector = DWposeDetector(yolox, random_pose, precision="bf16")
    assert isinstance(detector.detector.session, ort.InferenceSession)


def test_bf16_on_this_cpu(fresh_cache, yolox, marker_pose, crowd):
    """Where the CPU has bf16 (AMX / AVX512-BF16), OpenVINO runs both models; elsewhere a warning."""
    if not openvino_available():
        pytest.fail('OpenVINO is part of the test extra: pip install -e ".[test]"')
    exact = DWposeDetector(yolox, marker_pose).detect(crowd)
    if not cpu_supports_bf16():
        with pytest.warns(PrecisionFallbackWarning, match="no bf16 instructions"):
            DWposeDetector(yolox, marker_pose, precision="bf16")
        return
    fast_detector = DWposeDetector(yolox, marker_pose, precision="bf16")
    assert isinstance(fast_detector.detector.session, OpenVINOSession)
    assert isinstance(fast_detector.pose_model.session, OpenVINOSession)
    fast = fast_detector.detect(crowd)
    assert abs(len(fast) - len(exact)) <= 1
    assert np.median(matched_iou(exact.boxes, fast.boxes)) > 0.9
    # Same boxes in, same crops: the marker model's keypoints move by at most a pixel or so.
    keypoints, _ = fast_detector.pose_model(crowd, exact.boxes.astype(np.float64))
    reference, _ = DWposeDetector(yolox, marker_pose).pose_model(crowd, exact.boxes.astype(np.float64))
    assert (np.abs(keypoints - reference).max(axis=-1) <= 1.0).mean() > 0.9


def test_detectors_used_from_several_threads_give_the_same_poses(yolox, random_pose, crowd):
    from concurrent.futures import ThreadPoolExecutor

    detector = DWposeDetector(yolox, random_pose)
    images = [crowd, crowd[:, ::-1], crowd[::2, ::2]]
    expected = [detector.detect(image).exact_keypoints for image in images]
    with ThreadPoolExecutor(max_workers=3) as pool:
        for _ in range(2):
            found = list(pool.map(lambda image: detector.detect(image).exact_keypoints, images))
            for keypoints, reference in zip(found, expected):
                np.testing.assert_array_equal(keypoints, reference)
