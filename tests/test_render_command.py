"""`python -m annotator.dwpose render`: maps drawn from each pose file format, equal to the library's maps of the
same poses; videos from jsonl; sizes; bad files reported while the others are drawn."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from annotator.dwpose import Poses, PoseMapOptions, draw_pose_map, draw_poses
from annotator.dwpose.cli import main
from annotator.dwpose.skeleton import NUM_OPENPOSE
from conftest import REPO


def made_up_poses(seed: int, width=320, height=240, people=2, track_ids=None) -> Poses:
    rng = np.random.default_rng(seed)
    points = rng.uniform(10, min(width, height) - 10, (people, NUM_OPENPOSE, 2))
    scores = rng.choice(np.array([0.1, 0.9], np.float32), (people, NUM_OPENPOSE), p=[0.2, 0.8])
    return Poses(points, scores, np.zeros((people, 4), np.float32), np.zeros(people, np.float32), width, height,
                 track_ids)


def png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_openpose_json_npz_coco_and_pose_keypoint_files(tmp_path):
    poses = made_up_poses(1)
    source = tmp_path / "in"
    source.mkdir()
    poses.save_openpose_json(source / "edited.json")
    poses.save_npz(source / "cog.npz")
    (source / "coco.json").write_text(json.dumps(poses.to_coco_wholebody(1)))
    (source / "saved.json").write_text(json.dumps([poses.to_pose_keypoint()]))  # comfyui_controlnet_aux's file
    (source / "notes.txt").write_text("skipped by the folder scan")
    out = tmp_path / "out"
    assert main(["render", str(source), "--out", str(out), "--size", "320x240"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["coco_pose.png", "cog_pose.png", "edited_pose.png",
                                                     "saved_pose.png"]
    expected = draw_poses(poses)
    for name in ("edited", "cog", "saved"):
        np.testing.assert_array_equal(png(out / f"{name}_pose.png"), expected, err_msg=name)
    coco = Poses.from_coco_wholebody(poses.to_coco_wholebody(1), 320, 240)  # its neck made from the shoulders
    np.testing.assert_array_equal(png(out / "coco_pose.png"), draw_poses(coco))


def test_map_options_and_size(tmp_path):
    poses = made_up_poses(2)
    poses.save_openpose_json(tmp_path / "a.json")
    out = tmp_path / "out"
    assert main(["render", str(tmp_path / "a.json"), "--out", str(out), "--size", "640x480", "--style",
                 "sd-webui-controlnet", "--no-face", "--foot", "--stick-width", "6"]) == 0
    options = PoseMapOptions(style="sd-webui-controlnet", include_face=False, include_foot=True, stick_width=6)
    read = Poses.from_openpose_json(json.loads((tmp_path / "a.json").read_text()))
    np.testing.assert_array_equal(png(out / "a_pose.png"), draw_pose_map(read, 480, 640, options))
    assert Image.open(out / "a_pose.png").size == (640, 480)


def test_jsonl_gives_a_video_and_its_frames(tmp_path):
    av = pytest.importorskip("av")
    frames = [made_up_poses(seed, track_ids=np.array([3, 8])) for seed in range(5)]
    with open(tmp_path / "clip.jsonl", "w") as f:
        for number, poses in enumerate(frames):
            f.write(json.dumps({"frame": number, "time": number / 12, **poses.to_openpose_json()}) + "\n")
    out = tmp_path / "out"
    assert main(["render", str(tmp_path / "clip.jsonl"), "--out", str(out), "--frames"]) == 0
    for number, poses in enumerate(frames):
        np.testing.assert_array_equal(png(out / "clip" / f"{number:06d}.png"), draw_poses(poses))
    with av.open(str(out / "clip_pose.mp4")) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(stream))
        assert len(decoded) == 5 and (stream.width, stream.height) == (320, 240)
        assert abs(float(stream.average_rate) - 12) < 0.01
    only_frames = tmp_path / "frames_only"
    assert main(["render", str(tmp_path / "clip.jsonl"), "--out", str(only_frames), "--frames", "--no-video"]) == 0
    assert not (only_frames / "clip_pose.mp4").exists() and len(list((only_frames / "clip").iterdir())) == 5


def test_parquet_rows(tmp_path):
    pytest.importorskip("pyarrow")
    from annotator.dwpose.formats.table import write_rows

    image_poses, frame_poses = made_up_poses(4), [made_up_poses(s, 200, 100) for s in (5, 6)]
    rows = [image_poses.to_row("/data/a.jpg")] + [p.to_row("/data/b.mp4", n, n / 25) for n, p in enumerate(frame_poses)]
    write_rows(rows, tmp_path / "poses.parquet")
    out = tmp_path / "out"
    assert main(["render", str(tmp_path / "poses.parquet"), "--out", str(out), "--frames", "--no-video"]) == 0
    np.testing.assert_array_equal(png(out / "a_pose.png"), draw_poses(image_poses))
    for number, poses in enumerate(frame_poses):
        np.testing.assert_array_equal(png(out / "b" / f"{number:06d}.png"), draw_poses(poses))


def test_bad_files_are_reported_and_the_others_drawn(tmp_path, capsys):
    made_up_poses(7).save_openpose_json(tmp_path / "good.json")
    (tmp_path / "broken.json").write_text('{"people": [{"pose_keypoints_2d": [1, 2]}], "canvas_width": 8, '
                                          '"canvas_height": 8}')
    (tmp_path / "truncated.json").write_text('{"people": [')
    made_up_poses(8).save_npz(tmp_path / "sizeless.npz")
    (tmp_path / "photo.png").write_bytes(b"not a pose file")
    out = tmp_path / "out"
    code = main(["render", *(str(tmp_path / n) for n in ("good.json", "broken.json", "truncated.json",
                                                          "sizeless.npz", "photo.png")), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and sorted(p.name for p in out.iterdir()) == ["good_pose.png"]
    assert "broken.json: people[0].pose_keypoints_2d: expected 54 or 75 values" in err
    assert "truncated.json: not a JSON file" in err
    assert "sizeless.npz: the file does not say the image size" in err and "--size WxH" in err
    assert "photo.png: not a pose file" in err
    assert "4 of 5 pose files failed" in err


def test_bad_arguments_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["render", "x.json", "--out", str(tmp_path), "--size", "640"])
    assert exit_info.value.code == 2 and "expected WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "empty_dir_does_not_exist"), "--out", str(tmp_path / "o")]) == 1


def test_python_dash_m(tmp_path):
    made_up_poses(9).save_openpose_json(tmp_path / "a.json")
    done = subprocess.run([sys.executable, "-m", "annotator.dwpose", "render", str(tmp_path / "a.json"), "--out",
                           str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "a_pose.png").is_file()


def test_coco_results_of_several_images_give_a_map_each(tmp_path):
    first, second = made_up_poses(10), made_up_poses(11, people=1)
    entries = first.to_coco_wholebody(3) + second.to_coco_wholebody(7)
    (tmp_path / "results.json").write_text(json.dumps(entries))
    out = tmp_path / "out"
    assert main(["render", str(tmp_path / "results.json"), "--out", str(out), "--size", "320x240"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["results_3_pose.png", "results_7_pose.png"]
    for image_id, poses in ((3, first), (7, second)):
        coco = Poses.from_coco_wholebody(poses.to_coco_wholebody(image_id), 320, 240)
        np.testing.assert_array_equal(png(out / f"results_{image_id}_pose.png"), draw_poses(coco))
