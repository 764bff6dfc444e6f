"""Renderer: known keypoints -> expected pixels (spec section 4)."""

import dataclasses
import json

import matplotlib.colors
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.dwpose import PoseMapOptions, Poses, draw_poses

W, H = 320, 240
RED_DIM = (153, 0, 0)          # limb 0 colour [255, 0, 0] * 0.6
ORANGE_DIM = (153, 51, 0)      # limb 1 colour [255, 85, 0] * 0.6


def make_poses(points: dict, n=1, width=W, height=H, score=0.9):
    """Poses whose listed (person, index) points are visible at the given pixel coordinates."""
    keypoints = np.full((n, 134, 2), -1.0)
    scores = np.zeros((n, 134), dtype=np.float32)
    for (person, index), xy in points.items():
        keypoints[person, index] = xy
        scores[person, index] = score
    return Poses(keypoints, scores, np.zeros((n, 4), np.float32), np.ones(n, np.float32), width, height)


def px(canvas, x, y):
    return tuple(int(v) for v in canvas[y, x])


def test_blank_when_nothing_visible():
    canvas = draw_poses(make_poses({}))
    assert canvas.shape == (H, W, 3) and canvas.dtype == np.uint8 and not canvas.any()


def test_limb_stick_width_dimming_and_joint_colours():
    # limb 0 joins OpenPose 1 (neck) and 2 (right shoulder): a horizontal stick from x=100 to x=200
    canvas = draw_poses(make_poses({(0, 1): (100, 120), (0, 2): (200, 120)}))
    assert px(canvas, 150, 120) == RED_DIM           # middle of the stick, dimmed by 0.6
    assert px(canvas, 150, 123) == RED_DIM           # inside the half-width of 4
    assert px(canvas, 150, 126) == (0, 0, 0)         # outside it
    assert px(canvas, 100, 120) == (255, 85, 0)      # neck joint, colour 1, full brightness
    assert px(canvas, 200, 120) == (255, 170, 0)     # shoulder joint, colour 2
    assert px(canvas, 100, 124) == (255, 85, 0)      # joint radius 4
    assert px(canvas, 94, 120) == (0, 0, 0)          # beyond the joint and the stick's end


def test_hidden_points_draw_nothing():
    poses = make_poses({(0, 1): (100, 120), (0, 2): (200, 120)})
    poses.scores[0, 2] = 0.29  # body points need a score above 0.3
    canvas = draw_poses(poses)
    assert px(canvas, 150, 120) == (0, 0, 0)
    assert px(canvas, 200, 120) == (0, 0, 0)
    assert px(canvas, 100, 120) == (255, 85, 0)


def test_limb_major_draw_order_across_persons():
    # person 0 has limb 1 (neck -> left shoulder), person 1 has limb 0 (neck -> right shoulder);
    # they cross at (150, 120). Limb-major order draws limb 1 last, although its person comes first.
    canvas = draw_poses(make_poses({
        (0, 1): (150, 60), (0, 5): (150, 180),
        (1, 1): (90, 120), (1, 2): (210, 120),
    }, n=2))
    assert px(canvas, 150, 120) == ORANGE_DIM
    assert px(canvas, 110, 120) == RED_DIM


def test_hand_edge_colours_points_and_order():
    # left hand of person 0: wrist (0) -> thumb (1) horizontal, edge 0 in HSV(0) = red
    # right hand of person 0: index finger edge 5 -> 6 (edge 5)
    canvas = draw_poses(make_poses({(0, 92): (40, 40), (0, 93): (100, 40), (0, 113 + 5): (40, 150),
                                    (0, 113 + 6): (100, 150)}))
    for edge, (x, y) in [(0, (70, 40)), (5, (70, 150))]:
        expected = matplotlib.colors.hsv_to_rgb([edge / 20, 1.0, 1.0]) * 255  # the reference's colour source
        assert px(canvas, x, y) == tuple(int(v) for v in np.round(expected))
        assert px(canvas, x, y + 3) == (0, 0, 0)  # thickness 2
    assert px(canvas, 40, 40) == (0, 0, 255)       # points: radius-4 blue dots drawn over the edges
    assert px(canvas, 100, 44) == (0, 0, 255)


def test_hand_point_at_pixel_zero_is_not_drawn():
    canvas = draw_poses(make_poses({(0, 92): (0.5, 40), (0, 93): (100, 40)}))
    assert px(canvas, 50, 40) == (0, 0, 0)   # the edge needs both ends > 0.01 after truncation
    assert px(canvas, 100, 40) == (0, 0, 255)
    assert px(canvas, 2, 40) == (0, 0, 0)


def test_faces_are_white_dots_over_hands():
    canvas = draw_poses(make_poses({(0, 24): (60, 60), (0, 92): (60, 60)}))
    assert px(canvas, 60, 60) == (255, 255, 255)
    assert px(canvas, 60, 63) == (255, 255, 255)   # radius 3
    assert px(canvas, 60, 64) == (0, 0, 255)       # the hand dot (radius 4) shows around it


