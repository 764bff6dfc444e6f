"""The "vace" and "wan-animate" styles, and UniAnimate-DiT's map (the "unianimate" style).

Oracles: my own plain-loop transcriptions of each source's drawing, fed the same keypoints, compared pixel for
pixel with draw_poses on random poses (several people, hidden points, points off the canvas), on poses from the
stand-in models and on hand-made poses. What each follows:

* vace_map: ali-vilab/VACE @ 48eb44f (2025-10-17), vace/annotators/pose.py PoseAnnotator.process (after its
  Wholebody; the keypoints divided by the drawing canvas's W and H, which is what our relative coordinates are;
  score = subset[:, :18] a view, so the body entries become indices or -1 in subset itself; then
  candidate[subset < 0.3] = -1; hands = every left hand then every right hand) and draw_pose(use_body,
  use_hand, use_face): body, then hands, then faces; vace/annotators/dwpose/util.py draw_bodypose (17 limbs,
  half-width 4, ellipse2Poly + fillConvexPoly, canvas * 0.6 as uint8, joints radius 4 where the subset entry is
  not -1), draw_handpose (lines of thickness 2 in matplotlib hsv_to_rgb([e / 20, 1, 1]) * 255 where the four
  int pixel coordinates are > 0.01, points radius 4 (0, 0, 255)), draw_facepose (radius 3, white). The canvas is
  dwpose/wholebody.py resize_image(input, 1024): k = 1024 / min(H, W), sides int(np.round(side * k / 64)) * 64.
  The map is cv2.resize(canvas[..., ::-1], (ori_w, ori_h), INTER_LANCZOS4 if ori_h * ori_w > H * W else
  INTER_AREA). Its callers save that array as RGB (vace/annotators/utils.py save_one_video: imageio;
  vace/vace_preproccess.py save_one_image(use_type='pil')), so the file's RGB is the flipped canvas.
  Presets: PoseBodyFaceAnnotator / PoseBodyFaceVideoAnnotator (vace/configs/*_preproccess.py "pose") use
  body + face; PoseBodyAnnotator body only; PoseAnnotator's detected_map_handbodyface all three.
* wan_map: Wan-Video/Wan2.2 @ 42bf4cf (2026-03-17), wan/modules/animate/preprocess/pose2d_utils.py
  load_pose_metas_from_kp2ds_seq (keypoints divided by width and height) and split_kp2ds_for_aa (body point i
  = (kp[A[i]] + kp[B[i]]) / 2 on x, y and score, A = [0, 6, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4,
  3, 17, 20], B = [0, 5, 6, 8, ..., 3, 18, 21]; hands kp[91:112], kp[112:133]), AAPoseMeta.from_humanapi_meta
  (coordinates times (width, height)), human_visualization.py draw_aapose_by_meta_new (threshold 0.5,
  stickwidth_type 'v2', draw_hand and draw_head True) -> draw_aapose_new (19 limbs: OpenPose's 17, [14, 19],
  [11, 20]; 20 colours, the last two [200, 200, 0] and [100, 100, 0]; a limb is skipped when either score
  < threshold, else an ellipse of half-width max(int(min(H, W) / 200) - 1, 1) filled in int(float(c) * 0.6);
  then each joint whose score is not < threshold a disc of that radius at (int(x), int(y)); draw_head=False
  zeroes the scores of points 0, 14-17) and draw_handpose_new (width max(max(int(min(H, W) / 200) - 1, 1) // 2,
  1) for lines and point discs; edges where both scores are >= threshold and the int pixel coordinates > 0.01;
  points (0, 0, 255)). process_pipepline.py draws on np.zeros_like(frame) and writes the frames with moviepy as
  RGB: no channel swap. Wan draws one person (its pose2d keeps one); each person is drawn in turn here.
  Keypoints are fed to wan_map as Wan's ViTPose gives them, float32 (133, 3) arrays (our exact coordinates
  cast to float32), divided by W and H in float32 (the other oracles take float64).
* UniAnimate-DiT: ali-vilab/UniAnimate-DiT @ 884ac92 dwpose/util.py, wholebody.py, onnxdet.py, onnxpose.py and
  __init__.py are the same git blobs as ali-vilab/UniAnimate @ 643c963's (2f83229..., 05bbe0b..., 15ae797...,
  79cd4a0..., e69de29...), and its run_align_pose.py DWposeDetector.__call__ and draw_pose are UniAnimate's
  lines (the file differs only in a commented-out oss2 import, an unused draw_pose of the reference and the name
  pose.jpg for ref_pose.jpg). So test_video_model_styles.py's unianimate oracle is UniAnimate-DiT's too; the
  test below checks the map facts that follow.
The sources ran on OpenCV 4: thick lines are drawn as OpenCV 4 does (annotator/dwpose/opencv4.py).
"""

