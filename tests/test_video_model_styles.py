"""The renderers of pose-guided video pipelines (styles mimicmotion, musepose, unianimate, easy-dwpose).

Two kinds of checks. Hand-derived facts (a colour at a limb's centre, a width, a radius, what is hidden,
what is drawn over what), and oracles: my own plain-loop transcriptions of each pipeline's drawing code,
fed the dict its detector builds from the same keypoints (the builders in test_pose_dict.py), compared
pixel for pixel with draw_poses on random poses and on poses from the stand-in models. What each oracle
follows:
* mimicmotion_map: Tencent/MimicMotion mimicmotion/dwpose/util.py draw_pose, draw_bodypose, draw_handpose,
  draw_facepose, alpha_blend_color (as get_image_pose in preprocess.py calls it with the image's H, W).
  Canvas int(H * sr) x int(W * sr), sr = 2160 / min(H, W) (1 when that is 2160); a limb is skipped when
  either score is < 0.3 and filled in [int(c * (s_a * s_b))]; canvas * 0.6 as uint8; a joint is drawn
  when its subset entry is not -1, in [int(c * s)], radius 4; each hand edge whose four pixel coordinates
  are > 0.01 is a 2-px line in matplotlib hsv_to_rgb([e / 20, 1, 1]) * int(s_i * s_j * 255), each point a
  radius-4 dot (0, 0, int(s * 255)); each face point a radius-3 dot (g, g, g), g = int(s * 255); then
  cv2.resize(canvas, (W, H)) (INTER_LINEAR, the default), cv2.cvtColor BGR2RGB and transpose(2, 0, 1):
  it returns CHW with red and blue swapped relative to the colours it draws.
* musepose_map: TMElyralab/MusePose pose/script/dwpose.py draw_pose (faces[:1], hands[:2], candidate[:18],
  subset[:1]) and pose/script/util.py draw_bodypose (half-width smart_width(length)), draw_handpose
  (thickness smart_width(length of the int pixel segment), points radius 3), draw_facepose; then the
  cv2.cvtColor BGR2RGB that draw_dwpose.py and pose_align.py apply.
* unianimate_map: ali-vilab/UniAnimate run_align_pose.py DWposeDetector.__call__ (first person only; the
  bodyfoot candidate and subset: points 18 / 19 the mean of the left / right big and small toe, shown
  when both toes' subset entries are shown) and draw_pose (dwpose/util.py draw_body_and_foot with limbs
  [14, 19], [11, 20] and colours [170, 255, 255], [255, 255, 0]; draw_handpose; draw_facepose for the
  with-face map); cv2.imwrite of the RGB-drawn canvas, i.e. red and blue swapped in the file.
* easy_dwpose_map: reallyigor/easy_dwpose easy_dwpose/draw/openpose.py draw_pose (body, then faces, then
  hands) on the dict of easy_dwpose/dwpose.py _format_pose (no hand or face point hidden).
The pipelines ran on OpenCV 4: the oracles draw their lines as OpenCV 4 does (annotator/dwpose/opencv4.py,
held to OpenCV 4.11's own output in test_opencv4.py), whatever OpenCV is installed.
"""

import math

import cv2
import matplotlib.colors
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pose_dict import detector_input, easy_dwpose_dict, mimicmotion_dict, musepose_dict, random_poses

from annotator.dwpose import DWposeDetector, PoseMapOptions, Poses, draw_poses, opencv4
from annotator.dwpose.render import STYLES
from annotator.dwpose.render.mimicmotion import mimicmotion_canvas
from annotator.dwpose.render.musepose import musepose_width

PAIRS = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
         [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]
PALETTE = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
           [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
           [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]
FINGERS = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11], [11, 12],
           [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]


def hsv(edge):
    return matplotlib.colors.hsv_to_rgb([edge / float(len(FINGERS)), 1.0, 1.0])


def ellipse_limb(canvas, candidate, first, second, half_width, color):
    """One limb the way all of them fill it: from the two candidate rows, in canvas pixels."""
    height, width = canvas.shape[:2]
    ys = candidate[[first, second], 1] * float(height)
    xs = candidate[[first, second], 0] * float(width)
    length = ((ys[0] - ys[1]) ** 2 + (xs[0] - xs[1]) ** 2) ** 0.5
    angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
    if callable(half_width):
        half_width = half_width(length)
    polygon = cv2.ellipse2Poly((int(np.mean(xs)), int(np.mean(ys))), (int(length / 2), half_width), int(angle),
                               0, 360, 1)
    cv2.fillConvexPoly(canvas, polygon, color)


