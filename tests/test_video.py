"""Video: DWposeDetector.track (identities, the detector schedule, empty frames, who is kept, smoothing),
PyAV in and out, and `python -m annotator.dwpose video`. Clips are made here from synthetic frames and
stand-in models whose truth is known: a detector stand-in with fixed boxes and the marker pose model,
whose keypoints are the brightest column and row of each crop."""

import json

import numpy as np
import pytest

import stand_in_models as sim
from annotator.dwpose import DWposeDetector
from annotator.dwpose.video.smoothing import OneEuroFilter
from conftest import CROWD_BOXES_416

av = pytest.importorskip("av")
pytestmark = pytest.mark.requires_video

SIZE = 416  # frames of 416 x 416: the stand-in detector's input size, letterbox ratio 1, boxes in pixels


class Counting:
    """A session that counts its runs (the detector schedule)."""

    def __init__(self, session):
        self.session, self.runs = session, 0

    def __getattr__(self, name):
        return getattr(self.session, name)

    def run(self, *args, **kwargs):
        self.runs += 1
        return self.session.run(*args, **kwargs)


def marker_frame(x, y, size=SIZE, side=6):
    frame = np.zeros((size, size, 3), dtype=np.uint8)
    frame[int(y):int(y) + side, int(x):int(x) + side] = 255
    return frame


@pytest.fixture(scope="module")
def one_box(model_dir):
    return sim.save(sim.yolox_people_model([(80, 60, 340, 380)]), model_dir / "yolox_one_box.onnx")


@pytest.fixture
def crowd(crowd_yolox, marker_pose):
    return DWposeDetector(crowd_yolox, marker_pose)