import functools
import math

import cv2
import matplotlib.colors
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pose_dict import random_poses
from test_video_model_styles import make_poses, px

from annotator.dwpose import DWposeDetector, PoseMapOptions, Poses, draw_pose_map, draw_poses, opencv4
from annotator.dwpose.render import STYLES
from annotator.dwpose.render.vace import canvas_size
from annotator.dwpose.skeleton import COCO_INDEX

LIMB_PAIRS = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
              [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]
PALETTE = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
           [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
           [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]
HAND_LINKS = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11],
              [11, 12], [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]
EPS = 0.01


def hand_color(edge):
    return matplotlib.colors.hsv_to_rgb([edge / float(len(HAND_LINKS)), 1.0, 1.0]) * 255


def ellipse(canvas, x_pair, y_pair, half_width, color):
    """A limb between two pixel positions as both sources fill it (centre of the means, axes length / 2 and
    half_width, angle of atan2(dy, dx), all truncated by int())."""
    length = ((y_pair[0] - y_pair[1]) ** 2 + (x_pair[0] - x_pair[1]) ** 2) ** 0.5
    angle = math.degrees(math.atan2(y_pair[0] - y_pair[1], x_pair[0] - x_pair[1]))
    polygon = cv2.ellipse2Poly((int(np.mean(x_pair)), int(np.mean(y_pair))), (int(length / 2), half_width),
                               int(angle), 0, 360, 1)
    cv2.fillConvexPoly(canvas, polygon, color)


# ---- VACE ----

def vace_resize_shape(h, w, resolution=1024):
    k = float(resolution) / min(float(h), float(w))
    return int(np.round(float(h) * k / 64.0)) * 64, int(np.round(float(w) * k / 64.0)) * 64


def vace_map(candidate, subset, ori_h, ori_w, use_body=True, use_hand=True, use_face=True, half_width=4):
    """PoseAnnotator.process + draw_pose on (N, 134, 2) relative coordinates and (N, 134) scores."""
    H, W = vace_resize_shape(ori_h, ori_w)
    candidate, subset = candidate.copy(), subset.copy()
    n_people = len(candidate)
    body = candidate[:, :18].copy().reshape(n_people * 18, 2)
    index = subset[:, :18]  # a view into subset, as VACE's `score`
    for i in range(len(index)):
        for j in range(18):
            index[i][j] = int(18 * i + j) if index[i][j] > 0.3 else -1
    candidate[subset < 0.3] = -1
    faces = candidate[:, 24:92]
    hands = np.vstack([candidate[:, 92:113], candidate[:, 113:]])
    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    if use_body:
        for limb, (a, b) in enumerate(LIMB_PAIRS):
            for row in index:
                ends = row[[a - 1, b - 1]]
                if -1 in ends:
                    continue
                rows = ends.astype(int)
                ellipse(canvas, body[rows, 0] * float(W), body[rows, 1] * float(H), half_width, PALETTE[limb])
        canvas = (canvas * 0.6).astype(np.uint8)
        for joint in range(18):
            for row in index:
                if int(row[joint]) == -1:
                    continue
                x, y = body[int(row[joint])]
                cv2.circle(canvas, (int(x * W), int(y * H)), 4, PALETTE[joint], thickness=-1)
    if use_hand:
        for peaks in hands:
            for edge, (i, j) in enumerate(HAND_LINKS):
                x1, y1 = int(peaks[i][0] * W), int(peaks[i][1] * H)
                x2, y2 = int(peaks[j][0] * W), int(peaks[j][1] * H)
                if x1 > EPS and y1 > EPS and x2 > EPS and y2 > EPS:
                    opencv4.line(canvas, (x1, y1), (x2, y2), hand_color(edge), thickness=2)
            for x, y in peaks:
                x, y = int(x * W), int(y * H)
                if x > EPS and y > EPS:
                    cv2.circle(canvas, (x, y), 4, (0, 0, 255), thickness=-1)
    if use_face:
        for face in faces:
            for x, y in face:
                x, y = int(x * W), int(y * H)
                if x > EPS and y > EPS:
                    cv2.circle(canvas, (x, y), 3, (255, 255, 255), thickness=-1)
    interpolation = cv2.INTER_LANCZOS4 if ori_h * ori_w > H * W else cv2.INTER_AREA
    return cv2.resize(canvas[..., ::-1], (ori_w, ori_h), interpolation=interpolation)


