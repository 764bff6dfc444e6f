"""The Wan 2.2 Animate bundle in official mode (wan_animate_inputs(official=True), `wan-animate --official`)
against a transcription of the official animation mode without retargeting (Wan-Video/Wan2.2 @ 42bf4cf,
process_pipepline.py ProcessPipeline.__call__), composed of the transcriptions the other tests check against
our code step by step:

- Pose2d's detector on each frame, its largest box: test_yolo.official_detections / official_person_box;
- its ViTPose on that box: test_vitpose.official_crop (channels swapped, Wan's crop) and official_decode (DARK);
- load_pose_metas_from_kp2ds_seq (transcribed below: float32 division by W and H, split_kp2ds_for_aa, the body
  of the previous frame where all 20 body points have a negative coordinate);
- get_face_bboxes (transcribed below: the face slice kp[22:91] without its first point, x1.3, 3/4 up) and
  cv2.resize of the crop to 512 x 512;
- draw_aapose_by_meta_new on np.zeros_like(frame): test_vace_wan_styles.wan_meta / wan_draw; then
  padding_resize (wan_preprocess, checked in test_wan_preprocess) into the reference's resize_by_area size.

The stand-ins have known truth: the detector finds the extent of the red (R > 127) pixels, the heatmap model
puts keypoint k on the bright square of channel k % 3 of its (BGR) input; each frame has a dull red person
(R = 150: found by the detector, not bright to the pose model) holding a blue, a green and a red square, which
moves from frame to frame; in two frames nobody is found (the detector's only other row scores 0.04, under
Wan's 0.05): the pose model runs on the whole frame, finds nothing bright, its points all land at negative
coordinates, so those frames take the previous body (load_pose_metas_from_kp2ds_seq) and their face box is
flat (the official int() of NaN raises; the last face is held).
"""

import cv2
import numpy as np
import pytest

import stand_in_heatmap as sh
import stand_in_models as sim
import stand_in_yolo as siy
from annotator.dwpose import DWposeDetector
from annotator.dwpose.runtime import create_session
from annotator.dwpose.wan_preprocess import padding_resize, resize_by_area
from annotator.dwpose.weights import DET_KIND, POSE_KIND
from test_vace_wan_styles import wan_draw, wan_meta
from test_vitpose import official_crop, official_decode
from test_yolo import official_detections, official_person_box

WIDTH, HEIGHT = 320, 240
AREA = (256, 192)


def frame_with_person(number: int) -> np.ndarray:
    frame = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
    if number in (5, 6):  # nobody
        return frame
    x, y = 60 + 17 * number, 40 + 5 * number
    frame[y:y + 150, x:x + 70] = (150, 30, 30)
    for (dx, dy), colour in zip([(10, 20), (40, 60), (20, 110)], [(30, 30, 255), (30, 255, 30), (255, 30, 30)]):
        frame[y + dy:y + dy + 6, x + dx:x + dx + 6] = colour
    return frame


@pytest.fixture(scope="module")
def official_pair(model_dir):
    det = sim.save(siy.marker_end_to_end_model([(500, 500, 520, 540, 0.04, 0)]), model_dir / "wan_yolov10_marker.onnx")
    pose = sim.save(sh.heatmap_marker_model(), model_dir / "wan_vitpose_marker.onnx")
    return det, pose


def official_metas(det_path, pose_path, frames):
    """Pose2d(frames) -> load_pose_metas_from_kp2ds_seq, transcribed: (133, 3) float32 rows per frame, and the
    metas {width, height, keypoints_body, keypoints_left_hand, keypoints_right_hand, keypoints_face}."""
    det_session = create_session(det_path, DET_KIND)
    pose_session = create_session(pose_path, POSE_KIND)
    height, width = frames[0].shape[:2]
    metas, last_body = [], None
    for frame in frames:
        results, shape_raw = official_detections(det_session, frame)
        bbox = official_person_box(results, shape_raw)
        if bbox[-1] <= 0:  # ViTPose.preprocess: no score, the whole frame
            bbox = np.array([0, 0, frame.shape[1], frame.shape[0]])
        blob, center, scale = official_crop(frame, bbox)
        heatmaps = pose_session.run(None, {"input": blob[None]})[0]
        points, prob = official_decode(heatmaps, center[None], scale[None])
        kps = np.concatenate([points, prob[..., None]], axis=2)[0]  # (133, 3) float32
        kps[:, 0] /= width
        kps[:, 1] /= height
        a = [0, 6, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, 17, 20]
        b = [0, 5, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, 18, 21]
        body = (kps[a] + kps[b]) / 2
        if body[:, :2].min(axis=1).max() < 0 and last_body is not None:
            body = last_body
        last_body = body
        metas.append({"width": width, "height": height, "kps": kps, "keypoints_body": body,
                      "keypoints_face": kps[22:91]})
    return metas