def musepose_smart_width(d):
    widths = [(5, 1), (10, 2), (20, 3), (40, 4), (80, 5), (160, 6), (320, 7)]
    for limit, width in widths:
        if d < limit:
            return width
    return 8


def plain_body(canvas, candidate, subset, pairs=PAIRS, palette=PALETTE, half_width=4):
    """ControlNet's draw_bodypose as MusePose, UniAnimate and easy_dwpose keep it (half_width varies)."""
    height, width = canvas.shape[:2]
    for i, (a, b) in enumerate(pairs):
        for row in subset:
            index = row[[a - 1, b - 1]]
            if -1 in index:
                continue
            ellipse_limb(canvas, candidate, int(index[0]), int(index[1]), half_width, palette[i])
    canvas = (canvas * 0.6).astype(np.uint8)
    for i in range(len(palette)):
        for row in subset:
            if int(row[i]) == -1:
                continue
            x, y = candidate[int(row[i])][:2]
            cv2.circle(canvas, (int(int(x * width)), int(int(y * height))), 4, palette[i], thickness=-1)
    return canvas


def plain_hands(canvas, hands, thickness=lambda length: 2, radius=4):
    height, width = canvas.shape[:2]
    for peaks in hands:
        for e, (i, j) in enumerate(FINGERS):
            x1, y1 = int(peaks[i][0] * width), int(peaks[i][1] * height)
            x2, y2 = int(peaks[j][0] * width), int(peaks[j][1] * height)
            if x1 > 0.01 and y1 > 0.01 and x2 > 0.01 and y2 > 0.01:
                length = ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5
                opencv4.line(canvas, (x1, y1), (x2, y2), hsv(e) * 255, thickness=thickness(length))
        for x, y in peaks:
            x, y = int(x * width), int(y * height)
            if x > 0.01 and y > 0.01:
                cv2.circle(canvas, (x, y), radius, (0, 0, 255), thickness=-1)
    return canvas


def plain_faces(canvas, faces):
    height, width = canvas.shape[:2]
    for face in faces:
        for x, y in face:
            x, y = int(x * width), int(y * height)
            if x > 0.01 and y > 0.01:
                cv2.circle(canvas, (x, y), 3, (255, 255, 255), thickness=-1)
    return canvas


def mimicmotion_map(pose, H, W):
    short = min(H, W)
    sr = (2160 / short) if short != 2160 else 1
    canvas = np.zeros((int(H * sr), int(W * sr), 3), dtype=np.uint8)
    height, width = canvas.shape[:2]
    candidate, subset, score = (np.array(pose["bodies"][k]) for k in ("candidate", "subset", "score"))
    for i, (a, b) in enumerate(PAIRS):
        for n in range(len(subset)):
            s_a, s_b = score[n][a - 1], score[n][b - 1]
            if s_a < 0.3 or s_b < 0.3:
                continue
            alpha = s_a * s_b
            ellipse_limb(canvas, candidate, int(subset[n][a - 1]), int(subset[n][b - 1]), 4,
                         [int(c * alpha) for c in PALETTE[i]])
    canvas = (canvas * 0.6).astype(np.uint8)
    for i in range(18):
        for n in range(len(subset)):
            if int(subset[n][i]) == -1:
                continue
            x, y = candidate[int(subset[n][i])][:2]
            cv2.circle(canvas, (int(x * width), int(y * height)), 4, [int(c * score[n][i]) for c in PALETTE[i]],
                       thickness=-1)
    for peaks, scores in zip(pose["hands"], pose["hands_score"]):
        for e, (i, j) in enumerate(FINGERS):
            x1, y1 = int(peaks[i][0] * width), int(peaks[i][1] * height)
            x2, y2 = int(peaks[j][0] * width), int(peaks[j][1] * height)
            shade = int(scores[i] * scores[j] * 255)
            if x1 > 0.01 and y1 > 0.01 and x2 > 0.01 and y2 > 0.01:
                opencv4.line(canvas, (x1, y1), (x2, y2), hsv(e) * shade, thickness=2)
        for (x, y), s in zip(peaks, scores):
            x, y = int(x * width), int(y * height)
            if x > 0.01 and y > 0.01:
                cv2.circle(canvas, (x, y), 4, (0, 0, int(s * 255)), thickness=-1)
    for face, scores in zip(pose["faces"], pose["faces_score"]):
        for (x, y), s in zip(face, scores):
            x, y = int(x * width), int(y * height)
            grey = int(s * 255)
            if x > 0.01 and y > 0.01:
                cv2.circle(canvas, (x, y), 3, (grey, grey, grey), thickness=-1)
    return cv2.cvtColor(cv2.resize(canvas, (W, H)), cv2.COLOR_BGR2RGB).transpose(2, 0, 1)


