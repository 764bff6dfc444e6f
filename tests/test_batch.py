"""`batch`: inputs, output names, failures, resuming after a kill, worker processes, the Parquet table."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from annotator.dwpose.batch import Item, collect_items
from annotator.dwpose.cli import main as cli_main

pq = pytest.importorskip("pyarrow.parquet")


def main(argv: list) -> int:
    """`python -m annotator.dwpose batch ...`"""
    return cli_main(["batch", *argv])

REPO = Path(__file__).resolve().parent.parent


def photo(path: Path, seed: int, size=(160, 120)) -> Path:
    """A small textured RGB image (the stand-in pose model sees real pixel values)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def inputs(tmp_path):
    """in/a.png, in/sub/a.png (same name), in/b.jpg, a truncated in/cut.jpg, text in in/fake.png and
    in/notes.txt (skipped by the folder scan)."""
    folder = tmp_path / "in"
    photo(folder / "a.png", 1)
    photo(folder / "sub" / "a.png", 2)
    photo(folder / "b.jpg", 3)
    whole = photo(tmp_path / "whole.jpg", 4).read_bytes()
    (folder / "cut.jpg").write_bytes(whole[:len(whole) // 2])
    (folder / "fake.png").write_text("not an image")
    (folder / "notes.txt").write_text("not a list of images either")
    return folder


@pytest.fixture
def models(crowd_yolox, random_pose):
    return ["--det", str(crowd_yolox), "--pose", str(random_pose), "--detect-resolution", "128",
            "--image-resolution", "128"]


def files_of(folder: Path) -> dict[str, bytes]:
    """{relative path: bytes} of the outputs, leaving out the hidden bookkeeping folders."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.relative_to(folder).parts[0].startswith(".")}


def test_collect_items_folders_globs_lists_and_collisions(tmp_path, monkeypatch):
    photo(tmp_path / "x" / "a.png", 1)
    photo(tmp_path / "x" / "a.jpg", 2)
    photo(tmp_path / "x" / "deep" / "c.png", 3)
    photo(tmp_path / "y" / "c.png", 4)
    (tmp_path / "y" / "clip.mp4").write_bytes(b"")
    (tmp_path / "list.txt").write_text("# a comment\n\ny/c.png\nx/deep/c.png\n")
    monkeypatch.chdir(tmp_path)
    names = {item.source.relative_to(tmp_path).as_posix(): item.name
             for item in collect_items(["x", "y/*.mp4", "list.txt", "x/a.png"])}
    # a.jpg and a.png collide without their suffix; the list's entries are relative to its folder
    assert names == {"x/a.jpg": "a.jpg", "x/a.png": "a.png", "x/deep/c.png": "deep/c", "y/c.png": "y/c",
                     "y/clip.mp4": "clip"}
    twice = collect_items([str(tmp_path / "x" / "deep"), str(tmp_path / "y")])
    assert [item.name for item in twice] == ["c.png", "c.png~2", "clip"]
    assert Item(tmp_path / "y" / "clip.MP4", "clip").is_video


def test_outputs_failures_and_table(inputs, tmp_path, models, capsys):
    out = tmp_path / "out"
    listed = tmp_path / "more.txt"
    listed.write_text("in/b.jpg\nin/missing.png\n")
    code = main([str(inputs), str(listed), "--out", str(out), "--json", "--npz",
                 "--table", str(out / "poses.parquet"), *models])
    assert code == 1
    assert "done 3, skipped 0 (done before), failed 3" in capsys.readouterr().err
    assert sorted(files_of(out)) == ["a.json", "a.npz", "a_pose.png", "b.json", "b.npz", "b_pose.png",
                                     "failed.jsonl", "poses.parquet", "sub/a.json", "sub/a.npz", "sub/a_pose.png"]
    failed = [json.loads(line) for line in (out / "failed.jsonl").read_text().splitlines()]
    assert [Path(f["path"]).name for f in failed] == ["cut.jpg", "fake.png", "missing.png"]
    assert "truncated" in failed[0]["error"] and "cannot identify" in failed[1]["error"]
    assert "No such file" in failed[2]["error"]

    table = pq.read_table(out / "poses.parquet").to_pylist()
    assert [Path(row["path"]).relative_to(inputs).as_posix() for row in table] == ["a.png", "b.jpg", "sub/a.png"]
    row = table[0]
    assert (row["frame"], row["time"], row["width"], row["height"], row["track_ids"]) == (None, None, 160, 120, None)
    assert np.array(row["keypoints"]).shape == (6, 134, 2) and np.array(row["scores"]).shape == (6, 134)
    assert np.array(row["boxes"]).shape == (6, 4) and len(row["box_scores"]) == 6
    people = json.loads((out / "a.json").read_text())["people"]
    assert len(people) == 6


def test_rerun_skips_done_and_redoes_partial(inputs, tmp_path, models, capsys):
    out = tmp_path / "out"
    args = [str(inputs / "a.png"), str(inputs / "b.jpg"), "--out", str(out), "--table", str(out / "t.parquet"),
            *models]
    assert main(args) == 0
    first = files_of(out)
    (out / "b_pose.png").unlink()  # as if killed between two renames
    (out / ".partial" / "junk").mkdir()
    capsys.readouterr()
    assert main(args) == 0
    assert "done 1, skipped 1" in capsys.readouterr().err
    assert files_of(out) == first and not any((out / ".partial").iterdir())


def test_killed_run_resumes_to_the_same_outputs(tmp_path, models):
    """SIGKILL after a few items, rerun: the files and the table equal those of an uninterrupted run."""
    for n in range(16):
        photo(tmp_path / "in" / f"{n // 8}" / f"p{n:02d}.png", n, size=(320, 240))
    command = [sys.executable, "-m", "annotator.dwpose", "batch", str(tmp_path / "in"), "--json", *models]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def batch(out: Path, **kwargs):
        return subprocess.Popen([*command, "--out", str(out), "--table", str(out / "t.parquet")], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)

    whole = tmp_path / "whole"
    assert batch(whole).wait(120) == 0

    killed = tmp_path / "killed"
    process = batch(killed)
    deadline = time.monotonic() + 60
    while len(list(killed.glob("*/*_pose.png"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    assert process.wait(10) == -signal.SIGKILL
    assert len(list(killed.glob("*/*_pose.png"))) < 16 and not (killed / "t.parquet").exists()

    assert batch(killed).wait(120) == 0
    assert files_of(killed) == files_of(whole)
    assert pq.read_table(killed / "t.parquet").equals(pq.read_table(whole / "t.parquet"))


def test_workers_give_the_single_process_outputs(inputs, tmp_path, models):
    one, two = tmp_path / "one", tmp_path / "two"
    for out, workers in ((one, "1"), (two, "2")):
        assert main([str(inputs), "--out", str(out), "--table", str(out / "t.parquet"), "--workers", workers,
                     *models]) == 1  # cut.jpg, fake.png
    assert files_of(one) == files_of(two)


def test_bad_weights_stop_with_status_2(inputs, tmp_path, random_pose, capsys):
    for workers in ("1", "2"):
        code = main([str(inputs), "--out", str(tmp_path / "o"), "--det", str(tmp_path / "none.onnx"),
                     "--pose", str(random_pose), "--workers", workers])
        assert code == 2 and "none.onnx" in capsys.readouterr().err


@pytest.mark.requires_video
def test_video_item_rows_per_frame(tmp_path, models, crowd_image):
    from annotator.dwpose.video import VideoWriter

    clip = tmp_path / "in" / "clip.mp4"
    clip.parent.mkdir()
    with VideoWriter(clip, 10) as writer:
        for k in range(5):
            writer.write(np.roll(crowd_image, 4 * k, axis=1)[::4, ::4], k / 10)
    (tmp_path / "in" / "broken.mp4").write_bytes(b"\x00" * 100)
    out = tmp_path / "out"
    code = main([str(tmp_path / "in"), "--out", str(out), "--table", str(out / "t.parquet"), *models])
    assert code == 1
    assert sorted(files_of(out)) == ["clip.jsonl", "clip_pose.mp4", "failed.jsonl", "t.parquet"]
    rows = pq.read_table(out / "t.parquet").to_pylist()
    assert [row["frame"] for row in rows] == [0, 1, 2, 3, 4]
    assert [row["time"] for row in rows] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    assert all(row["track_ids"] is not None and (row["width"], row["height"]) == (208, 156) for row in rows)
    assert len((out / "clip.jsonl").read_text().splitlines()) == 5
    first = files_of(out)
    assert main([str(tmp_path / "in"), "--out", str(out), "--table", str(out / "t.parquet"), *models]) == 1
    assert files_of(out) == first