def official_face_box(face, scale, image_shape):
    """utils.py get_face_bboxes (the second definition); None where the official raises (int of NaN)."""
    h, w = image_shape
    points = face.copy()[1:] * (w, h)
    min_x, min_y = np.min(points, axis=0)
    max_x, max_y = np.max(points, axis=0)
    initial_width, initial_height = max_x - min_x, max_y - min_y
    expanded_area = initial_width * initial_height * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        new_width = np.sqrt(expanded_area * (initial_width / initial_height))
        new_height = np.sqrt(expanded_area * (initial_height / initial_width))
    delta_width, delta_height = (new_width - initial_width) / 2, (new_height - initial_height) / 4
    box = [max(min_x - delta_width, 0), min(max_x + delta_width, w), max(min_y - 3 * delta_height, 0),
           min(max_y + delta_height, h)]
    return None if not np.isfinite(box).all() else [int(v) for v in box]


def test_official_mode_is_the_official_animation_steps(official_pair):
    from annotator.dwpose.video.wan_animate import wan_animate_inputs

    frames = [frame_with_person(n) for n in range(8)]
    reference = np.full((300, 200, 3), 70, np.uint8)
    detector = DWposeDetector(*official_pair)
    inputs = wan_animate_inputs(detector, frames, reference, fps=10, resolution_area=AREA, official=True)

    refer_img = resize_by_area(reference, AREA[0] * AREA[1], divisor=16)
    np.testing.assert_array_equal(inputs.reference, refer_img)
    metas = official_metas(*official_pair, frames)
    assert len(inputs.pose_frames) == len(inputs.face_frames[0]) == 8 and list(inputs.face_frames) == [0]
    last_face = np.zeros((512, 512, 3), np.uint8)
    replaced_bodies = []
    for number, (frame, meta) in enumerate(zip(frames, metas)):
        # the pose frame: Wan's meta drawn at the frame's size, then fitted into the reference's size
        drawn = wan_meta(meta["kps"], WIDTH, HEIGHT)  # its hands; the body is the meta's (maybe the last one)
        body = meta["keypoints_body"]
        drawn["body"] = np.concatenate([body[:, :2] * (WIDTH, HEIGHT), body[:, 2:3]], axis=1)
        if not np.array_equal(drawn["body"], wan_meta(meta["kps"], WIDTH, HEIGHT)["body"]):
            replaced_bodies.append(number)
        expected = padding_resize(wan_draw(np.zeros_like(frame), drawn), *refer_img.shape[:2])
        np.testing.assert_array_equal(inputs.pose_frames[number], expected, err_msg=f"pose frame {number}")
        # the face frame: the official crop, or (where it raises) the last face held
        box = official_face_box(meta["keypoints_face"][:, :2], 1.3, frame.shape[:2])
        if box is not None and box[1] > box[0] and box[3] > box[2]:
            x1, x2, y1, y2 = box
            last_face = cv2.resize(frame[y1:y2, x1:x2], (512, 512))
        np.testing.assert_array_equal(inputs.face_frames[0][number], last_face, err_msg=f"face frame {number}")
    assert inputs.pose_frames[0].any() and inputs.face_frames[0][0].any()
    # the poses as Poses (one person, track id 0), in pixels of the frame
    assert all(len(poses) == 1 and poses.track_ids.tolist() == [0] for poses in inputs.poses)
    assert replaced_bodies == [5, 6] and inputs.pose_frames[5].any()  # frame 4's body drawn again


def test_official_mode_needs_wans_models(crowd_yolox, marker_pose, official_pair):
    from annotator.dwpose.video.wan_animate import wan_animate_inputs

    frames = [frame_with_person(0)]
    with pytest.raises(ValueError, match="YOLOv10"):
        wan_animate_inputs(DWposeDetector(crowd_yolox, official_pair[1]), frames, frames[0], official=True)
    with pytest.raises(ValueError, match="ViTPose"):
        wan_animate_inputs(DWposeDetector(official_pair[0], marker_pose), frames, frames[0], official=True)