def musepose_map(pose, H, W, draw_face):
    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    canvas = plain_body(canvas, pose["bodies"]["candidate"][:18], pose["bodies"]["subset"][:1],
                        half_width=musepose_smart_width)
    canvas = plain_hands(canvas, pose["hands"][:2], thickness=musepose_smart_width, radius=3)
    if draw_face:
        canvas = plain_faces(canvas, pose["faces"][:1])
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)


def unianimate_dict(candidate, score, W, H):
    candidate = candidate[:1].copy()
    score = score[:1].copy()
    candidate[..., 0] /= float(W)
    candidate[..., 1] /= float(H)
    candidate[score < 0.3] = -1
    subset = np.where(score[:, :24] > 0.3, np.arange(24), -1).astype(np.float64)
    subset[:, 18] = 18.0 if -1 not in subset[:, [18, 19]] else -1.0
    subset[:, 19] = 19.0 if -1 not in subset[:, [21, 22]] else -1.0
    body = candidate[:, :24].copy()
    for n in range(len(body)):
        left, right = body[n][18].copy(), body[n][19].copy()
        body[n][18] = (left + body[n][19]) / 2 if -1 not in left and -1 not in right else [-1.0, -1.0]
        big, small = body[n][21], body[n][22]
        body[n][19] = (big + small) / 2 if -1 not in big and -1 not in small else [-1.0, -1.0]
    return {"bodies": {"candidate": body[:, :20].reshape(-1, 2), "subset": subset[:, :20]},
            "hands": np.vstack([candidate[:, 92:113], candidate[:, 113:]]), "faces": candidate[:, 24:92]}


def unianimate_map(pose, H, W, with_face):
    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    canvas = plain_body(canvas, pose["bodies"]["candidate"], pose["bodies"]["subset"],
                        pairs=PAIRS + [[14, 19], [11, 20]], palette=PALETTE + [[170, 255, 255], [255, 255, 0]])
    canvas = plain_hands(canvas, pose["hands"])
    if with_face:
        canvas = plain_faces(canvas, pose["faces"])
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)  # what an RGB reader finds in the file cv2.imwrite wrote


def easy_dwpose_map(pose, H, W, include_face, include_hands):
    canvas = plain_body(np.zeros((H, W, 3), dtype=np.uint8), pose["bodies"], pose["body_scores"])
    if include_face:
        canvas = plain_faces(canvas, pose["faces"])
    if include_hands:
        canvas = plain_hands(canvas, pose["hands"])
    return canvas


def assert_all_styles_match_their_oracles(poses: Poses):
    W, H = poses.width, poses.height
    candidate, score = detector_input(poses)
    theirs = mimicmotion_map(mimicmotion_dict(candidate, score, W, H), H, W).transpose(1, 2, 0)
    assert np.array_equal(draw_poses(poses, style="mimicmotion"), theirs)
    for face in (False, True):
        theirs = musepose_map(musepose_dict(candidate, score, W, H), H, W, draw_face=face)
        assert np.array_equal(draw_poses(poses, style="musepose", include_face=face), theirs), face
        if len(poses):
            theirs = unianimate_map(unianimate_dict(candidate, score, W, H), H, W, with_face=face)
            assert np.array_equal(draw_poses(poses, style="unianimate", include_face=face), theirs), face
        for hands in (False, True):
            theirs = easy_dwpose_map(easy_dwpose_dict(candidate, score, W, H), H, W, face, hands)
            ours = draw_poses(poses, style="easy-dwpose", include_face=face, include_hand=hands)
            assert np.array_equal(ours, theirs), (face, hands)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3), st.sampled_from([(64, 48), (96, 128), (160, 90), (512, 768)]))
