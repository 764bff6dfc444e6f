"""The runtime layer: session reuse, the disk cache, batching of static pose models, providers and
precision, and the warnings they give. Stand-in models only (no ../shared needed)."""

import gc
import json
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import stand_in_models as sim
from annotator.dwpose import DWposeDetector, PrecisionFallbackWarning, ProviderFallbackWarning
from annotator.dwpose.models import RTMPose
from annotator.dwpose.runtime import Runtime, choose_runtime, create_session, graph_edits, providers, sessions
from annotator.dwpose.runtime.openvino import OpenVINOSession, cpu_supports_bf16

CPU, CUDA, TENSORRT = "CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DWPOSE_CACHE", str(tmp_path / "cache"))
    sessions._open_sessions.clear()
    yield tmp_path / "cache"
    sessions._open_sessions.clear()


@pytest.fixture
def fake_available(monkeypatch):
    """Make onnxruntime report these providers as built in (the sessions still run on the CPU)."""
    def fake(*names):
        monkeypatch.setattr(ort, "get_available_providers", lambda: [*names, CPU])
    return fake


def caught_warnings(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = make()
    return result, caught


def of(category, caught):
    return [w for w in caught if issubclass(w.category, category)]


# Reuse and the disk cache --------------------------------------------------------------------------


def test_second_detector_shares_sessions_until_both_are_gone(fresh_cache, crowd_yolox, random_pose):
    first = DWposeDetector(crowd_yolox, random_pose)
    second = DWposeDetector(crowd_yolox, random_pose)
    assert second.detector.session is first.detector.session
    assert second.pose_model.session is first.pose_model.session
    other_options = DWposeDetector(crowd_yolox, random_pose, fallback_whole_image=False, det_threshold=0.5)
    assert other_options.pose_model.session is first.pose_model.session  # options outside the session share too
    assert len(sessions._open_sessions) == 2

    del first, second, other_options
    gc.collect()
    assert len(sessions._open_sessions) == 0, "sessions are released when no detector uses them"


def test_optimised_graph_is_cached_on_disk_and_gives_the_same_poses(fresh_cache, crowd_yolox, random_pose,
                                                                     crowd_image):
    expected = DWposeDetector(crowd_yolox, random_pose).detect(crowd_image)
    assert len(expected) == 6
    written = sorted(fresh_cache.glob("*cpu-optimised*.onnx"))
    assert len(written) == 2, "one optimised graph per model"

    sessions._open_sessions.clear()  # as in a new process
    again = DWposeDetector(crowd_yolox, random_pose).detect(crowd_image)
    np.testing.assert_array_equal(again.exact_keypoints, expected.exact_keypoints)
    np.testing.assert_array_equal(again.scores, expected.scores)

    for path in written:  # a damaged cache file is rebuilt, never an error
        path.write_bytes(path.read_bytes()[:100])
    sessions._open_sessions.clear()
    rebuilt = DWposeDetector(crowd_yolox, random_pose).detect(crowd_image)
    np.testing.assert_array_equal(rebuilt.exact_keypoints, expected.exact_keypoints)
    assert all(path.stat().st_size > 1000 for path in written)


def test_unwritable_cache_still_works(tmp_path, monkeypatch, crowd_yolox, random_pose, crowd_image):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("DWPOSE_CACHE", str(blocker))
    sessions._open_sessions.clear()
    poses = DWposeDetector(crowd_yolox, random_pose).detect(crowd_image)
    assert len(poses) == 6
    assert blocker.read_text() == "a file where the cache folder should be"
    sessions._open_sessions.clear()


# Batching ------------------------------------------------------------------------------------------


def test_static_batch_pose_model_runs_all_persons_at_once_with_identical_results(fresh_cache, crowd_yolox,
                                                                                  random_pose, crowd_image):
    assert onnx.load(random_pose).graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1
    detector = DWposeDetector(crowd_yolox, random_pose)
    assert detector.pose_model.batched
    boxes, _ = detector.detector(crowd_image)
    assert len(boxes) == 6
    one_at_a_time = RTMPose(create_session(random_pose, "pose"))
    assert not one_at_a_time.batched
    expected_keypoints, expected_scores = one_at_a_time(crowd_image, boxes)
    keypoints, scores = detector.pose_model(crowd_image, boxes)
    np.testing.assert_array_equal(keypoints, expected_keypoints)
    np.testing.assert_array_equal(scores, expected_scores)
    assert list(fresh_cache.glob("*.fp32-batches"))[0].read_text() == "yes"


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
    sessions._open_sessions.clear()
    assert create_session(path, "pose", batchable=True).get_inputs()[0].shape[0] == 1  # verdict remembered


def test_dynamic_batch_model_needs_no_copy(fresh_cache, marker_pose):
    session = create_session(marker_pose, "pose", batchable=True)
    assert isinstance(session.get_inputs()[0].shape[0], str)
    assert not list(fresh_cache.glob("*dynamic-batch*.onnx"))
    assert list(fresh_cache.glob("*.not-needed")), "remembered, so the next process does not read the model again"


# Providers and precision: one choice ---------------------------------------------------------------


def test_unknown_precision_is_refused(crowd_yolox, random_pose):
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16, fp16"):
        DWposeDetector(crowd_yolox, random_pose, precision="int8")


@pytest.mark.parametrize("available, given, expected", [
    ((), None, Runtime("fp32", (CPU,))),
    ((CUDA,), None, Runtime("fp32", (CUDA, CPU))),
    ((CUDA,), [CPU], Runtime("fp32", (CPU,))),
    ((CUDA, TENSORRT), [("CUDAExecutionProvider", {"device_id": 1})], Runtime("fp32", (("CUDAExecutionProvider", {"device_id": 1}),))),
])
def test_fp32_runs_on_the_given_or_default_providers(fake_available, available, given, expected):
    fake_available(*available)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert choose_runtime(given, "fp32") == expected


def test_fp16_chooses_providers_only_when_none_are_given(fake_available, fresh_cache):
    fake_available(TENSORRT, CUDA)
    tensorrt = choose_runtime(None, "fp16")
    assert tensorrt.precision == "fp16" and not tensorrt.float16_copy
    (name, trt_options), *rest = tensorrt.providers
    assert name == TENSORRT and trt_options["trt_fp16_enable"] is True and rest == [CUDA, CPU]
    assert Path(trt_options["trt_engine_cache_path"]) == fresh_cache / "tensorrt"

    fake_available(CUDA)
    assert choose_runtime(None, "fp16") == Runtime("fp16", (CUDA, CPU), float16_copy=True)
    # Given providers run fp16 when they can: TensorRT (a bare name gets fp16 engines), or CUDA.
    assert choose_runtime([CUDA], "fp16") == Runtime("fp16", (CUDA,), float16_copy=True)
    own = (TENSORRT, {"trt_fp16_enable": False})
    assert choose_runtime([own, CPU], "fp16") == Runtime("fp16", (own, CPU))
    assert choose_runtime([TENSORRT], "fp16").providers[0][1]["trt_fp16_enable"] is True


def test_explicit_cpu_with_fp16_runs_exact_fp32_with_one_precision_warning(fake_available, fresh_cache, crowd_yolox,
                                                                            random_pose, crowd_image):
    fake_available(CUDA)  # even where CUDA is there: the explicit providers win
    detector, caught = caught_warnings(
        lambda: DWposeDetector(crowd_yolox, random_pose, providers=[CPU], precision="fp16"))
    assert len(of(PrecisionFallbackWarning, caught)) == 1 and not of(ProviderFallbackWarning, caught)
    message = str(of(PrecisionFallbackWarning, caught)[0].message)
    assert "providers=['CPUExecutionProvider'] was given" in message and "providers=None" in message
    assert "exact fp32 on CPUExecutionProvider" in message
    assert detector.pose_model.session.get_providers() == [CPU]
    exact = DWposeDetector(crowd_yolox, random_pose, providers=[CPU])
    assert detector.pose_model.session is exact.pose_model.session  # the same exact session
    np.testing.assert_array_equal(detector.detect(crowd_image).exact_keypoints,
                                  exact.detect(crowd_image).exact_keypoints)


def test_fp16_without_a_gpu_says_so_and_runs_exact(fresh_cache, fake_available, crowd_yolox, random_pose,
                                                   crowd_image):
    fake_available()
    fast, caught = caught_warnings(lambda: DWposeDetector(crowd_yolox, random_pose, precision="fp16"))
    (warning,) = of(PrecisionFallbackWarning, caught)  # one for the detector, not one per model
    assert "neither the TensorRT nor the CUDA provider" in str(warning.message)
    assert not of(ProviderFallbackWarning, caught)
    exact = DWposeDetector(crowd_yolox, random_pose)
    np.testing.assert_array_equal(fast.detect(crowd_image).exact_keypoints, exact.detect(crowd_image).exact_keypoints)


def test_fp16_where_cuda_does_not_load_runs_exact_on_the_cpu(fresh_cache, fake_available, crowd_yolox, random_pose,
                                                             crowd_image):
    # onnxruntime claims CUDA here but cannot load it: the float16 copies are made, and since a float16
    # graph on the CPU would be slower than the exact one, the exact models run on the CPU instead.
    fake_available(CUDA)
    fast, caught = caught_warnings(lambda: DWposeDetector(crowd_yolox, random_pose, precision="fp16"))
    fallbacks = of(ProviderFallbackWarning, caught)
    assert fallbacks and all("CUDAExecutionProvider" in str(w.message) and "exact fp32 on the CPU" in str(w.message)
                             for w in fallbacks)
    assert not of(PrecisionFallbackWarning, caught)
    assert sorted(fresh_cache.glob("*-fp16-*.onnx")), "float16 copies are kept in the cache"
    assert fast.pose_model.session.get_providers() == [CPU]
    exact = DWposeDetector(crowd_yolox, random_pose, providers=[CPU])
    np.testing.assert_array_equal(fast.detect(crowd_image).exact_keypoints, exact.detect(crowd_image).exact_keypoints)


def test_float16_copy_keeps_float32_inputs_and_outputs_and_close_results(fresh_cache, random_pose):
    copy = graph_edits.float16_copy(random_pose, "pose")
    model = onnx.load(copy)
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert all(o.type.tensor_type.elem_type == TensorProto.FLOAT for o in model.graph.output)
    assert any(t.data_type == TensorProto.FLOAT16 for t in model.graph.initializer)
    assert graph_edits.float16_copy(random_pose, "pose") == copy  # made once
    batch = np.random.default_rng(0).standard_normal((1, 3, 384, 288)).astype(np.float32)
    half = ort.InferenceSession(str(copy), providers=[CPU]).run(None, {"input": batch})
    full = ort.InferenceSession(str(random_pose), providers=[CPU]).run(None, {"input": batch})
    for h, f in zip(half, full):
        assert h.dtype == np.float32
        np.testing.assert_allclose(h, f, atol=0.05)
        assert np.abs(f).max() > 1  # the comparison is not between near-zero outputs


def test_explicit_providers_with_bf16_run_exact_and_say_why(fresh_cache, crowd_yolox, random_pose):
    detector, caught = caught_warnings(
        lambda: DWposeDetector(crowd_yolox, random_pose, providers=[CPU], precision="bf16"))
    (warning,) = of(PrecisionFallbackWarning, caught)
    assert "OpenVINO" in str(warning.message) and "providers=None" in str(warning.message)
    assert isinstance(detector.detector.session, ort.InferenceSession)


def test_bf16_without_openvino_says_how_to_get_it(fresh_cache, crowd_yolox, random_pose, monkeypatch):
    installed = providers.installed
    monkeypatch.setattr(providers, "installed", lambda name: name != "openvino" and installed(name))
    with pytest.warns(PrecisionFallbackWarning, match=r"dwpose-annotator\[openvino\]"):
        detector = DWposeDetector(crowd_yolox, random_pose, precision="bf16")
    assert isinstance(detector.detector.session, ort.InferenceSession)


@pytest.mark.requires_openvino
def test_bf16_on_this_cpu(fresh_cache, crowd_yolox, marker_pose, crowd_image):
    """Where the CPU has bf16 (AMX / AVX512-BF16), OpenVINO runs both models; elsewhere a warning."""
    exact_detector = DWposeDetector(crowd_yolox, marker_pose)
    exact = exact_detector.detect(crowd_image)
    if not cpu_supports_bf16():
        with pytest.warns(PrecisionFallbackWarning, match="no bf16 instructions"):
            DWposeDetector(crowd_yolox, marker_pose, precision="bf16")
        return
    fast_detector = DWposeDetector(crowd_yolox, marker_pose, precision="bf16")
    assert isinstance(fast_detector.detector.session, OpenVINOSession)
    assert isinstance(fast_detector.pose_model.session, OpenVINOSession)
    fast = fast_detector.detect(crowd_image)
    assert len(fast) == len(exact) == 6
    np.testing.assert_allclose(fast.boxes, exact.boxes, atol=2.0)
    # Same boxes in, same crops: the marker model's keypoints move by at most a pixel or so.
    keypoints, _ = fast_detector.pose_model(crowd_image, exact.boxes.astype(np.float64))
    reference, _ = exact_detector.pose_model(crowd_image, exact.boxes.astype(np.float64))
    assert (np.abs(keypoints - reference).max(axis=-1) <= 1.0).mean() > 0.9


# Warnings point at the caller's line ---------------------------------------------------------------


def test_warnings_point_at_the_line_that_made_the_detector(fresh_cache, fake_available, crowd_yolox, random_pose):
    fake_available()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line_after()
        DWposeDetector(crowd_yolox, random_pose, precision="fp16")
        DWposeDetector(crowd_yolox, random_pose, providers=["CoreMLExecutionProvider", CPU])
    precision_warning = of(PrecisionFallbackWarning, caught)
    provider_warnings = of(ProviderFallbackWarning, caught)
    assert precision_warning and provider_warnings
    for warning in precision_warning:
        assert (Path(warning.filename), warning.lineno) == (Path(__file__), line)
    for warning in provider_warnings:
        assert (Path(warning.filename), warning.lineno) == (Path(__file__), line + 1)
        assert "this onnxruntime build" in str(warning.message) and "CoreMLExecutionProvider" in str(warning.message)
    assert not [w for w in caught if "onnxruntime" in w.filename], "onnxruntime's own warning is not raised"


def _line_after() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno + 1


# Threads -------------------------------------------------------------------------------------------


def test_detectors_used_from_several_threads_give_the_same_poses(crowd_yolox, random_pose, crowd_image):
    from concurrent.futures import ThreadPoolExecutor

    detector = DWposeDetector(crowd_yolox, random_pose)
    images = [crowd_image, crowd_image[:, ::-1], crowd_image[::2, ::2]]
    expected = [detector.detect(image).exact_keypoints for image in images]
    with ThreadPoolExecutor(max_workers=3) as pool:
        for _ in range(2):
            found = list(pool.map(lambda image: detector.detect(image).exact_keypoints, images))
            for keypoints, reference in zip(found, expected):
                np.testing.assert_array_equal(keypoints, reference)


def test_everything_runs_where_onnx_does_not_import(tmp_path, crowd_yolox, random_pose, crowd_image):
    """A web UI that pins protobuf 3.20.0 leaves onnx broken: the models still run, one person at a time,
    and fp16 on CUDA says what it needs."""
    import subprocess
    import sys

    site = tmp_path / "site"
    (site / "onnx").mkdir(parents=True)
    (site / "onnx" / "__init__.py").write_text("raise ImportError(\"cannot import name 'runtime_version'\")\n")
    np.save(tmp_path / "crowd.npy", crowd_image)
    code = f"""
import json, warnings, numpy as np, onnxruntime as ort
from annotator.dwpose import DWposeDetector, PrecisionFallbackWarning
image = np.load({str(tmp_path / "crowd.npy")!r})
detector = DWposeDetector({str(crowd_yolox)!r}, {str(random_pose)!r})
assert not detector.pose_model.batched and len(detector.detect(image)) == 6
ort.get_available_providers = lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    DWposeDetector({str(crowd_yolox)!r}, {str(random_pose)!r}, precision="fp16", providers=["CUDAExecutionProvider"])
print(json.dumps([str(w.message) for w in caught if w.category is PrecisionFallbackWarning]))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parent.parent)]),
           "DWPOSE_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    (message,) = json.loads(done.stdout.strip().splitlines()[-1])
    assert "needs the onnx package" in message