def test_include_switches_and_feet_opt_in():
    poses = make_poses({(0, 1): (100, 120), (0, 2): (200, 120), (0, 24): (20, 20), (0, 92): (300, 200),
                        (0, 18): (150, 200), (0, 20): (200, 200)})
    default = draw_poses(poses)
    assert px(default, 175, 200) == (0, 0, 0)  # feet are off by default
    assert px(draw_poses(poses, include_body=False), 150, 120) == (0, 0, 0)
    assert px(draw_poses(poses, include_face=False), 20, 20) == (0, 0, 0)
    assert px(draw_poses(poses, include_hand=False), 300, 200) == (0, 0, 0)
    assert px(draw_poses(poses, include_foot=True), 175, 200) != (0, 0, 0)


def test_points_on_and_beyond_the_border():
    canvas = draw_poses(make_poses({(0, 1): (W, H), (0, 2): (-50, H / 2), (0, 24): (W - 1, 0.0)}))
    assert canvas.shape == (H, W, 3)
    assert px(canvas, W - 1, H - 1) == (255, 85, 0)  # a joint on the corner is partly visible


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300, -1e12])
def test_non_finite_or_huge_coordinates_do_not_crash(bad):
    poses = make_poses({(0, 1): (bad, 100), (0, 2): (100, 100), (0, 92): (bad, bad), (0, 93): (50, 50),
                        (0, 24): (bad, 3)})
    canvas = draw_poses(poses)
    assert px(canvas, 100, 100) == (255, 170, 0)  # the good shoulder joint is still drawn
    assert px(canvas, 50, 50) == (0, 0, 255)


def expected_triplets(xy: np.ndarray, score: np.ndarray, body: bool) -> list:
    """Spec (output formats): a shown point is (x, y, 1.0) in pixels, a hidden one (0, 0, 0); body points
    need a score > 0.3, the others >= 0.3 (compared in float64), and finite coordinates."""
    triplets = []
    for (x, y), s in zip(xy, score.astype(np.float64)):
        shown = (s > 0.3 if body else s >= 0.3) and np.isfinite(x) and np.isfinite(y)
        triplets += [float(x), float(y), 1.0] if shown else [0.0, 0.0, 0.0]
    return triplets


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=2 * 134, max_size=2 * 134),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=134, max_size=134),
    st.integers(1, 64), st.integers(1, 64),
)
def test_any_keypoints_and_scores_render_and_export(coords, scores, width, height):
    keypoints = np.array(coords).reshape(1, 134, 2)
    score = np.array(scores, dtype=np.float32).reshape(1, 134)
    poses = Poses(keypoints, score, np.zeros((1, 4), np.float32), np.ones(1, np.float32), width, height)
    canvas = draw_poses(poses, include_foot=True)
    assert canvas.shape == (height, width, 3) and canvas.dtype == np.uint8

    data = poses.to_openpose_json()
    assert (data["canvas_width"], data["canvas_height"], data["animals"]) == (width, height, [])
    (person,) = data["people"]
    assert person["pose_keypoints_2d"] == expected_triplets(keypoints[0, :18], score[0, :18], body=True)
    face = expected_triplets(keypoints[0, 24:92], score[0, 24:92], body=False)
    eyes = expected_triplets(keypoints[0, [14, 15]], score[0, [14, 15]], body=False)
    assert person["face_keypoints_2d"] == (face + eyes if any(face[2::3]) else None)
    for key, part in (("hand_left_keypoints_2d", slice(92, 113)), ("hand_right_keypoints_2d", slice(113, 134))):
        hand = expected_triplets(keypoints[0, part], score[0, part], body=False)
        assert person[key] == (hand if any(hand[2::3]) else None)
    json.dumps(data, allow_nan=False)  # nothing non-finite reaches the JSON