def test_random_poses_match_their_renderers(seed, n, size):
    assert_all_styles_match_their_oracles(random_poses(seed, n, *size))


def test_stand_in_model_poses_match_their_renderers(crowd_yolox, random_pose, crowd_image):
    poses = DWposeDetector(crowd_yolox, random_pose).detect(crowd_image)
    assert len(poses) == 6
    assert_all_styles_match_their_oracles(poses)
    assert_all_styles_match_their_oracles(poses.in_pixels_of(416, 312))


# ---- hand-derived facts ----

def make_poses(points: dict, n=1, width=2160, height=2160, scores=None):
    """Poses whose listed (person, index) points are at the given pixels with score 0.9 (or scores[...])."""
    keypoints = np.full((n, 134, 2), -1.0)
    score = np.zeros((n, 134), dtype=np.float32)
    for key, xy in points.items():
        keypoints[key] = xy
        score[key] = (scores or {}).get(key, 0.9)
    return Poses(keypoints, score, np.zeros((n, 4), np.float32), np.ones(n, np.float32), width, height)


def px(canvas, x, y):
    return tuple(int(v) for v in canvas[y, x])


def f32(value):
    return float(np.float32(value))


def swapped(rgb):
    return tuple(reversed(rgb))


def test_mimicmotion_shades_limbs_joints_hands_and_faces_by_score():
    # 2160 x 2160: MimicMotion's own canvas size, so its final resize changes nothing.
    s_neck, s_shoulder = 0.5, 0.8
    poses = make_poses({(0, 1): (1000, 1000), (0, 2): (1200, 1000), (0, 92): (400, 400), (0, 93): (500, 400),
                        (0, 24): (700, 700), (0, 25): (800, 800), (0, 113): (800, 800)},
                       scores={(0, 1): s_neck, (0, 2): s_shoulder, (0, 92): 0.5, (0, 93): 0.6, (0, 24): 0.6,
                               (0, 25): 0.6, (0, 113): 0.9})
    canvas = draw_poses(poses, style="mimicmotion")
    limb = int(int(255 * (f32(s_neck) * f32(s_shoulder))) * 0.6)  # int(c * s_a * s_b), then the 0.6 dimming
    assert px(canvas, 1100, 1000) == swapped((limb, 0, 0)) == (0, 0, 61)  # red and blue swapped
    assert px(canvas, 1100, 1003) == (0, 0, 61) and px(canvas, 1100, 1006) == (0, 0, 0)  # half-width 4
    assert px(canvas, 1000, 1000) == swapped((int(255 * f32(s_neck)), int(85 * f32(s_neck)), 0))
    assert px(canvas, 1200, 1003) == swapped((204, 136, 0))  # shoulder colour [255, 170, 0] * 0.8, radius 4
    # hand edge 0 (wrist -> thumb): HSV red times int(0.5 * 0.6 * 255); points (0, 0, int(s * 255))
    assert px(canvas, 450, 400) == swapped((int(f32(0.5) * f32(0.6) * 255), 0, 0)) == (0, 0, 76)
    assert px(canvas, 400, 400) == swapped((0, 0, 127)) and px(canvas, 500, 404) == swapped((0, 0, 153))
    # faces (after hands): grey int(0.6 * 255), radius 3, drawn over the right hand's point (radius 4)
    assert px(canvas, 700, 700) == (153, 153, 153) and px(canvas, 700, 703) == (153, 153, 153)
    assert px(canvas, 800, 803) == (153, 153, 153) and px(canvas, 800, 804) == swapped((0, 0, 229))


