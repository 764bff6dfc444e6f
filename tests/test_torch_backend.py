"""backend="torch": the ONNX files as PyTorch modules (runtime/onnx_torch.py) behind DWposeDetector, on the
CPU here. Parity with onnxruntime as the torch-backend issue asks: keypoints equal on the stand-ins with
sharp peaks (marker, peak), outputs within 1e-3 on the random-weight ones; both detector kinds; static
and dynamic batch; threads; the choice of backend; and a clear error without torch."""

import sys
import warnings

import numpy as np
import pytest

import stand_in_models as sim
from annotator.dwpose import DWposeDetector, WeightsError
from annotator.dwpose.runtime import ProviderFallbackWarning, choose_runtime, create_session
from annotator.dwpose.runtime import providers as providers_module
from conftest import CROWD_BOXES_416, shared_path

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.requires_torch


@pytest.fixture(scope="module")
def peak_pose(model_dir):
    rng = np.random.default_rng(5)
    bins = np.stack([rng.integers(0, 576, 133), rng.integers(0, 768, 133)], axis=1)
    return sim.save(sim.simcc_peak_model(bins, rng.uniform(0.2, 1.0, 133).astype(np.float32)),
                    model_dir / "peak_static.onnx")


@pytest.fixture(scope="module")
def crowd_rtmdet(model_dir):
    dets = np.array([[2 * x1, 2 * y1, 2 * x2, 2 * y2, 0.9] for x1, y1, x2, y2 in CROWD_BOXES_416], np.float32)
    return sim.save(sim.rtmdet_model(dets, np.zeros(len(dets), np.int64)), model_dir / "rtmdet_crowd.onnx")


def both(det, pose, **options):
    return (DWposeDetector(det, pose, backend="onnxruntime", **options),
            DWposeDetector(det, pose, backend="torch", device="cpu", **options))


@pytest.mark.parametrize("pose", ["marker_pose", "peak_pose"])
@pytest.mark.parametrize("det", ["crowd_yolox", "crowd_rtmdet"])
def test_keypoints_equal_onnxruntime_on_sharp_stand_ins(request, det, pose, crowd_image):
    ours, theirs = both(request.getfixturevalue(det), request.getfixturevalue(pose))
    assert theirs.pose_model.session.get_providers() == ["torch cpu (fp32)"]
    expected, found = ours.detect(crowd_image), theirs.detect(crowd_image)
    assert len(found) == 6
    np.testing.assert_array_equal(found.boxes, expected.boxes)
    np.testing.assert_array_equal(found.exact_keypoints, expected.exact_keypoints)
    np.testing.assert_array_equal(found.scores, expected.scores)


@pytest.mark.parametrize("batch", [1, "batch"])  # static (as published: gets a dynamic copy) and dynamic
def test_random_weight_outputs_within_1e3(model_dir, batch):
    path = sim.save(sim.simcc_random_model(batch=batch), model_dir / f"random_{batch}.onnx")
    reference = create_session(path, "pose model")
    session = create_session(path, "pose model", choose_runtime(backend="torch", device="cpu"), batchable=True)
    assert session.get_inputs()[0].shape[0] != 1  # batches, also from the static file
    crops = np.random.default_rng(2).standard_normal((3, 3, 384, 288)).astype(np.float32)
    for i in range(3):
        for ours, theirs in zip(session.run(None, {"input": crops[i:i + 1]}), reference.run(None, {"input": crops[i:i + 1]})):
            np.testing.assert_allclose(ours, theirs, atol=1e-3, rtol=0)
    batched = session.run(None, {"input": crops})
    assert batched[0].shape[0] == 3


@pytest.mark.requires_shared
@pytest.mark.parametrize("name", ["yolox_nano.onnx", "rtmdet_nano.onnx"])
def test_real_detectors_find_the_same_people(name, marker_pose):
    from PIL import Image

    image = np.asarray(Image.open(shared_path("photos", "people", "girls.jpg")).convert("RGB"))
    ours, theirs = both(shared_path("ckpts", name), marker_pose)
    expected, found = ours.detect(image), theirs.detect(image)
    assert len(expected) > 0 and len(found) == len(expected)
    np.testing.assert_allclose(found.boxes, expected.boxes, atol=0.05)
    np.testing.assert_allclose(found.box_scores, expected.box_scores, atol=1e-4)
    # On the same boxes: the same keypoints.
    np.testing.assert_array_equal(theirs.detect(image, boxes=expected.boxes).exact_keypoints,
                                  ours.detect(image, boxes=expected.boxes).exact_keypoints)


def test_bf16_and_fp16_run_close_to_fp32(crowd_yolox, marker_pose, crowd_image):
    # Given boxes: the stand-in detector sums the whole image, which overflows float16 (a real one does not).
    boxes = np.array(CROWD_BOXES_416, np.float64) * 2
    exact = DWposeDetector(crowd_yolox, marker_pose, backend="torch", device="cpu").detect(crowd_image, boxes)
    for precision in ("bf16", "fp16"):
        fast = DWposeDetector(crowd_yolox, marker_pose, backend="torch", device="cpu", precision=precision)
        assert fast.pose_model.session.get_providers() == [f"torch cpu ({precision})"]
        poses = fast.detect(crowd_image, boxes)
        # Half precision moves a marker by at most a few bins of the crop.
        assert np.median(np.abs(poses.exact_keypoints - exact.exact_keypoints)) <= 2.0