# ---- Wan 2.2 Animate ----

WAN_A = [0, 6, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, 17, 20]
WAN_B = [0, 5, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, 18, 21]
WAN_LIMBS = LIMB_PAIRS + [[14, 19], [11, 20]]
WAN_COLORS = PALETTE + [[200, 200, 0], [100, 100, 0]]


def coco_wholebody(poses: Poses, person: int) -> np.ndarray:
    """(133, 3) float32 COCO-WholeBody x / W, y / H, score of one person (the project's layout map; no neck),
    as load_pose_metas_from_kp2ds_seq makes them from float32 pixels."""
    kp = np.zeros((133, 3), np.float32)
    pixels, scores = poses.exact_keypoints[person], poses.scores[person]
    for ours, coco in enumerate(COCO_INDEX):
        if coco >= 0:
            kp[coco] = [pixels[ours, 0], pixels[ours, 1], scores[ours]]
    with np.errstate(over="ignore", invalid="ignore"):
        kp[:, 0] /= poses.width
        kp[:, 1] /= poses.height
    return kp


def wan_meta(kp, width, height):
    """split_kp2ds_for_aa, then from_humanapi_meta: pixel coordinates and scores of body and hands."""
    body = (kp[WAN_A] + kp[WAN_B]) / 2
    lhand, rhand = kp[91:112].copy(), kp[112:133].copy()
    meta = {}
    for name, part in (("body", body), ("lhand", lhand), ("rhand", rhand)):
        meta[name] = np.concatenate([part[:, :2] * (width, height), part[:, 2:3]], axis=1)
    return meta


