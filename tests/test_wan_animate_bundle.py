"""Wan 2.2 Animate's inputs (video/wan_animate.py, the `wan-animate` command) on a clip of the synthetic crowd with
frames where nobody is, against the official steps (wan_preprocess.py, each checked in test_wan_preprocess.py;
the "wan-animate" style, checked in test_vace_wan_styles.py) applied to the same frames and poses."""

import json

import numpy as np
import pytest
from PIL import Image

from annotator.dwpose import DWposeDetector, draw_poses
from annotator.dwpose.cli import main
from annotator.dwpose.wan_pose import wan_poses
from annotator.dwpose.wan_preprocess import area_size, face_box, face_crop, padding_resize, sampled_frame_indices

av = pytest.importorskip("av")


@pytest.fixture(scope="module")
def clip(tmp_path_factory, crowd_image):
    """12 frames at 10 fps of the crowd panning (the stand-in detector finds its six people in any frame)."""
    from annotator.dwpose import VideoWriter

    path = tmp_path_factory.mktemp("wan") / "drive.mp4"
    with VideoWriter(path, 10) as writer:
        for i in range(12):
            frame = np.roll(crowd_image, 6 * i, axis=1)
            writer.write(frame, i / 10)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "character.png"
    Image.fromarray(np.full((400, 300, 3), 90, np.uint8)).save(path)
    return path


def decoded(path):
    from annotator.dwpose import read_video

    return [frame.image for frame in read_video(path)]


@pytest.mark.parametrize("people", [None, "largest"])
def test_inputs_are_the_official_steps_on_every_tracked_person(crowd_yolox, marker_pose, clip, reference, people):
    from annotator.dwpose.video.wan_animate import wan_animate_inputs

    detector = DWposeDetector(crowd_yolox, marker_pose)
    inputs = wan_animate_inputs(detector, clip, reference, fps=5, people=people, det_every=1)  # as the official
    frames = [decoded(clip)[i] for i in sampled_frame_indices(12, 10.0, 5)]
    assert len(inputs.pose_frames) == len(frames) == 6 and inputs.fps == 5
    ref_w, ref_h = area_size(300, 400, 1280 * 720, 16)
    assert inputs.reference.shape == (ref_h, ref_w, 3)
    for frame, pose_frame, poses in zip(frames, inputs.pose_frames, inputs.poses):
        expected = padding_resize(draw_poses(poses, style="wan-animate"), ref_h, ref_w)
        np.testing.assert_array_equal(pose_frame, expected)
        assert (poses.width, poses.height) == (frame.shape[1], frame.shape[0])  # pixels of the video frame
    assert all(len(poses) == (1 if people == "largest" else 6) for poses in inputs.poses)
    assert all(frame.any() for frame in inputs.pose_frames)
    assert len(inputs.face_frames) == len(inputs.poses[0])
    for track_id, faces in inputs.face_frames.items():
        assert len(faces) == 6
        for number, (frame, poses) in enumerate(zip(frames, inputs.poses)):
            ids = [] if poses.track_ids is None else list(poses.track_ids)
            if track_id in ids:
                n = ids.index(track_id)
                crop = face_crop(frame, face_box(wan_poses(poses)[n].face[:, :2], frame.shape[1], frame.shape[0]))
                if crop is not None:
                    np.testing.assert_array_equal(faces[number], crop)
            else:  # held: the person's last face
                np.testing.assert_array_equal(faces[number], faces[number - 1])
    pil = inputs.as_pil()
    assert len(pil["pose_video"]) == len(pil["face_video"]) == 6 and pil["face_video"][0].size == (512, 512)
    assert pil["image"].size == (ref_w, ref_h)


def test_nobody_found_gives_black_frames_and_no_crash(empty_yolox, marker_pose, clip, reference):
    """Where the official cv2.resize of an empty face box raises, frames with nobody give a black pose frame and
    no face video (as_pil: black faces)."""
    from annotator.dwpose.video.wan_animate import wan_animate_inputs

    inputs = wan_animate_inputs(DWposeDetector(empty_yolox, marker_pose), clip, reference, fps=-1, people=None)
    assert len(inputs.pose_frames) == 12 and inputs.fps == 10
    assert not any(frame.any() for frame in inputs.pose_frames) and inputs.face_frames == {}
    faces = inputs.as_pil()["face_video"]
    assert len(faces) == 12 and not np.asarray(faces[0]).any()


def test_command_writes_the_files(crowd_yolox, marker_pose, clip, reference, tmp_path):
    out = tmp_path / "out"
    code = main(["wan-animate", str(clip), "--ref", str(reference), "--out", str(out), "--det", str(crowd_yolox),
                 "--pose", str(marker_pose), "--fps", "5", "--people", "all", "--frames"])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"src_pose.mp4", "src_face.mp4", "src_ref.png", "poses.jsonl", "src_pose", "src_face"} <= names
    assert len([n for n in names if n.startswith("src_face_") and n.endswith(".mp4")]) == 5  # the other people
    assert (out / "src_ref.png").read_bytes() == reference.read_bytes()  # copied, as the official does
    lines = [json.loads(line) for line in (out / "poses.jsonl").read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(6)) and len(lines[0]["people"]) == 6
    pngs = sorted((out / "src_pose").iterdir())
    assert len(pngs) == 6 and Image.open(pngs[0]).size == area_size(300, 400, 1280 * 720, 16)
    with av.open(str(out / "src_pose.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6
    assert main(["wan-animate", str(clip), "--ref", str(reference), "--out", str(out), "--det", str(crowd_yolox),
                 "--pose", str(marker_pose), "--people", "some"]) == 2
