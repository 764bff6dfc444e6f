"""The command line, in-process and as `python -m annotator.dwpose`."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import stand_in_models as sim
from annotator.dwpose import DWposeDetector
from annotator.dwpose.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.new("RGB", (300, 200), (30, 60, 90)).save(folder / "a.jpg")
    Image.new("RGBA", (120, 160), (200, 10, 10, 128)).save(folder / "b.png")
    (folder / "notes.txt").write_text("not an image")  # skipped by the folder scan
    return folder


def test_folder_writes_png_json_npz(images, tmp_path, empty_yolox, marker_pose):
    out = tmp_path / "out"
    code = main([str(images), "--out", str(out), "--det", str(empty_yolox), "--pose", str(marker_pose),
                 "--json", "--npz", "--detect-resolution", "256", "--image-resolution", "384"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "a.npz", "a_pose.png", "b.json", "b.npz",
                                                     "b_pose.png"]
    assert Image.open(out / "a_pose.png").size == (576, 384)  # 300x200 -> shorter side 384
    data = json.loads((out / "a.json").read_text())
    assert (data["canvas_width"], data["canvas_height"]) == (384, 256) and len(data["people"]) == 1
    person = np.load(out / "b.npz", allow_pickle=True)["person_0"].item()
    assert person["body"].shape == (18, 2)


def test_unreadable_file_is_reported_and_others_processed(images, tmp_path, empty_yolox, marker_pose, capsys):
    broken = images / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    out = tmp_path / "out"
    code = main([str(broken), str(images / "a.jpg"), str(images / "missing.png"), "--out", str(out),
                 "--det", str(empty_yolox), "--pose", str(marker_pose)])
    assert code == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "missing.png" in err
    assert (out / "a_pose.png").exists() and not (out / "broken_pose.png").exists()


def test_bad_weights_exit_with_message(images, tmp_path, marker_pose, capsys):
    code = main([str(images), "--out", str(tmp_path / "o"), "--det", str(tmp_path / "none.onnx"),
                 "--pose", str(marker_pose)])
    assert code == 2 and "none.onnx" in capsys.readouterr().err


def test_python_dash_m(images, tmp_path, empty_yolox, marker_pose):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "annotator.dwpose", str(images / "a.jpg"), "--out", str(out),
                          "--det", str(empty_yolox), "--pose", str(marker_pose), "--json", "--no-hand",
                          "--no-face", "--foot"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (out / "a_pose.png").exists() and (out / "a.json").exists()


# SimCC bins (x in 0..575, y in 0..767 for a 288x384 crop) of each part's region: the parts lie apart.
PART_REGIONS = {"body": (slice(0, 17), (40, 200), (40, 300)), "feet": (slice(17, 23), (400, 560), (600, 760)),
                "face": (slice(23, 91), (400, 560), (40, 250)), "hands": (slice(91, 133), (40, 250), (520, 760))}
OPENPOSE_PART = {"feet": slice(18, 24), "face": slice(24, 92), "hands": slice(92, 134)}


@pytest.fixture(scope="module")
def one_person(model_dir):
    """A detector that finds one person in the middle of any image, and a pose model whose 133 points
    lie in separate regions of that person's crop by part, every one with score 0.9."""
    det = sim.save(sim.yolox_people_model([(110, 60, 300, 380)]), model_dir / "yolox_one.onnx")
    bins = np.zeros((133, 2), dtype=np.int64)
    for part, (points, (x0, x1), (y0, y1)) in PART_REGIONS.items():
        k = np.arange(points.stop - points.start)
        bins[points] = np.stack([x0 + (37 * k) % (x1 - x0), y0 + (53 * k) % (y1 - y0)], axis=1)
    pose = sim.save(sim.simcc_peak_model(bins, np.full(133, 0.9, np.float32)), model_dir / "peaks_parts.onnx")
    return det, pose


def pose_map(tmp_path, models, *flags) -> np.ndarray:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    Image.new("RGB", (512, 512), (40, 40, 40)).save(folder / "p.png")
    out = tmp_path / ("out" + "".join(flags))
    det, pose = models
    assert main([str(folder / "p.png"), "--out", str(out), "--det", str(det), "--pose", str(pose), *flags]) == 0
    return np.asarray(Image.open(out / "p_pose.png"))