def test_official_command(official_pair, tmp_path):
    """`wan-animate --official` writes what wan_animate_inputs(official=True) gives for the same video."""
    pytest.importorskip("av")
    from PIL import Image

    from annotator.dwpose import VideoWriter
    from annotator.dwpose.cli import main
    from annotator.dwpose.video.wan_animate import wan_animate_inputs

    clip, ref = tmp_path / "drive.mp4", tmp_path / "ref.png"
    with VideoWriter(clip, 10) as writer:
        for n in range(8):
            writer.write(frame_with_person(n), n / 10)
    Image.fromarray(np.full((300, 200, 3), 70, np.uint8)).save(ref)
    det, pose = official_pair
    out = tmp_path / "out"
    assert main(["wan-animate", str(clip), "--ref", str(ref), "--out", str(out), "--det", str(det), "--pose", str(pose),
                 "--official", "--fps", "-1", "--resolution-area", "256", "192", "--frames"]) == 0
    inputs = wan_animate_inputs(DWposeDetector(det, pose), clip, ref, fps=-1, resolution_area=AREA, official=True)
    pngs = sorted((out / "src_pose").iterdir())
    assert len(pngs) == 8 and {p.name for p in out.iterdir()} >= {"src_pose.mp4", "src_face.mp4", "src_ref.png"}
    for png, expected in zip(pngs, inputs.pose_frames):
        np.testing.assert_array_equal(np.asarray(Image.open(png)), expected)
    assert main(["wan-animate", str(clip), "--ref", str(ref), "--out", str(out), "--det", str(det), "--pose",
                 str(pose), "--retarget", "--replace"]) == 2


def test_official_retargeting_is_get_retarget_pose_on_the_official_metas(official_pair):
    """--retarget: the reference's Pose2d meta (on the reference after resize_by_area) and every frame's go to
    get_retarget_pose (wan_retarget.retarget_wan_poses, checked against the official code's results in
    test_wan_retarget.py), drawn on np.zeros_like(refer_img) without padding_resize."""
    from annotator.dwpose.video.wan_animate import wan_animate_inputs
    from annotator.dwpose.wan_pose import WanPose
    from annotator.dwpose.wan_retarget import retarget_wan_poses

    frames = [frame_with_person(n) for n in (0, 2, 4, 7)]
    reference = np.full((360, 240, 3), 30, np.uint8)
    reference[60:300, 80:170] = (150, 30, 30)  # a taller, narrower person
    for (dx, dy), colour in zip([(15, 30), (60, 100), (30, 190)], [(30, 30, 255), (30, 255, 30), (255, 30, 30)]):
        reference[60 + dy:66 + dy, 80 + dx:86 + dx] = colour
    inputs = wan_animate_inputs(DWposeDetector(*official_pair), frames, reference, resolution_area=AREA,
                                official=True, retarget=True)
    refer_img = resize_by_area(reference, AREA[0] * AREA[1], divisor=16)

    def as_pose(meta):
        kps = meta["kps"]
        return WanPose(meta["width"], meta["height"], meta["keypoints_body"], kps[91:112], kps[112:133], kps[23:91])

    metas = [as_pose(meta) for meta in official_metas(*official_pair, frames)]
    refer_meta = as_pose(official_metas(*official_pair, [refer_img])[0])
    for number, pixels in enumerate(retarget_wan_poses(metas[0], refer_meta, metas)):
        assert (pixels.width, pixels.height) == (refer_img.shape[1], refer_img.shape[0])
        drawn = {"body": pixels.body, "lhand": pixels.left_hand, "rhand": pixels.right_hand}
        expected = wan_draw(np.zeros_like(refer_img), drawn)
        np.testing.assert_array_equal(inputs.pose_frames[number], expected, err_msg=f"pose frame {number}")
    assert inputs.pose_frames[0].any()  # (the last frame's person has walked off the reference's narrower canvas)
    # the skeleton now has the reference's proportions: not the plain (padding_resize'd) drawing
    plain = wan_animate_inputs(DWposeDetector(*official_pair), frames, reference, resolution_area=AREA, official=True)
    assert not np.array_equal(plain.pose_frames[0], inputs.pose_frames[0])
    np.testing.assert_array_equal(plain.face_frames[0][0], inputs.face_frames[0][0])  # faces are the same