def test_pose_map_options_are_checked_and_named():
    poses = make_poses({(0, 1): (100, 120), (0, 2): (200, 120)})
    assert np.array_equal(draw_poses(poses, PoseMapOptions(stick_width=8)), draw_poses(poses, stick_width=8))
    assert not np.array_equal(draw_poses(poses, stick_width=8), draw_poses(poses))
    options = PoseMapOptions.build(PoseMapOptions(include_face=False), threshold=0.5)
    assert (options.include_face, options.threshold, options.include_hand) == (False, 0.5, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.threshold = 0.1
    for bad in ({"stick_width": 0}, {"stick_width": 2.5}, {"threshold": float("nan")}, {"threshold": "0.3"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            PoseMapOptions(**bad)
    with pytest.raises(TypeError, match="include_hands.*the options are include_body"):
        draw_poses(poses, include_hands=False)
    with pytest.raises(TypeError, match="PoseMapOptions"):
        draw_poses(poses, True)  # the old positional include_body


# The sd-webui-controlnet style. Derived from sd-webui-controlnet's annotator/openpose/__init__.py draw_poses
# (per person: body, left hand, right hand, face), util.py draw_bodypose (limbs filled in
# [int(c * 0.6) for c in color], no canvas dimming; joints radius 4 after that person's limbs), draw_handpose /
# draw_facepose (as the reference) and wholebody.py format_result (a point is shown when score >= 0.3; the
# face is its 68 points followed by the body's points 14 and 15). Points are pixels of the canvas.
WEBUI = PoseMapOptions(style="sd-webui-controlnet")


def test_webui_style_draws_person_by_person():
    # Person 0's left-hand edge is crossed by person 1's limb: the reference draws all hands after all
    # bodies (the hand shows), sd-webui-controlnet draws person 1 after person 0 (the limb covers it).
    poses = make_poses({(0, 92): (60, 120), (0, 93): (160, 120), (1, 1): (110, 60), (1, 5): (110, 200)}, n=2)
    reference, webui = draw_poses(poses), draw_poses(poses, WEBUI)
    hsv_red = (255, 0, 0)  # hand edge 0: HSV(0, 1, 1)
    assert px(reference, 90, 120) == hsv_red and px(webui, 90, 120) == hsv_red  # away from the crossing
    assert px(reference, 110, 120) == hsv_red
    assert px(webui, 110, 120) == ORANGE_DIM  # limb 1 (neck -> left shoulder) of person 1, int(c * 0.6)


def test_webui_style_adds_the_body_eyes_to_the_face_and_shows_scores_equal_to_the_threshold():
    points = {(0, 0): (100, 100), (0, 14): (90, 90), (0, 24): (150, 150)}
    poses = make_poses(points)
    assert px(draw_poses(poses), 90, 90) == (170, 0, 255)   # the reference: joint 14 in its colour
    assert px(draw_poses(poses, WEBUI), 90, 90) == (255, 255, 255)  # a face point drawn over it
    assert px(draw_poses(poses, WEBUI, include_face=False), 90, 90) == (170, 0, 255)
    poses.scores[0, 0] = 0.5  # body points: > threshold in the reference, >= threshold in sd-webui-controlnet
    assert px(draw_poses(poses, threshold=0.5), 100, 100) == (0, 0, 0)
    assert px(draw_poses(poses, WEBUI, threshold=0.5), 100, 100) == (255, 0, 0)


def test_webui_style_scales_a_part_whose_points_all_lie_in_0_1():
    # is_normalized: such a part is taken as normalised coordinates and scaled by the canvas size.
    poses = make_poses({(0, 24): (0.5, 0.25), (0, 25): (0.75, 1.0)})
    webui = draw_poses(poses, WEBUI)
    assert px(webui, W // 2, H // 4) == (255, 255, 255) and px(webui, 3 * W // 4, H - 1) == (255, 255, 255)
    assert not draw_poses(poses).any()  # the reference takes them as pixels near the origin: eps rule


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-20, W + 20), st.floats(-20, H + 20)), min_size=18 + 42, max_size=18 + 42),
       st.lists(st.sampled_from([0.1, 0.5, 0.9]), min_size=18 + 42, max_size=18 + 42))
def test_for_one_person_without_face_both_styles_agree(coords, scores):
    # One person, scores never equal to the threshold, no face: the two renderers do the same operations
    # in the same order (limbs, joints, left hand, right hand), and LUT-dimming equals int(c * 0.6) fills.
    index = list(range(18)) + list(range(92, 134))
    poses = make_poses({(0, i): xy for i, xy in zip(index, coords)})
    poses.scores[0, index] = scores
    assert np.array_equal(draw_poses(poses, include_face=False), draw_poses(poses, WEBUI, include_face=False))


def test_xinsir_stick_scale_follows_comfyui_controlnet_aux():
    # dwpose/util.py draw_bodypose: stick_scale = 1 if max(W, H) < 500 else min(2 + max(W, H) // 1000, 7)
    from annotator.dwpose.render import xinsir_stick_scale

    for (width, height), scale in {(320, 499): 1, (500, 100): 2, (999, 999): 2, (1000, 10): 3, (1536, 1024): 3,
                                   (2048, 4999): 6, (5000, 64): 7, (9000, 9000): 7}.items():
        assert xinsir_stick_scale(width, height) == scale
    big = make_poses({(0, 1): (300, 400), (0, 2): (700, 400)}, width=1200, height=800)  # scale 3: half-width 12
    thick = draw_poses(big, scale_stick_for_xinsr_cn=True)
    assert px(thick, 500, 411) == RED_DIM and px(thick, 500, 414) == (0, 0, 0)
    assert px(draw_poses(big), 500, 411) == (0, 0, 0)
    assert px(thick, 296, 400) == (255, 85, 0) and px(thick, 294, 400) == (0, 0, 0)  # joints keep radius 4
    assert np.array_equal(draw_poses(make_poses({(0, 1): (30, 40), (0, 2): (70, 40)}), scale_stick_for_xinsr_cn=True),
                          draw_poses(make_poses({(0, 1): (30, 40), (0, 2): (70, 40)})))  # under 500 px: as is


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="style must be one of controlnet, sd-webui-controlnet"):
        PoseMapOptions(style="openpose")