def crowd_clip(count=12):
    rng = np.random.default_rng(3)
    return [rng.integers(0, 80, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(count)]


def test_track_yields_lazily_and_keeps_identities(crowd):
    frames = crowd_clip(12)
    results = crowd.track(iter(frames), det_every=4, detect_resolution=None, image_resolution=256)
    first = next(results)  # a generator: one frame at a time
    assert first.index == 0 and first.time == 0.0 and len(first.poses) == 6
    rest = list(results)
    assert [r.index for r in rest] == list(range(1, 12))
    for result in [first, *rest]:
        assert sorted(result.poses.track_ids.tolist()) == [0, 1, 2, 3, 4, 5]  # the same six people
        assert result.pose_map.shape == (256, 256, 3)
        ids = result.poses.to_openpose_json()["people"]
        assert [p["track_id"] for p in ids] == result.poses.track_ids.tolist()


def test_detector_runs_every_k_frames_and_its_frames_equal_detect(crowd):
    crowd.detector.session = Counting(crowd.detector.session)
    # Black frames: each crop's marker is its own top-left corner, so no two people's keypoints coincide
    # (which would re-run the detector at once).
    frames = [np.zeros((SIZE, SIZE, 3), np.uint8)] * 10
    results = list(crowd.track(frames, det_every=4, detect_resolution=None))
    assert crowd.detector.session.runs == 3  # frames 0, 4, 8
    for result in results[::4]:
        expected = crowd.detect(frames[result.index])
        np.testing.assert_array_equal(result.poses.exact_keypoints, expected.exact_keypoints)
        np.testing.assert_array_equal(result.poses.scores, expected.scores)


def test_frames_with_nobody_give_empty_poses_and_black_maps(empty_yolox, marker_pose):
    detector = DWposeDetector(empty_yolox, marker_pose)
    results = list(detector.track([marker_frame(100, 100)] * 3, image_resolution=128))
    assert all(len(r.poses) == 0 and not r.pose_map.any() for r in results)
    fallback = list(detector.track([marker_frame(100, 100)], fallback_whole_image=True))
    assert len(fallback[0].poses) == 1


def test_who_is_kept(crowd):
    frames = crowd_clip(2)
    areas = {i: (x2 - x1) * (y2 - y1) for i, (x1, y1, x2, y2) in enumerate(CROWD_BOXES_416)}
    largest = list(crowd.track(frames, people="largest", detect_resolution=None))
    assert all(len(r.poses) == 1 for r in largest)
    box = largest[0].poses.boxes[0]
    assert np.prod(box[2:] - box[:2]) == pytest.approx(max(areas.values()), rel=1e-3)
    two = list(crowd.track(frames, max_people=2, detect_resolution=None))
    assert all(len(r.poses) == 2 for r in two)
    chosen = list(crowd.track(frames, people=[1, 4], detect_resolution=None))
    assert [sorted(r.poses.track_ids.tolist()) for r in chosen] == [[1, 4], [1, 4]]
    center = list(crowd.track(frames, people="center", detect_resolution=None))
    assert len(center[0].poses) == 1
    with pytest.raises(ValueError, match="people must be"):
        list(crowd.track(frames, people="tallest"))
    with pytest.raises(ValueError, match="det_every"):
        list(crowd.track(frames, det_every=0))


def mean_motion(results) -> float:
    points = np.stack([r.poses.exact_keypoints[0, 0] for r in results])
    return float(np.mean(np.linalg.norm(np.diff(points, axis=0), axis=1)))


def test_smoothing_stills_a_jittering_subject_and_follows_a_pan(one_box, marker_pose):
    detector = DWposeDetector(one_box, marker_pose)
    rng = np.random.default_rng(0)
    still = [marker_frame(200 + rng.integers(-2, 3), 200 + rng.integers(-2, 3)) for _ in range(60)]
    raw = list(detector.track(still, det_every=1, detect_resolution=None))
    smooth = list(detector.track(still, det_every=1, detect_resolution=None, smooth=True))
    assert mean_motion(raw) > 0.5
    assert mean_motion(smooth) * 3 <= mean_motion(raw)

    step = 3.0  # a steady pan: 3 px per frame at 30 fps
    pan = [marker_frame(120 + step * i, 200) for i in range(50)]
    raw = list(detector.track(pan, det_every=1, detect_resolution=None))
    smooth = list(detector.track(pan, det_every=1, detect_resolution=None, smooth=True))
    lag = [abs(s.poses.exact_keypoints[0, 0, 0] - r.poses.exact_keypoints[0, 0, 0]) for s, r in zip(smooth, raw)]
    assert np.mean(lag[10:]) <= step  # at most one frame's motion behind, once it has settled


def test_one_euro_filter_restarts_where_a_point_comes_back():
    flt = OneEuroFilter()
    assert flt(np.array([1.0, 2.0]), 0.0).tolist() == [1.0, 2.0]
    assert flt(np.array([1.0, 2.0]), 0.1).tolist() == [1.0, 2.0]  # a still point stays where it is
    moved = flt(np.array([np.nan, 4.0]), 0.2)
    assert np.isnan(moved[0]) and 2.0 < moved[1] < 4.0
    assert flt(np.array([9.0, 4.0]), 0.3)[0] == 9.0  # back after a gap: starts afresh, no lag


def write_clip(path, frames, fps=25):
    from annotator.dwpose.video import VideoWriter

    with VideoWriter(path, fps) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, i / fps)
    return path


def test_pyav_round_trip_keeps_count_rate_size_and_times(tmp_path):
    from annotator.dwpose.video import read_video, resample, video_info

    frames = [marker_frame(20 + 10 * i, 40, size=96) for i in range(15)]
    path = write_clip(tmp_path / "clip.mp4", [f[:, :95] for f in frames], fps=24)  # odd width: made even
    info = video_info(path)
    assert info["fps"] == pytest.approx(24) and info["frames"] == 15
    back = list(read_video(path))
    assert len(back) == 15 and back[0].image.shape == (96, 94, 3)
    np.testing.assert_allclose([f.time for f in back], np.arange(15) / 24, atol=1e-3)
    assert np.abs(back[3].image.astype(int) - frames[3][:, :94]).mean() < 3  # H.264 at crf 18
    assert [f.time for f in resample(iter(back), 12)] == pytest.approx(np.arange(8) / 12)
    assert len(list(read_video(path, start=0.2, end=0.4))) == 5