def test_part_switches_change_the_map_where_that_part_is(tmp_path, one_person):
    keypoints = DWposeDetector(*one_person).annotate(Image.new("RGB", (512, 512)))[1].keypoints[0]
    default = pose_map(tmp_path, one_person)
    for flag, part in (("--no-hand", "hands"), ("--no-face", "face"), ("--foot", "feet")):
        changed = np.argwhere((pose_map(tmp_path, one_person, flag) != default).any(axis=-1))[:, ::-1]  # (x, y)
        points = keypoints[OPENPOSE_PART[part]]
        assert len(changed) > 10 * len(points), flag  # each point is a dot of radius 3 or 4 at least
        # Every changed pixel lies on that part: within a dot's radius of the box around its points.
        assert (changed >= points.min(axis=0) - 5).all() and (changed <= points.max(axis=0) + 5).all(), flag


def test_detect_resolution_input_detects_at_the_image_size(tmp_path, one_person):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.new("RGB", (700, 500), (40, 40, 40)).save(folder / "p.png")
    det, pose = one_person
    out = tmp_path / "out"
    assert main([str(folder / "p.png"), "--out", str(out), "--det", str(det), "--pose", str(pose), "--json",
                 "--detect-resolution", "input", "--image-resolution", "256"]) == 0
    data = json.loads((out / "p.json").read_text())
    assert (data["canvas_width"], data["canvas_height"]) == (700, 500)  # keypoints in the image's own pixels
    assert Image.open(out / "p_pose.png").size == (384, 256)
    expected = DWposeDetector(det, pose).detect(np.asarray(Image.open(folder / "p.png")))
    assert data == expected.to_openpose_json()
    with pytest.raises(SystemExit):
        main([str(folder / "p.png"), "--out", str(out), "--detect-resolution", "big"])


def test_style_and_xinsir_sticks_reach_the_renderer(tmp_path, one_person):
    detector = DWposeDetector(*one_person)
    default = pose_map(tmp_path, one_person, "--image-resolution", "1024", "--detect-resolution", "1024")
    for flags, options in ((["--style", "sd-webui-controlnet"], {"style": "sd-webui-controlnet"}),
                           (["--xinsir-sticks"], {"scale_stick_for_xinsr_cn": True})):
        got = pose_map(tmp_path, one_person, "--image-resolution", "1024", "--detect-resolution", "1024", *flags)
        expected, _ = detector.annotate(Image.new("RGB", (512, 512), (40, 40, 40)), 1024, 1024, **options)
        assert np.array_equal(got, expected) and not np.array_equal(got, default), flags


# ------------------------------------------------------------------------------ commands and the package

def test_help_lists_the_commands_and_version(capsys):
    from annotator.dwpose import __version__

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert all(command in out for command in ("images", "video", "batch", "eval"))
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"dwpose-annotator {__version__}"


def test_an_image_named_like_a_command_is_given_after_images(tmp_path, empty_yolox, marker_pose, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (100, 80), (30, 60, 90)).save(tmp_path / "video", format="PNG")
    models = ["--det", str(empty_yolox), "--pose", str(marker_pose)]
    assert main(["images", "video", "--out", "a", *models]) == 0
    assert main(["./video", "--out", "b", *models]) == 0
    assert (tmp_path / "a" / "video_pose.png").read_bytes() == (tmp_path / "b" / "video_pose.png").read_bytes()


def test_the_module_is_loaded_once_under_python_dash_m(tmp_path, empty_yolox, marker_pose):
    """No module imports __main__, so `python -m annotator.dwpose batch` does not load it a second time."""
    code = ("import runpy, sys; sys.argv = ['x', 'batch', '--help']\n"
            "try:\n    runpy.run_module('annotator.dwpose', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(sorted(name for name in sys.modules if name.endswith('__main__')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['__main__']"


@pytest.mark.parametrize("command, module, extra", [
    (["batch", "IN", "--table", "OUT/t.parquet"], "pyarrow", "table"),
    (["batch", "IN", "--ray"], "ray", "ray"),
    (["video", "IN/clip.mp4"], "av", "video"),
])
def test_a_missing_optional_package_is_one_error_before_any_work(tmp_path, monkeypatch, capsys, crowd_yolox,
                                                                  marker_pose, command, module, extra):
    (tmp_path / "in").mkdir()
    Image.new("RGB", (64, 48)).save(tmp_path / "in" / "a.png")
    (tmp_path / "in" / "clip.mp4").write_bytes(b"")
    monkeypatch.setitem(sys.modules, module, None)  # import it now raises ImportError
    argv = [arg.replace("IN", str(tmp_path / "in")).replace("OUT", str(tmp_path / "out")) for arg in command]
    code = main([*argv, "--out", str(tmp_path / "out"), "--det", str(crowd_yolox), "--pose", str(marker_pose)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and f'dwpose-annotator[{extra}]' in err, err
    assert not (tmp_path / "out").exists()  # nothing was started