def wan_draw(img, meta, threshold=0.5, draw_hand=True, draw_head=True, body_on=True):
    """draw_aapose_new ('v2') with draw_handpose_new, on one person's meta."""
    H, W = img.shape[:2]
    kp = meta["body"].copy()
    if not draw_head:
        kp[[0, 14, 15, 16, 17], 2] = 0
    if not body_on:
        kp[:, 2] = 0  # as draw_hand_by_meta does
    stick = max(int(min(H, W) / 200) - 1, 1)
    for (a, b), color in zip(WAN_LIMBS, WAN_COLORS):
        p, q = kp[a - 1], kp[b - 1]
        if p[-1] < threshold or q[-1] < threshold:
            continue
        ellipse(img, np.array([p[0], q[0]]), np.array([p[1], q[1]]), stick, [int(float(c) * 0.6) for c in color])
    for point, color in zip(kp, WAN_COLORS):
        if point[-1] < threshold:
            continue
        cv2.circle(img, (int(point[0]), int(point[1])), stick, color, thickness=-1)
    if draw_hand:
        hand_width = max(max(int(min(H, W) / 200) - 1, 1) // 2, 1)
        for hand in (meta["lhand"], meta["rhand"]):
            for edge, (i, j) in enumerate(HAND_LINKS):
                if hand[i][2] < threshold or hand[j][2] < threshold:
                    continue
                x1, y1, x2, y2 = int(hand[i][0]), int(hand[i][1]), int(hand[j][0]), int(hand[j][1])
                if x1 > EPS and y1 > EPS and x2 > EPS and y2 > EPS:
                    opencv4.line(img, (x1, y1), (x2, y2), hand_color(edge), thickness=hand_width)
            for x, y, score in hand:
                if score < threshold:
                    continue
                x, y = int(x), int(y)
                if x > EPS and y > EPS:
                    cv2.circle(img, (x, y), hand_width, (0, 0, 255), thickness=-1)
    return img


def wan_map(poses: Poses, **switches):
    canvas = np.zeros((poses.height, poses.width, 3), dtype=np.uint8)
    for person in range(len(poses)):
        canvas = wan_draw(canvas, wan_meta(coco_wholebody(poses, person), poses.width, poses.height), **switches)
    return canvas


# ---- the oracles against draw_poses ----

VACE_PRESETS = [  # (use_body, use_hand, use_face): VACE's maps
    (True, True, True),    # PoseAnnotator detected_map_handbodyface
    (True, False, True),   # PoseBodyFaceAnnotator: its "pose" task
    (True, False, False),  # PoseBodyAnnotator
    (False, False, True),  # detected_map_face
]
WAN_SWITCHES = [(True, True, True), (True, False, True), (True, True, False), (False, True, True)]


def assert_matches_sources(poses: Poses):
    candidate, subset = poses.relative(), poses.scores.astype(np.float64)
    for body, hand, face in VACE_PRESETS:
        theirs = vace_map(candidate, subset, poses.height, poses.width, body, hand, face)
        ours = draw_poses(poses, style="vace", include_body=body, include_hand=hand, include_face=face)
        assert np.array_equal(ours, theirs), ("vace", body, hand, face)
    for body, hand, face in WAN_SWITCHES:
        theirs = wan_map(poses, draw_hand=hand, draw_head=face, body_on=body)
        ours = draw_poses(poses, style="wan-animate", include_body=body, include_hand=hand, include_face=face)
        assert np.array_equal(ours, theirs), ("wan-animate", body, hand, face)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3),
       st.sampled_from([(64, 48), (96, 128), (160, 90), (512, 768), (1280, 720), (1920, 1080)]))
def test_random_poses_match_their_sources(seed, n, size):
    assert_matches_sources(random_poses(seed, n, *size))


def test_stand_in_model_poses_match_their_sources(crowd_yolox, random_pose, crowd_image):
    poses = DWposeDetector(crowd_yolox, random_pose).detect(crowd_image)
    assert len(poses) == 6
    assert_matches_sources(poses)
    assert_matches_sources(poses.in_pixels_of(1024, 1536))


# ---- hand-made poses ----

make_poses = functools.partial(make_poses, width=1024, height=1024)  # VACE's canvas at 1024 is the input's


def swapped(rgb):
    return tuple(reversed(rgb))


def test_vace_canvas_is_its_resize_image_size():
    assert canvas_size(1024, 1024) == (1024, 1024)
    assert canvas_size(768, 512) == (1536, 1024)
    assert canvas_size(720, 1280) == (1024, 1792)  # 1280 * 1024 / 720 = 1820.4: 28.4 sixty-fours, rounded to 28
    assert canvas_size(48, 64) == (1024, 1344)
    for h, w in ((720, 1280), (333, 535), (1, 1), (1080, 1920)):
        assert canvas_size(h, w) == vace_resize_shape(h, w)


def test_vace_at_1024_is_the_reference_with_red_and_blue_swapped():
    # VACE's canvas is the input itself at 1024 x 1024 (INTER_AREA to the same size copies it).
    rng = np.random.default_rng(4)
    index = list(range(18)) + list(range(24, 134))
    poses = make_poses({(p, i): tuple(rng.uniform(0, 1024, 2)) for p in range(2) for i in index}, n=2)
    poses.scores[:, index] = rng.choice(np.float32([0.1, 0.3, 0.5, 0.9]), (2, len(index)))
    vace = draw_poses(poses, style="vace")
    assert np.array_equal(vace, draw_poses(poses)[..., ::-1])
    limb = make_poses({(0, 1): (400, 500), (0, 2): (600, 500)})  # neck -> right shoulder, limb 0 red
    canvas = draw_poses(limb, style="vace")
    assert px(canvas, 500, 504) == swapped((153, 0, 0)) and px(canvas, 500, 506) == (0, 0, 0)  # half-width 4
    assert px(canvas, 400, 500) == swapped((255, 85, 0))  # the neck joint


