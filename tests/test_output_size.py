"""Maps drawn at the size they are used (draw_at_output_size) and the limb width rules (stick_rule).

The width rules, from their sources: "fixed" is the reference's stickwidth = 4 (ControlNet 1.1
annotator/openpose/util.py draw_bodypose); "xinsir" is comfyui_controlnet_aux's scale_stick_for_xinsr_cn
(1.1.5 e8b689a, src/custom_controlnet_aux/dwpose/util.py draw_bodypose: 1 under 500 px on the longer side,
else min(2 + longer // 1000, 7), times 4); "wan" is Wan 2.2 Animate's (Wan-Video/Wan2.2 @ 42bf4cf,
wan/modules/animate/preprocess/human_visualization.py draw_aapose_new, stickwidth_type 'v2', the default of
draw_aapose_by_meta_new: max(int(min(H, W) / 200) - 1, 1)), each the second axis of the limbs' ellipse.
"""

import cv2
import numpy as np
import pytest

from annotator.dwpose import DWposeDetector, Poses, PoseMapOptions, draw_pose_map, draw_poses, resize_pose_map
from annotator.dwpose.cli import main
from annotator.dwpose.images import resized_shape
from annotator.dwpose.render import wan_stick_width
from annotator.dwpose.skeleton import NUM_OPENPOSE


def one_limb(width: int, height: int) -> Poses:
    """A single horizontal limb (neck to right shoulder) across the middle of a width x height canvas."""
    points = np.zeros((1, NUM_OPENPOSE, 2))
    scores = np.zeros((1, NUM_OPENPOSE), np.float32)
    points[0, 1] = [width * 0.25, height * 0.5]
    points[0, 2] = [width * 0.75, height * 0.5]
    scores[0, [1, 2]] = 1
    return Poses(points, scores, np.zeros((1, 4), np.float32), np.zeros(1, np.float32), width, height)