def test_video_command_writes_mp4_jsonl_and_frames(tmp_path, crowd_yolox, marker_pose):
    from annotator.dwpose.cli import main
    from annotator.dwpose.video import read_video

    clip = write_clip(tmp_path / "dance.mp4", crowd_clip(9))
    out = tmp_path / "out"
    assert main(["video", str(clip), "--out", str(out), "--det", str(crowd_yolox), "--pose", str(marker_pose),
                 "--det-every", "3", "--frames", "--image-resolution", "256", "--smooth"]) == 0
    lines = [json.loads(line) for line in (out / "dance.jsonl").read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(9))
    assert lines[4]["time"] == pytest.approx(4 / 25, abs=1e-3)
    assert all(len(line["people"]) == 6 and {p["track_id"] for p in line["people"]} == set(range(6))
               for line in lines)
    assert (lines[0]["canvas_width"], lines[0]["canvas_height"]) == (512, 512)
    video = list(read_video(out / "dance_pose.mp4"))
    assert len(video) == 9 and video[0].image.shape == (256, 256, 3)
    assert sorted(p.name for p in (out / "dance").iterdir()) == [f"{i:06d}.png" for i in range(9)]


def test_broken_and_truncated_videos_are_reported_and_the_work_kept(tmp_path, crowd_yolox, marker_pose, capsys):
    from annotator.dwpose.cli import main
    from annotator.dwpose.video import read_video

    # Matroska streams: a cut-off file still decodes up to the cut (a cut MP4 loses its index at the end).
    whole = write_clip(tmp_path / "whole.mkv", crowd_clip(40)).read_bytes()
    (tmp_path / "cut.mkv").write_bytes(whole[: len(whole) * 2 // 3])
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "out"
    code = main(["video", str(tmp_path / "junk.mp4"), str(tmp_path / "cut.mkv"), "--out", str(out),
                 "--det", str(crowd_yolox), "--pose", str(marker_pose)])
    err = capsys.readouterr().err
    assert code == 1 and "junk.mp4: not a readable video" in err
    done = (out / "cut.jsonl").read_text().splitlines()
    assert 5 < len(done) < 40 and all(json.loads(line)["people"] for line in done)
    assert "cut.mkv: the video ends early (truncated?)" in err and f"the last frame decoded was frame {len(done) - 1}" in err
    assert len(list(read_video(out / "cut_pose.mp4"))) == len(done)  # the mp4 was closed properly


def test_phone_videos_with_rotation_metadata_come_out_upright(tmp_path):
    """A phone records sensor-wide frames and a track matrix saying "turn 90 degrees clockwise to show"
    (tkhd matrix [0, 1, 0; -1, 0, 0], which FFmpeg reports as a display rotation of -90)."""
    import struct

    from annotator.dwpose.video import read_video

    frame = np.zeros((32, 64, 3), dtype=np.uint8)
    frame[:, :8] = 255  # a white stripe on the sensor's left edge
    path = write_clip(tmp_path / "plain.mp4", [frame] * 3)
    data = path.read_bytes()
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    turned = struct.pack(">9I", 0, 0x10000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000)
    at = data.find(identity, data.find(b"tkhd"))
    assert at > 0
    phone = tmp_path / "phone.mp4"
    phone.write_bytes(data[:at] + turned + data[at + len(identity):])
    (upright, *_) = list(read_video(phone))
    assert upright.image.shape == (64, 32, 3)  # portrait
    assert upright.image[:6].mean() > 200 and upright.image[-20:].mean() < 30  # the stripe is now on top


def test_people_entering_leaving_and_coming_back(one_box, empty_yolox, marker_pose):
    # The person detector is swapped between frames (track() is lazy): nobody, then one person, then a
    # short occlusion (the id survives), then a long absence (a new id).
    detector = DWposeDetector(one_box, marker_pose)
    somebody, nobody = detector.detector, DWposeDetector(empty_yolox, marker_pose).detector
    schedule = [nobody] * 3 + [somebody] * 4 + [nobody] * 3 + [somebody] * 3 + [nobody] * 14 + [somebody] * 2
    frames = [marker_frame(200, 200)] * len(schedule)
    ids = []
    results = detector.track(frames, det_every=1, detect_resolution=None)
    for who in schedule:
        detector.detector = who
        ids.append(next(results).poses.track_ids.tolist())
    assert ids[:3] == [[]] * 3 and ids[3:7] == [[0]] * 4 and ids[7:10] == [[]] * 3
    assert ids[10:13] == [[0]] * 3  # back after 3 frames: the same person
    assert ids[27:] == [[1]] * 2  # back after 14 frames (more than 10): a new id


def test_a_cut_to_another_size_runs_the_detector_at_once(crowd):
    crowd.detector.session = Counting(crowd.detector.session)
    frames = [np.zeros((SIZE, SIZE, 3), np.uint8)] * 3 + [np.zeros((300, 500, 3), np.uint8)] * 3  # as above
    results = list(crowd.track(frames, det_every=100, detect_resolution=None))
    assert crowd.detector.session.runs == 2  # frame 0, and frame 3 where the size changes
    assert (results[3].poses.width, results[3].poses.height) == (500, 300)


def test_call_with_track_gives_the_list_of_maps(crowd):
    frames = crowd_clip(4)
    maps = crowd(frames, track=True, detect_resolution=None, image_resolution=256)
    expected = [r.pose_map for r in crowd.track(frames, detect_resolution=None, image_resolution=256)]
    assert len(maps) == 4 and all(np.array_equal(np.asarray(m), e) for m, e in zip(maps, expected))
    with pytest.raises(TypeError, match="not a single image"):
        next(crowd.track(frames[0]))


# Clips of people drawn as a red head square and a green feet square: the colour marker pose model
# puts even COCO keypoints on the red one and odd ones on the green one, so a person's keypoints span
# it and the boxes made from them follow it. OpenPose index 0 is the nose (COCO 0, red: the head) and
# index 13 the left ankle (COCO 15, green: the feet).
NOSE, LEFT_ANKLE = 0, 13


def draw_person(frame, head, feet, brightness=255, side=6):
    for (x, y), channel in ((head, 0), (feet, 1)):
        frame[int(y):int(y) + side, int(x):int(x) + side, channel] = brightness
    return frame


@pytest.fixture(scope="module")
def colour_marker_pose(model_dir):
    return sim.save(sim.simcc_colour_marker_model(batch="batch"), model_dir / "colour_marker.onnx")


def detector_finding(boxes, model_dir, name):
    """The person detector (a DWposeDetector's `detector`) of a stand-in that finds `boxes` in any image."""
    from annotator.dwpose.models import load_person_detector
    from annotator.dwpose.runtime import Runtime

    boxes = np.array(boxes, dtype=np.float64).reshape(len(boxes), -1)  # x1 y1 x2 y2 [score]
    scores = boxes[:, 4] if boxes.shape[1] > 4 else 0.9
    path = sim.save(sim.yolox_people_model(boxes[:, :4], score=scores), model_dir / f"{name}.onnx")
    return load_person_detector(path, Runtime())


def run_clip(detector, frames, detectors_by_frame, **track_options):
    """track() over `frames`, the person detector swapped to detectors_by_frame[i] before frame i."""
    results, out = detector.track(frames, detect_resolution=None, **track_options), []
    for i in range(len(frames)):
        if i in detectors_by_frame:
            detector.detector = detectors_by_frame[i]
        out.append(next(results))
    return out


def test_a_zoom_is_followed_between_detector_runs(model_dir, colour_marker_pose):
    # A person growing 5 % a frame, from 80 to 330 px, the detector run every 10 frames only: in
    # between, the boxes made from the keypoints must grow with it (a box kept from the last detector
    # run loses the head and the feet within 10 frames).
    heights = 80 * 1.05 ** np.arange(30)
    people = [((208 - 0.15 * s, 208 - 0.45 * s), (208 + 0.15 * s, 208 + 0.45 * s)) for s in heights]
    frames = [draw_person(np.zeros((SIZE, SIZE, 3), np.uint8), head, feet) for head, feet in people]
    boxes = {i: detector_finding([(208 - 0.25 * s, 208 - 0.5 * s, 208 + 0.25 * s, 208 + 0.5 * s)], model_dir,
                                 f"zoom_{i}") for i, s in enumerate(heights) if i % 10 == 0}
    detector = DWposeDetector(model_dir / "zoom_0.onnx", colour_marker_pose)
    results = run_clip(detector, frames, boxes, det_every=10)
    for result, (head, feet) in zip(results, people):
        assert result.poses.track_ids.tolist() == [0]
        points = result.poses.exact_keypoints[0]
        np.testing.assert_allclose(points[NOSE], head, atol=3)
        np.testing.assert_allclose(points[LEFT_ANKLE], feet, atol=3)


@pytest.mark.parametrize("det_every", [1, 4])
def test_two_people_crossing_keep_their_ids(model_dir, colour_marker_pose, det_every):
    # A walks right in front, B walks left behind (dimmer, lower in the frame); their boxes overlap by
    # up to 0.56 IoU where they cross, so the detector's NMS hides B for a few frames (as a real one
    # would), and B's crop also holds A's feet. The detector lists the people left to right, so its
    # order swaps at the crossing: ids must follow the people, not it, and B must come back as B.
    frames, truth, boxes = [], [], {}
    for i in range(33):
        xa, xb = 80 + 8 * i, 336 - 8 * i
        a, b = ((xa - 10, 90), (xa + 10, 270)), ((xb - 10, 146), (xb + 10, 326))
        frame = draw_person(np.zeros((SIZE, SIZE, 3), np.uint8), *b, brightness=180)
        frames.append(draw_person(frame, *a))
        truth.append((a, b))
        if True:  # a detector run off schedule (a re-detection) must find this frame's people too
            people = sorted([(xa - 40, 80, xa + 40, 280, 0.95), (xb - 40, 136, xb + 40, 336, 0.85)])  # A: surer
            boxes[i] = detector_finding(people, model_dir, f"cross_{i}")
    detector = DWposeDetector(model_dir / "cross_0.onnx", colour_marker_pose)
    results = run_clip(detector, frames, boxes, det_every=det_every)
    ids, hidden = {"a": set(), "b": set()}, []
    for i, (result, (a, b)) in enumerate(zip(results, truth)):
        if len(result.poses) == 1:
            hidden.append(i)
        for n, track_id in enumerate(result.poses.track_ids.tolist()):
            nose = result.poses.exact_keypoints[n, NOSE]
            who = "a" if np.linalg.norm(nose - a[0]) < np.linalg.norm(nose - b[0]) else "b"
            np.testing.assert_allclose(nose, (a if who == "a" else b)[0], atol=3)
            ids[who].add(track_id)
    assert len(ids["a"]) == len(ids["b"]) == 1 and ids["a"] != ids["b"]  # one id each, all along
    assert 0 < len(hidden) <= 8 and 13 <= min(hidden) and max(hidden) <= 19  # only around the crossing


@pytest.mark.parametrize("method", ["mimicmotion", "limbs"])
def test_video_command_aligns_to_a_reference_image(tmp_path, crowd_yolox, marker_pose, method):
    # The crowd stand-in finds six people in any image: --people largest keeps one per frame (MimicMotion's
    # fit uses frames with exactly one person), and the reference's largest person is the one aligned to.
    from PIL import Image

    from annotator.dwpose import Poses, align_poses
    from annotator.dwpose.cli import main
    from annotator.dwpose.video import read_video

    clip = write_clip(tmp_path / "dance.mp4", crowd_clip(6))
    reference = np.random.default_rng(4).integers(0, 255, (768, 512, 3), dtype=np.uint8)
    Image.fromarray(reference).save(tmp_path / "ref.png")
    out = tmp_path / "out"
    options = ["--det", str(crowd_yolox), "--pose", str(marker_pose), "--people", "largest"]
    assert main(["video", str(clip), "--out", str(out), *options, "--align-to", str(tmp_path / "ref.png"),
                 "--align-method", method]) == 0
    lines = [json.loads(line) for line in (out / "dance.jsonl").read_text().splitlines()]
    assert len(lines) == 6 and all(len(line["people"]) == 1 for line in lines)
    assert (lines[0]["canvas_width"], lines[0]["canvas_height"]) == (512, 768)  # the reference's canvas
    video = list(read_video(out / "dance_pose.mp4"))
    assert len(video) == 6 and video[0].image.shape == (768, 512, 3)  # its shape at --image-resolution 512

    # The same as aligning the tracked poses in Python.
    detector = DWposeDetector(crowd_yolox, marker_pose)
    driving = [r.poses for r in detector.track(read_video(clip), people="largest")]
    aligned = align_poses(driving, detector.detect(reference), method)
    first = lines[0]["people"][0]["pose_keypoints_2d"]
    np.testing.assert_allclose(np.reshape(first, (-1, 3))[:, :2],
                               np.asarray(Poses.to_openpose_json(aligned[0])["people"][0]["pose_keypoints_2d"]).reshape(-1, 3)[:, :2])