def test_vace_draws_on_its_canvas_then_resizes_back():
    # 512 x 512: drawn at 1024 x 1024 (the same relative points: x 2 is exact), then INTER_AREA down.
    rng = np.random.default_rng(5)
    index = list(range(18)) + list(range(92, 134))
    small = make_poses({(0, i): tuple(rng.uniform(0, 512, 2)) for i in index}, width=512, height=512)
    big = small.in_pixels_of(1024, 1024)
    assert np.array_equal(small.relative(), big.relative())
    down = cv2.resize(draw_poses(big, style="vace"), (512, 512), interpolation=cv2.INTER_AREA)
    assert np.array_equal(draw_poses(small, style="vace"), down)
    # 2048 x 2048: larger than its canvas, so INTER_LANCZOS4 up.
    large = small.in_pixels_of(2048, 2048)
    up = cv2.resize(draw_poses(big, style="vace"), (2048, 2048), interpolation=cv2.INTER_LANCZOS4)
    assert np.array_equal(draw_poses(large, style="vace"), up)


def test_vace_switches_are_its_presets():
    poses = make_poses({(0, 1): (400, 500), (0, 2): (600, 500), (0, 24): (100, 100), (0, 92): (800, 800),
                        (0, 93): (900, 800), (0, 18): (300, 900), (0, 20): (400, 900)})
    full = draw_poses(poses, style="vace")
    body_face = draw_poses(poses, style="vace", include_hand=False)  # PoseBodyFaceAnnotator, its "pose" task
    body = draw_poses(poses, style="vace", include_hand=False, include_face=False)  # PoseBodyAnnotator
    assert px(full, 850, 800) == swapped((255, 0, 0)) and px(body_face, 850, 800) == (0, 0, 0)
    assert px(body_face, 100, 100) == (255, 255, 255) and px(body, 100, 100) == (0, 0, 0)
    assert px(body, 500, 500) == swapped((153, 0, 0))
    assert not draw_poses(poses, style="vace", include_body=False, include_hand=False, include_face=False).any()
    assert np.array_equal(draw_poses(poses, style="vace", include_foot=True), full)  # VACE draws no feet
    thick = draw_poses(poses, style="vace", stick_width=8)
    assert px(thick, 500, 507) == swapped((153, 0, 0)) and px(full, 500, 507) == (0, 0, 0)
    poses.scores[0, 2] = 0.5  # body points need a score above the threshold
    assert px(draw_poses(poses, style="vace", threshold=0.5), 500, 500) == (0, 0, 0)
    assert px(draw_poses(poses, style="vace", threshold=0.49), 500, 500) == swapped((153, 0, 0))


def wan_person(width=1920, height=1080, extra=None):
    """A standing person: shoulders, elbows, hips, knees, ankles, head points, toes."""
    points = {2: (900, 300), 5: (1000, 300), 3: (880, 400), 6: (1020, 400), 8: (920, 550), 11: (980, 550),
              9: (920, 700), 12: (980, 700), 10: (920, 850), 13: (980, 850), 0: (950, 200), 14: (940, 190),
              15: (960, 190), 16: (930, 195), 17: (970, 195), 18: (990, 900), 19: (1010, 900), 21: (900, 900),
              22: (880, 900)}
    points.update(extra or {})
    return make_poses({(0, i): xy for i, xy in points.items()}, width=width, height=height)