def test_threads_share_one_detector(crowd_yolox, model_dir, crowd_image):
    from concurrent.futures import ThreadPoolExecutor

    pose = sim.save(sim.simcc_random_model(batch="batch"), model_dir / "random_batch.onnx")
    detector = DWposeDetector(crowd_yolox, pose, backend="torch", device="cpu")
    images = [crowd_image, crowd_image[:, ::-1].copy(), crowd_image[::2, ::2].copy(), crowd_image[::-1].copy()]
    expected = [detector.detect(image).exact_keypoints for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:  # map re-raises any thread's error here
        for _ in range(3):
            found = list(pool.map(lambda image: detector.detect(image).exact_keypoints, images))
            for keypoints, reference in zip(found, expected):
                np.testing.assert_array_equal(keypoints, reference)


def test_the_converted_module_is_cached_on_disk(session_cache, model_dir):
    path = sim.save(sim.simcc_marker_model(), model_dir / "marker_cached.onnx")
    DWposeDetector(model_dir / "yolox_crowd.onnx", path, backend="torch", device="cpu")
    cached = [p for p in session_cache.rglob("marker_cached*.pt")]
    assert cached
    cached[0].write_bytes(b"damaged")  # a damaged cache file is converted again, not an error
    from annotator.dwpose.runtime.torch_session import TorchSession

    assert TorchSession(path, "pose model", "cpu").run(None, {"input": np.zeros((1, 3, 384, 288), np.float32)})


def test_an_op_the_interpreter_lacks_is_named(model_dir, crowd_yolox):
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("MyCustomOp", ["input"], ["simcc_x"]),
                               helper.make_node("Identity", ["simcc_x"], ["simcc_y"])], "custom",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 384, 288])],
                              [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, 133, 576]),
                               helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, 133, 576])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = model_dir / "custom_op.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(WeightsError, match="MyCustomOp"):
        DWposeDetector(crowd_yolox, path, backend="torch", device="cpu")


def test_choice_of_backend(monkeypatch):
    # Here (no GPU): the default stays onnxruntime on the CPU, the reference's exact arithmetic.
    assert choose_runtime() == choose_runtime(backend="onnxruntime")
    assert choose_runtime().backend == "onnxruntime"
    assert choose_runtime(device="cpu").backend == "torch"  # a device alone means torch
    assert choose_runtime(backend="onnxruntime", device="cpu").providers == ("CPUExecutionProvider",)
    assert choose_runtime(backend="onnxruntime", device="cuda:1").providers[0] == ("CUDAExecutionProvider", {"device_id": 1})
    with pytest.raises(ValueError, match="sees no CUDA GPU"):
        choose_runtime(backend="torch", device="cuda")
    with pytest.raises(ValueError, match="backend must be one of"):
        choose_runtime(backend="tensorflow")
    with pytest.raises(ValueError, match="providers= are onnxruntime's"):
        choose_runtime(["CPUExecutionProvider"], backend="torch")

    # A GPU that torch sees and onnxruntime cannot use: torch runs, silently where onnxruntime is a
    # CPU build, with one ProviderFallbackWarning where its CUDA provider is there but does not load.
    monkeypatch.setattr(providers_module, "gpu_device", lambda: "cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert choose_runtime() == providers_module.Runtime("fp32", (), backend="torch", device="cuda")
    available = providers_module.ort.get_available_providers()
    monkeypatch.setattr(providers_module.ort, "get_available_providers", lambda: ["CUDAExecutionProvider", *available])
    providers_module._provider_loads.cache_clear()
    with pytest.warns(ProviderFallbackWarning, match="CUDAExecutionProvider.*torch on cuda"):
        assert choose_runtime(precision="fp16").backend == "torch"
    providers_module._provider_loads.cache_clear()


def test_without_torch_the_error_names_the_extra(monkeypatch, crowd_yolox, marker_pose):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ImportError, match=r"dwpose-annotator\[torch\]"):
        DWposeDetector(crowd_yolox, marker_pose, backend="torch")
    assert DWposeDetector(crowd_yolox, marker_pose).runtime.backend == "onnxruntime"


def test_to_moves_a_torch_detector_and_leaves_others(crowd_yolox, marker_pose):
    detector = DWposeDetector(crowd_yolox, marker_pose)
    assert detector.to("cuda") is detector  # onnxruntime: providers are chosen when it is made
    on_torch = DWposeDetector(crowd_yolox, marker_pose, backend="torch", device="cpu")
    assert on_torch.to("cpu") is on_torch
    with pytest.raises(ValueError, match="sees no CUDA GPU"):
        on_torch.to("cuda")