def limb_thickness(pose_map: np.ndarray) -> int:
    """Rows lit in the middle column of the limb (the joints are far from it)."""
    column = pose_map[:, pose_map.shape[1] // 2]
    return int((column.max(axis=1) > 0).sum())


@pytest.mark.parametrize("min_side, expected", [(199, 1), (200, 1), (399, 1), (400, 1), (600, 2), (1080, 4),
                                                 (2160, 9)])
def test_wan_width(min_side, expected):
    assert wan_stick_width(4000, min_side) == expected == wan_stick_width(min_side, 4000)


@pytest.mark.parametrize("width, height", [(1536, 1024), (3840, 2160)])
def test_limb_width_per_rule(width, height):
    """The ellipse's second axis is the half-width: the limb is 2 * half + 1 rows thick in its middle."""
    poses = one_limb(width, height)
    longer = max(width, height)
    xinsir = 1 if longer < 500 else min(2 + longer // 1000, 7)
    wan = max(int(min(width, height) / 200) - 1, 1)
    for rule, half in (("fixed", 4), ("xinsir", 4 * xinsir), ("wan", wan)):
        assert limb_thickness(draw_poses(poses, stick_rule=rule)) == 2 * half + 1, rule
    assert limb_thickness(draw_poses(poses, stick_rule="fixed", stick_width=7)) == 15


def test_options_rules_and_their_switch():
    assert PoseMapOptions(scale_stick_for_xinsr_cn=True).stick_rule == "xinsir"
    assert PoseMapOptions(stick_rule="xinsir").scale_stick_for_xinsr_cn
    assert PoseMapOptions.build(PoseMapOptions(stick_rule="xinsir"), scale_stick_for_xinsr_cn=False).stick_rule == "fixed"
    assert PoseMapOptions(stick_rule="wan").scale_stick_for_xinsr_cn is False
    # build (the keywords of draw_poses, annotate, __call__) turns the switch with the rule it is given
    xinsir = PoseMapOptions(stick_rule="xinsir")
    assert PoseMapOptions.build(xinsir, stick_rule="fixed") == PoseMapOptions()
    assert PoseMapOptions.build(xinsir, stick_rule="wan").scale_stick_for_xinsr_cn is False
    assert PoseMapOptions.build(PoseMapOptions(stick_rule="wan"), scale_stick_for_xinsr_cn=False).stick_rule == "wan"
    with pytest.raises(ValueError, match="stick_rule must be one of fixed, xinsir, wan"):
        PoseMapOptions(stick_rule="thick")
    with pytest.raises(ValueError, match="cannot go with stick_rule 'wan'"):
        PoseMapOptions(stick_rule="wan", scale_stick_for_xinsr_cn=True)


def test_draw_pose_map_default_is_the_resized_reference_and_the_option_draws_at_size():
    rng = np.random.default_rng(0)
    poses = Poses(rng.uniform(5, 250, (2, NUM_OPENPOSE, 2)), rng.uniform(0, 1, (2, NUM_OPENPOSE)).astype(np.float32),
                  np.zeros((2, 4), np.float32), np.zeros(2, np.float32), 384, 256)
    resized = cv2.resize(draw_poses(poses), (768, 512), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(draw_pose_map(poses, 512, 768), resized)
    np.testing.assert_array_equal(draw_pose_map(poses, 256, 384), draw_poses(poses))
    sharp = draw_pose_map(poses, 512, 768, draw_at_output_size=True)
    np.testing.assert_array_equal(sharp, draw_poses(poses.in_pixels_of(768, 512)))
    assert not np.array_equal(sharp, resized)
    # sharp maps hold only the renderer's colours (and their 0.6 dimming); resizing blends them
    assert len(np.unique(sharp.reshape(-1, 3), axis=0)) < len(np.unique(resized.reshape(-1, 3), axis=0))


def test_annotate_and_the_images_command(crowd_yolox, marker_pose, crowd_image, tmp_path):
    detector = DWposeDetector(crowd_yolox, marker_pose)
    canvas, poses = detector.annotate(crowd_image, 256, 512)
    np.testing.assert_array_equal(canvas, resize_pose_map(draw_poses(poses), *crowd_image.shape[:2], 512))
    options = PoseMapOptions(draw_at_output_size=True, stick_rule="wan")
    sharp, same_poses = detector.annotate(crowd_image, 256, 512, options=options)
    height, width = resized_shape(*crowd_image.shape[:2], 512)
    np.testing.assert_array_equal(sharp, draw_poses(same_poses.in_pixels_of(width, height), options))
    assert sharp.shape == canvas.shape and not np.array_equal(sharp, canvas)
    cv2.imwrite(str(tmp_path / "crowd.png"), cv2.cvtColor(crowd_image, cv2.COLOR_RGB2BGR))
    assert main([str(tmp_path / "crowd.png"), "--out", str(tmp_path / "out"), "--det", str(crowd_yolox), "--pose",
                 str(marker_pose), "--detect-resolution", "256", "--draw-at-output-size", "--stick-rule", "wan"]) == 0
    written = cv2.cvtColor(cv2.imread(str(tmp_path / "out" / "crowd_pose.png")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(written, sharp)


def test_contradicting_cli_flags_exit_2(tmp_path, capsys):
    code = main(["render", str(tmp_path / "a.json"), "--out", str(tmp_path), "--xinsir-sticks", "--stick-rule", "wan"])
    assert code == 2 and "cannot go with stick_rule 'wan'" in capsys.readouterr().err


def test_tracked_maps_are_drawn_at_the_output_size(crowd_yolox, marker_pose, crowd_image):
    """VideoTracker's maps: by default the resized reference map, with draw_at_output_size drawn at their size."""
    detector = DWposeDetector(crowd_yolox, marker_pose)
    frames = [crowd_image, crowd_image[::-1].copy()]
    height, width = resized_shape(*crowd_image.shape[:2], 512)
    for result in detector.track(frames, detect_resolution=256, image_resolution=512):
        np.testing.assert_array_equal(result.pose_map, resize_pose_map(draw_poses(result.poses),
                                                                       *crowd_image.shape[:2], 512))
    options = PoseMapOptions(draw_at_output_size=True, stick_rule="xinsir")
    for result in detector.track(frames, detect_resolution=256, image_resolution=512, options=options):
        assert result.pose_map.shape == (height, width, 3)
        np.testing.assert_array_equal(result.pose_map, draw_poses(result.poses.in_pixels_of(width, height), options))


def test_aligned_video_frames_are_drawn_at_the_output_size(crowd_yolox, marker_pose, tmp_path):
    """write_pose_video with align_to: each PNG frame is draw_pose_map of the aligned poses (in pixels of the
    reference's detection canvas) at the reference's map size, not the resized map."""
    pytest.importorskip("av")
    from PIL import Image

    from annotator.dwpose import align_poses
    from annotator.dwpose.video import VideoWriter, read_video, write_pose_video

    rng = np.random.default_rng(5)
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, 25) as writer:
        for i in range(3):
            writer.write(rng.integers(0, 80, (416, 416, 3), dtype=np.uint8), i / 25)
    reference = rng.integers(0, 255, (768, 512, 3), dtype=np.uint8)
    options = PoseMapOptions(draw_at_output_size=True, stick_rule="wan")
    detector = DWposeDetector(crowd_yolox, marker_pose)
    write_pose_video(detector, clip, tmp_path / "out", png_frames=True, people="largest", align_to=reference,
                     detect_resolution=256, options=options)
    driving = [r.poses for r in detector.track(read_video(clip), people="largest", detect_resolution=256)]
    aligned = align_poses(driving, detector.detect(reference, detect_resolution=256), "mimicmotion")
    assert (aligned[0].height, aligned[0].width) == (384, 256)  # the reference's detection canvas
    for number, poses in enumerate(aligned):
        written = np.asarray(Image.open(tmp_path / "out" / "clip" / f"{number:06d}.png"))
        np.testing.assert_array_equal(written, draw_pose_map(poses, *resized_shape(768, 512, 512), options))
        assert not np.array_equal(written, draw_pose_map(poses, *resized_shape(768, 512, 512)))