def test_wan_body_widths_colours_and_toes():
    # 1920 x 1080: limbs and joints max(int(1080 / 200) - 1, 1) = 4. Colours as drawn (not swapped).
    poses = wan_person()
    canvas = draw_poses(poses, style="wan-animate")
    # the neck: the shoulders' mean (950, 300), joint colour 1 [255, 85, 0], radius 4, over the limbs; Wan's
    # float32 950 / 1920 times 1920 is 949.99998: the disc is centred on x = 949
    assert px(canvas, 949, 300) == (255, 85, 0) and px(canvas, 953, 300) == (255, 85, 0)
    assert px(canvas, 954, 300) == (153, 51, 0)  # neck -> left shoulder, limb 1: int(85 * 0.6) = 51
    # neck -> right shoulder, limb 0: int(255 * 0.6) = 153 on the limb itself (no canvas dimming), half-width 4
    assert px(canvas, 925, 304) == (153, 0, 0) and px(canvas, 925, 305) == (0, 0, 0)
    # left toe: the mean (1000, 900) of the left big and small toe, joint colour 18 [200, 200, 0]
    assert px(canvas, 1000, 900) == (200, 200, 0)
    # left ankle (980, 850) -> left toe: limb 17, colour [255, 0, 85] * 0.6
    assert px(canvas, 990, 875) == (153, 0, 51)
    # right ankle (920, 850) -> right toe (890, 900): limb 18, [200, 200, 0] * 0.6; the right toe [100, 100, 0]
    assert px(canvas, 905, 875) == (120, 120, 0) and px(canvas, 890, 900) == (100, 100, 0)
    # the toes themselves are not drawn, nor any face point; the Poses' own neck point is not used
    assert px(canvas, 990, 900) == (0, 0, 0) and px(canvas, 1010, 900) == (0, 0, 0)
    with_face = wan_person(extra={24: (950, 100), 1: (700, 700)})
    assert np.array_equal(draw_poses(with_face, style="wan-animate"), canvas)


