"""bench/wan_animate.py end to end on tiny stand-ins (no timing thresholds): the marker YOLOv10 export finds the
synthetic photo's red figure, the marker heatmap model its bright squares; two frames per pipeline, each pipeline
in its own process, and the report names every pipeline with a positive frame rate."""

import re

import pytest
import stand_in_heatmap as sh
import stand_in_models as sim
import stand_in_yolo as siy

wan_bench = pytest.importorskip("bench.wan_animate")


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wan_bench_models")
    det = sim.save(siy.marker_end_to_end_model(), folder / "yolov10_marker.onnx")
    pose = sim.save(sh.heatmap_marker_model(), folder / "vitpose_marker.onnx")
    return str(det), str(pose)


def test_worker_runs_each_pipeline_in_process(tiny_pair):
    base = {"det": tiny_pair[0], "pose": tiny_pair[1], "frames": 2, "warmup": 1, "photo": None, "reference": None,
            "area": [256, 192]}
    official = wan_bench.worker({**base, "pipeline": "official"})
    assert official["det_runs"] == 2 and official["pose_runs"] == 2 and official["pose_frames"] == 2
    assert official["people"] == 1 and official["extra"] > 0 and official["total"] > 0
    ours = wan_bench.worker({**base, "pipeline": "ours"})
    assert ours["det_runs"] == 1 and ours["pose_runs"] == 2 and ours["people"] == 1  # frame 1 tracked


def test_report_has_every_pipeline_with_positive_fps(tiny_pair, tmp_path):
    out = tmp_path / "WAN_ANIMATE_RESULTS.md"
    assert wan_bench.main(["--det", tiny_pair[0], "--pose", tiny_pair[1], "--frames", "2", "--warmup", "1",
                           "--photo", "none", "--reference", "none", "--area", "256", "192",
                           "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    text = out.read_text()
    for title in wan_bench.PIPELINES.values():
        row = next(line for line in text.splitlines() if line.startswith(f"| {title} |"))
        fps = float(row.split("|")[2])
        assert fps > 0
    assert re.search(r"ours / official: [0-9.]+x", text)


def test_wan_stand_ins_have_the_published_size():
    """Counted on the meta device (no weights): YOLOv10m 15.4 M parameters and 59.1 GFLOPs (29.55 G
    multiply-accumulates), ViTPose-H 632 M parameters, each within 2 %; the older stand-ins' source hash leaves
    the Wan block out."""
    import hashlib
    from pathlib import Path

    models = pytest.importorskip("bench.models")
    yolo, vitpose = (models.wan_complexity(spec) for spec in models.WAN_MODELS)
    assert yolo["params_m"] == pytest.approx(15.4, rel=0.02) and yolo["macs_no_bn_g"] == pytest.approx(29.55, rel=0.02)
    assert vitpose["params_m"] == pytest.approx(632, rel=0.02)
    source = Path(models.__file__).read_bytes()
    without = models.source_without_wan_block(source)
    assert b"class YOLOv10(" not in without and b"def build_all(" in without and b"\n\n\ndef main(" in without
    assert models.SOURCE_SHA256 == hashlib.sha256(without).hexdigest() != models.WAN_SOURCE_SHA256