def test_official_replacement_mode(official_pair, one_torch_thread):
    """--replace: frames resized into the area (sides of 16), the reference fitted into their size, each frame's
    meta drawn at the frame's size (no padding_resize), faces cropped from the resized frames, SAM2's masks of
    the person's metas (wan_replace.body_masks, its plan checked in test_wan_replace.py) made into the
    background and mask videos (replacement_frames). SAM2 is a tiny random transformers model."""
    transformers = pytest.importorskip("transformers")
    from test_wan_replace import tiny_sam2_config

    from annotator.dwpose.video.wan_animate import wan_animate_inputs
    from annotator.dwpose.video.wan_replace import Sam2VideoSegmenter, body_masks, replacement_frames
    from annotator.dwpose.wan_pose import WanPose

    segmenter = Sam2VideoSegmenter(transformers.Sam2VideoModel(tiny_sam2_config(transformers)).eval())
    frames = [frame_with_person(n) for n in range(6)]
    reference = np.full((300, 200, 3), 70, np.uint8)
    inputs = wan_animate_inputs(DWposeDetector(*official_pair), frames, reference, resolution_area=AREA,
                                official=True, replace=True, segmenter=segmenter)
    resized = [resize_by_area(frame, AREA[0] * AREA[1], divisor=16) for frame in frames]
    height, width = resized[0].shape[:2]
    np.testing.assert_array_equal(inputs.reference, padding_resize(reference, height, width))
    metas = official_metas(*official_pair, resized)
    for number, (frame, meta) in enumerate(zip(resized, metas)):
        drawn = wan_meta(meta["kps"], width, height)
        body = meta["keypoints_body"]
        drawn["body"] = np.concatenate([body[:, :2] * (width, height), body[:, 2:3]], axis=1)
        np.testing.assert_array_equal(inputs.pose_frames[number], wan_draw(np.zeros_like(frame), drawn))
        box = official_face_box(meta["keypoints_face"][:, :2], 1.3, frame.shape[:2])
        if box is not None and box[1] > box[0] and box[3] > box[2]:
            x1, x2, y1, y2 = box
            np.testing.assert_array_equal(inputs.face_frames[0][number], cv2.resize(frame[y1:y2, x1:x2], (512, 512)))
    poses = [WanPose(m["width"], m["height"], m["keypoints_body"], m["kps"][91:112], m["kps"][112:133],
                     m["kps"][23:91]) for m in metas]
    backgrounds, mask_frames = replacement_frames(resized, body_masks(resized, poses, segmenter))
    assert len(inputs.background_frames) == len(inputs.mask_frames) == 6
    for number in range(6):
        np.testing.assert_array_equal(inputs.background_frames[number], backgrounds[number])
        np.testing.assert_array_equal(inputs.mask_frames[number], mask_frames[number])
    assert set(np.unique(inputs.mask_frames[0])) <= {0, 255} and inputs.mask_frames[0].shape == (height, width, 3)
    pil = inputs.as_pil()
    assert len(pil["background_video"]) == len(pil["mask_video"]) == 6


def test_the_official_checkpoint_folder_gives_the_models(official_pair, tmp_path, capsys):
    """--ckpt-path: the official preprocess_data.py's layout (det/yolov10m.onnx, pose2d/vitpose_h_wholebody.onnx);
    a missing file is named."""
    from PIL import Image

    from annotator.dwpose.cli import main

    folder = tmp_path / "process_checkpoint"
    (folder / "det").mkdir(parents=True)
    (folder / "pose2d").mkdir()
    (folder / "det" / "yolov10m.onnx").write_bytes(official_pair[0].read_bytes())
    frames = tmp_path / "frames"
    ref = tmp_path / "ref.png"
    Image.fromarray(np.full((300, 200, 3), 70, np.uint8)).save(ref)
    args = ["wan-animate", str(tmp_path / "drive.mp4"), "--ref", str(ref), "--out", str(frames), "--official",
            "--ckpt-path", str(folder)]
    assert main(args) == 2  # pose2d/vitpose_h_wholebody.onnx missing (before the video is opened)
    assert f"--ckpt-path: {folder / 'pose2d' / 'vitpose_h_wholebody.onnx'} not found" in capsys.readouterr().err
    (folder / "pose2d" / "vitpose_h_wholebody.onnx").write_bytes(official_pair[1].read_bytes())
    pytest.importorskip("av")
    from annotator.dwpose import VideoWriter

    with VideoWriter(tmp_path / "drive.mp4", 10) as writer:
        for n in range(3):
            writer.write(frame_with_person(n), n / 10)
    assert main(args + ["--fps", "-1", "--resolution-area", "256", "192"]) == 0
    assert (frames / "src_pose.mp4").is_file() and (frames / "src_face.mp4").is_file()
