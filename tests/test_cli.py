"""The command line, in-process and as `python -m annotator.dwpose`."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from annotator.dwpose.__main__ import main

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