def test_mimicmotion_hides_body_points_only_and_a_low_hand_score_draws_a_dark_dot():
    poses = make_poses({(0, 1): (1000, 1000), (0, 2): (1200, 1000), (0, 5): (1000, 1200), (0, 92): (1100, 1000)},
                       scores={(0, 1): 0.9, (0, 2): 0.9, (0, 5): 0.29, (0, 92): 0.0})
    canvas = draw_poses(poses, style="mimicmotion")
    assert px(canvas, 1000, 1204) == (0, 0, 0) and px(canvas, 1000, 1100) == (0, 0, 0)  # 0.29: no joint or limb
    assert px(canvas, 1100, 1000) == (0, 0, 0)    # the score-0 hand point, drawn black over the limb
    assert px(canvas, 1105, 1000) != (0, 0, 0)    # the limb around that dot of radius 4
    # the threshold option hides body points only; hands and faces have no threshold in MimicMotion
    strict = draw_poses(poses, style="mimicmotion", threshold=0.95)
    assert px(strict, 1150, 1000) == (0, 0, 0) and not draw_poses(poses.subset([]), style="mimicmotion").any()


def test_mimicmotion_draws_on_a_2160_short_side_canvas_and_resizes_linearly():
    # int(H * (2160 / min(H, W))): 535 * (2160 / 535) is 2159.9999999999995 in floating point
    options = PoseMapOptions(style="mimicmotion")
    assert mimicmotion_canvas(Poses.empty(535, 535), options, 4).shape == (2159, 2159, 3)
    assert mimicmotion_canvas(Poses.empty(512, 768), options, 4).shape == (3240, 2160, 3)
    assert mimicmotion_canvas(Poses.empty(4320, 2160), options, 4).shape == (2160, 4320, 3)
    # A 512 x 768 map is the 2160 x 3240 map (same normalised points: 2160 / 512 = 4.21875 exactly) resized
    # with INTER_LINEAR.
    rng = np.random.default_rng(0)
    small = make_poses({(0, i): tuple(rng.integers(0, [512, 768])) for i in list(range(18)) + list(range(24, 134))},
                       width=512, height=768)
    big = small.in_pixels_of(2160, 3240)
    assert np.array_equal(small.normalized(), big.normalized())
    expected = cv2.resize(draw_poses(big, style="mimicmotion"), (512, 768), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(draw_poses(small, style="mimicmotion"), expected)


def test_musepose_widths_radius_and_first_person_only():
    assert [musepose_width(d) for d in (0, 4.99, 5, 19.9, 20, 100, 319.9, 320, 5000)] == [1, 1, 2, 3, 4, 6, 7, 8, 8]
    poses = make_poses({(0, 1): (100, 100), (0, 2): (200, 100), (0, 92): (100, 300), (0, 93): (150, 300),
                        (1, 1): (100, 400), (1, 2): (200, 400)}, n=2, width=320, height=480)
    canvas = draw_poses(poses, style="musepose")
    dim_red = swapped((153, 0, 0))
    assert px(canvas, 150, 106) == dim_red and px(canvas, 150, 108) == (0, 0, 0)  # length 100: half-width 6
    assert px(draw_poses(poses), 150, 106) == (0, 0, 0)                           # the reference: 4
    assert px(canvas, 150, 400) == (0, 0, 0) and px(draw_poses(poses), 150, 400) == (153, 0, 0)  # person 0 only
    # the hand edge of length 50 is 5 px thick (2 in the reference); hand points have radius 3 (4 there)
    assert px(canvas, 125, 302) == swapped((255, 0, 0)) and px(draw_poses(poses), 125, 302) == (0, 0, 0)
    assert px(canvas, 100, 297) == swapped((0, 0, 255)) and px(canvas, 100, 296) == (0, 0, 0)
    assert px(draw_poses(poses), 100, 296) == (0, 0, 255)


def test_musepose_takes_the_first_two_stacked_hands():
    # hands[:2] of [left hands..., right hands...]: with two persons, both left hands and no right hand
    poses = make_poses({(0, 92): (50, 50), (0, 113): (100, 50), (1, 92): (50, 100), (1, 113): (100, 100)}, n=2,
                       width=160, height=160)
    canvas = draw_poses(poses, style="musepose")
    point = swapped((0, 0, 255))
    assert px(canvas, 50, 50) == point and px(canvas, 50, 100) == point
    assert px(canvas, 100, 50) == (0, 0, 0) and px(canvas, 100, 100) == (0, 0, 0)
    assert px(draw_poses(poses.subset([0]), style="musepose"), 100, 50) == point  # one person: both its hands


def test_unianimate_adds_the_toes_to_the_first_persons_body():
    points = {(0, 13): (110, 150), (0, 18): (100, 200), (0, 19): (120, 210), (0, 10): (300, 150),
              (0, 21): (300, 200), (0, 22): (320, 200), (1, 1): (200, 50), (1, 2): (250, 50)}
    poses = make_poses(points, n=2, width=400, height=300, scores={(0, 22): 0.29})
    canvas = draw_poses(poses, style="unianimate")
    assert px(canvas, 110, 205) == swapped((170, 255, 255))          # left toes' mean, colour 18
    assert px(canvas, 110, 177) == swapped((153, 0, 51))             # ankle -> toes, limb 17 [255, 0, 85] * 0.6
    assert px(canvas, 310, 200) == (0, 0, 0) and px(canvas, 300, 175) == (0, 0, 0)  # a right toe at 0.29
    assert px(canvas, 300, 150) == swapped((0, 170, 255))            # the right ankle joint, colour 10
    assert px(canvas, 225, 50) == (0, 0, 0)                          # person 1 is not drawn
    poses.scores[0, 22] = 0.9
    assert px(draw_poses(poses, style="unianimate"), 310, 200) == swapped((255, 255, 0))  # colour 19


def test_unianimate_without_toes_is_the_reference_with_red_and_blue_swapped():
    rng = np.random.default_rng(2)
    index = list(range(18)) + list(range(24, 134))
    poses = make_poses({(0, i): tuple(rng.uniform(0, [320, 240])) for i in index}, width=320, height=240)
    poses.scores[0, index] = rng.choice(np.float32([0.1, 0.5, 0.9]), len(index))
    assert np.array_equal(draw_poses(poses, style="unianimate"), draw_poses(poses)[..., ::-1])


def test_easy_dwpose_draws_faces_before_hands_and_hides_no_hand_or_face_point():
    poses = make_poses({(0, 24): (60, 60), (0, 92): (60, 60), (0, 93): (100, 60), (0, 25): (30, 100)}, width=160,
                       height=160, scores={(0, 93): 0.0, (0, 25): 0.1})
    easy, reference = draw_poses(poses, style="easy-dwpose"), draw_poses(poses)
    assert px(easy, 60, 60) == (0, 0, 255) and px(reference, 60, 60) == (255, 255, 255)  # hands over faces
    assert px(easy, 100, 60) == (0, 0, 255) and px(reference, 100, 60) == (0, 0, 0)      # the score-0 point
    assert px(easy, 30, 100) == (255, 255, 255) and px(reference, 30, 100) == (0, 0, 0)  # the 0.1 face point
    assert px(easy, 80, 60) == (255, 0, 0)  # the edge between them, drawn too (red and blue not swapped)


def test_the_styles_are_listed_and_options_reach_them():
    assert STYLES == ("controlnet", "sd-webui-controlnet", "mimicmotion", "musepose", "unianimate", "easy-dwpose",
                      "vace", "wan-animate")
    poses = make_poses({(0, 1): (100, 120), (0, 2): (200, 120), (0, 24): (30, 30), (0, 92): (250, 200)},
                       width=320, height=240)
    for style in STYLES[2:]:
        assert draw_poses(poses, style=style).shape == (240, 320, 3)
        assert not draw_poses(poses, style=style, include_body=False, include_hand=False, include_face=False).any()
        # feet are not drawn by these renderers: include_foot changes nothing
        assert np.array_equal(draw_poses(poses, style=style), draw_poses(poses, style=style, include_foot=True))
    assert not np.array_equal(draw_poses(poses, style="mimicmotion"), draw_poses(poses, style="mimicmotion", stick_width=8))


@pytest.mark.parametrize("style", STYLES[2:])
@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e300])
def test_non_finite_coordinates_and_scores_do_not_crash(style, bad):
    poses = random_poses(1, 2, 64, 48)
    poses.exact_keypoints[0, ::3] = bad
    with np.errstate(over="ignore"):  # 1e300 becomes inf in the float32 scores
        poses.scores[1, ::5] = bad
    canvas = draw_poses(Poses(poses.exact_keypoints, poses.scores, poses.boxes, poses.box_scores, 64, 48), style=style)
    assert canvas.shape == (48, 64, 3) and canvas.dtype == np.uint8