def test_wan_widths_follow_the_canvas():
    # max(int(min(H, W) / 200) - 1, 1): the half-width of limb 0 (neck -> right shoulder, horizontal)
    for (width, height), half_width in {(320, 240): 1, (512, 512): 1, (1280, 720): 2, (1920, 1080): 4,
                                        (3840, 2160): 9}.items():
        y = height // 2
        poses = make_poses({(0, 2): (width // 4, y), (0, 5): (3 * width // 4, y)}, width=width, height=height)
        column = draw_poses(poses, style="wan-animate")[:, 3 * width // 8]
        rows = np.nonzero((column == (153, 0, 0)).all(axis=1))[0]
        assert (rows.min(), rows.max()) == (y - half_width, y + half_width), (width, height)


def test_wan_threshold_and_neck_score():
    # shown at score >= 0.5; the neck's score is the shoulders' mean
    poses = wan_person(width=1280, height=720)
    poses.scores[0, 5] = 0.2   # left shoulder hidden: neck score (0.9 + 0.2) / 2 = 0.55, shown
    canvas = draw_poses(poses, style="wan-animate")
    assert px(canvas, 950, 300) == (255, 85, 0) and px(canvas, 1000, 300) == (0, 0, 0)
    assert px(canvas, 975, 300) == (0, 0, 0)  # neck -> left shoulder not drawn
    assert px(canvas, 925, 300) == (153, 0, 0)  # neck -> right shoulder drawn
    poses.scores[0, 2] = np.float32(0.09)  # (0.09 + 0.2) / 2 < 0.5: no neck
    assert px(draw_poses(poses, style="wan-animate"), 950, 300) == (0, 0, 0)
    poses.scores[0, 2], poses.scores[0, 5] = 0.5, 0.5
    assert px(draw_poses(poses, style="wan-animate"), 950, 300) == (255, 85, 0)
    poses.scores[0, 5] = np.float32(0.49)  # the left shoulder itself: < 0.5, hidden (shown at 0.3 elsewhere)
    assert px(draw_poses(poses, style="wan-animate"), 1000, 300) == (0, 0, 0)
    assert px(draw_poses(poses, style="controlnet"), 1000, 300) == (85, 255, 0)  # joint 5 at 0.3
    # the threshold option is not used: Wan's 0.5 stays
    assert np.array_equal(draw_poses(poses, style="wan-animate", threshold=0.1), draw_poses(poses, style="wan-animate"))


def test_wan_hands_are_thinner_and_people_are_drawn_in_turn():
    # 1920 x 1080: hand lines and points of width / radius 2. Person 1's limb crosses person 0's hand edge.
    hand = {(0, 92): (300, 500), (0, 93): (500, 500), (1, 2): (400, 400), (1, 5): (400, 600)}
    poses = make_poses(hand, n=2, width=1920, height=1080)
    canvas = draw_poses(poses, style="wan-animate")
    assert px(canvas, 350, 500) == (255, 0, 0) and px(canvas, 350, 502) == (0, 0, 0)  # hand edge 0, width 2
    # hand point, radius 2, at (300, 499): Wan's float32 500 / 1080 times 1080 is 499.99999
    assert px(canvas, 300, 501) == (0, 0, 255) and px(canvas, 300, 502) == (0, 0, 0)
    # the shoulders' neck (400, 500) of person 1 comes later: its joint covers person 0's hand edge
    assert px(canvas, 400, 500) == (255, 85, 0)
    assert px(draw_poses(poses.subset([0]), style="wan-animate"), 400, 500) == (255, 0, 0)


def test_wan_switches():
    poses = wan_person(extra={92: (600, 600), 93: (700, 600)})
    full = draw_poses(poses, style="wan-animate")
    assert px(full, 650, 600) == (255, 0, 0)
    no_hand = draw_poses(poses, style="wan-animate", include_hand=False)
    assert px(no_hand, 650, 600) == (0, 0, 0) and px(no_hand, 950, 300) == (255, 85, 0)
    no_head = draw_poses(poses, style="wan-animate", include_face=False)  # draw_head=False: nose, eyes, ears
    assert px(full, 950, 200) == (255, 0, 0) and px(no_head, 950, 200) == (0, 0, 0)  # the nose, joint 0
    assert px(no_head, 950, 300) == (255, 85, 0)
    no_body = draw_poses(poses, style="wan-animate", include_body=False)
    assert px(no_body, 950, 300) == (0, 0, 0) and px(no_body, 650, 600) == (255, 0, 0)
    for same in ({"include_foot": True}, {"stick_width": 9}, {"stick_rule": "xinsir"}, {"threshold": 0.8}):
        assert np.array_equal(draw_poses(poses, style="wan-animate", **same), full), same


def test_unianimate_dit_map_is_unianimate_at_512_by_768():
    # run_align_pose.py draw_pose(pose, H=768, W=512) in both repositories: the map at 512 x 768, first person,
    # toes, red and blue swapped (cv2.imwrite of the RGB-drawn canvas).
    poses = wan_person(width=1920, height=1080)
    dit = draw_pose_map(poses, 768, 512, style="unianimate", draw_at_output_size=True)
    assert dit.shape == (768, 512, 3)
    toe = (int(1000 / 1920 * 512), int(900 / 1080 * 768))
    assert px(dit, *toe) == swapped((170, 255, 255))  # UniAnimate's left-toe colour


def test_styles_are_registered():
    assert STYLES[-2:] == ("vace", "wan-animate")
    assert PoseMapOptions(style="vace").style == "vace" and PoseMapOptions(style="wan-animate").style == "wan-animate"
    for style in ("vace", "wan-animate"):
        assert not draw_poses(Poses.empty(320, 240), style=style).any()


@pytest.mark.parametrize("style", ["vace", "wan-animate"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e300])
def test_non_finite_coordinates_and_scores_do_not_crash(style, bad):
    poses = random_poses(1, 2, 64, 48)
    poses.exact_keypoints[0, ::3] = bad
    with np.errstate(over="ignore"):
        poses.scores[1, ::5] = bad
    canvas = draw_poses(Poses(poses.exact_keypoints, poses.scores, poses.boxes, poses.box_scores, 64, 48), style=style)
    assert canvas.shape == (48, 64, 3) and canvas.dtype == np.uint8
