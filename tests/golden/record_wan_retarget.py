"""Record Wan 2.2 Animate's pose retargeting as a golden: tests/golden/wan_retarget.npz, which
tests/test_wan_retarget.py holds annotator/dwpose/wan_retarget.py's retarget_wan_poses to, bit for bit.

What it runs: the official get_retarget_pose(tpl_pose_meta0, refer_pose_meta, tpl_pose_metas, None, None) (the
no-FLUX path, as process_pipepline.py calls it with retarget_flag=True, use_flux=False) of Wan-Video/Wan2.2 at
commit 42bf4cfaa384bc21833865abc2f9e6c0e67233dc, wan/modules/animate/preprocess/retarget_pose.py (which imports
pose2d_utils.py for AAPoseMeta). Nothing of it is in this repository: point WAN_PREPROCESS_DIR at a folder holding
those two files. The metas are what load_pose_metas_from_kp2ds_seq builds: float32 arrays of relative coordinates
(keypoints_face is zeros here: retargeting does not read it), a fresh dict per meta as the pipeline has them.

The cases (fixed seeds; `cases()` lists them): plausible skeletons drawn from a random generator in pixels of
their canvas, then divided by its size in float32 as the meta does (the neck the float32 mean of the shoulders,
each toe the mean of two toe points): standing full bodies, three-quarter bodies (legs below the frame, or ankles
scoring < 0.4), half bodies (hips below the frame or scoring < 0.4), hands scoring high, low (< 0.4), mixed, with a
dropped root, swapped (each hand at the other wrist); scores exactly at and one float32 step around the thresholds
0.4 (body kind, hands) and 0.5 (scale rules), an ankle at y = 1 and one step above, scores around 0.75; driving
videos 1280x720, 720x1280, 832x480, 1024x576 and references 832x480, 480x832, 720x1280, 1280x720, 1024x1024,
1248x704; 1 to 6 frames that move (arms, legs, position, scores), the template mostly the first frame's meta and
sometimes a separate detection of it. A few degenerate cases make the official raise or return non-finite points;
for those the file holds the inputs and what the official did (case_official), not outputs.

Arrays: pose_size (P, 2) int32 (width, height), pose_body (P, 20, 3), pose_left_hand, pose_right_hand (P, 21, 3)
float32. Per case c: case_name, case_template, case_reference (pose indices), case_frames_start,
case_frames_count (the frames are poses start .. start + count - 1), case_official ("ok", "raised <error>" or
"non-finite": returned inf or NaN points). Outputs of the "ok" cases, frame by frame in case order: out_size
(F, 2), out_body (F, 20, 3), out_left_hand, out_right_hand (F, 21, 3) float64 (x, y in pixels, score; NaN where
the official has None), with case_out_start (-1 for the others). Also numpy_version (what recorded it).

How it was run (numpy 1.26.4, the official's pin numpy<2; a run under numpy 2.4 recorded the same arrays), from
the repository root:

    mkdir -p /tmp/wan_preprocess
    for f in retarget_pose.py pose2d_utils.py; do
        git -C Wan2.2 show 42bf4cf:wan/modules/animate/preprocess/$f > /tmp/wan_preprocess/$f; done
    python -m venv --system-site-packages /tmp/venv_np1 && /tmp/venv_np1/bin/pip install "numpy==1.26.4"
    WAN_PREPROCESS_DIR=/tmp/wan_preprocess /tmp/venv_np1/bin/python tests/golden/record_wan_retarget.py

It needs numpy, and cv2, PIL and tqdm for the official files' imports (stand-ins are put in place of missing
ones: retargeting does not use them). It is deterministic (fixed seeds, fixed zip timestamps) and takes about a
second. Not run by CI; rerun it only to change the cases.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import types
import warnings
from pathlib import Path

import numpy as np
from golden_npz import save_npz  # this folder, on the script's path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "wan_retarget.npz"
COMMIT = "42bf4cfaa384bc21833865abc2f9e6c0e67233dc"
F32 = np.float32

VIDEO_SIZES = [(1280, 720), (720, 1280), (832, 480), (1024, 576)]
REFERENCE_SIZES = [(832, 480), (480, 832), (720, 1280), (1280, 720), (1024, 1024), (1248, 704)]
# Wan's 20 body points, 0-based
NOSE, NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = range(8)
R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, R_EYE, L_EYE, R_EAR, L_EAR, L_TOE, R_TOE = range(8, 20)
LEGS = [R_KNEE, R_ANKLE, L_KNEE, L_ANKLE, L_TOE, R_TOE]
ANKLES = [R_ANKLE, L_ANKLE]
HIPS = [R_HIP, L_HIP]
BELOW_04 = float(np.nextafter(F32(0.4), F32(0)))  # the float32 just below 0.4 (float32 0.4 itself is above 0.4)
ABOVE_05 = float(np.nextafter(F32(0.5), F32(1)))
ABOVE_1 = float(np.nextafter(F32(1), F32(2)))


# ------------------------------------------------------------------------------------------------ the skeletons

def direction(degrees: float) -> np.ndarray:
    """A unit vector `degrees` away from straight down (positive: towards +x)."""
    radians = math.radians(degrees)
    return np.array([math.sin(radians), math.cos(radians)])


def draw_person(rng, tall: float, center_x: float, nose_y: float, limbs: dict) -> dict:
    """Pixel points of a person facing the camera (its right side on the image's left), `tall` pixels from nose to
    ankles: 'body' (18 OpenPose points as COCO has them, the neck added later), 'toes' (4: right big, right small,
    left big, left small) and the two hands (21 points each, from the wrist along the forearm)."""
    t = tall
    p = {}
    head_turn = limbs["head_turn"] * t
    nose = np.array([center_x + head_turn, nose_y])
    neck = np.array([center_x, nose_y + 0.13 * t])
    p[NOSE] = nose
    p[R_SHOULDER] = neck + [-0.11 * t, 0.01 * t]
    p[L_SHOULDER] = neck + [0.11 * t, 0.01 * t]
    p[R_ELBOW] = p[R_SHOULDER] + 0.16 * t * direction(-limbs["r_upper_arm"])
    p[R_WRIST] = p[R_ELBOW] + 0.14 * t * direction(-limbs["r_upper_arm"] - limbs["r_forearm"])
    p[L_ELBOW] = p[L_SHOULDER] + 0.16 * t * direction(limbs["l_upper_arm"])
    p[L_WRIST] = p[L_ELBOW] + 0.14 * t * direction(limbs["l_upper_arm"] + limbs["l_forearm"])
    p[R_HIP] = neck + [-0.06 * t, 0.33 * t]
    p[L_HIP] = neck + [0.06 * t, 0.33 * t]
    p[R_KNEE] = p[R_HIP] + 0.25 * t * direction(-limbs["r_thigh"])
    p[R_ANKLE] = p[R_KNEE] + 0.26 * t * direction(-limbs["r_shin"])
    p[L_KNEE] = p[L_HIP] + 0.25 * t * direction(limbs["l_thigh"])
    p[L_ANKLE] = p[L_KNEE] + 0.26 * t * direction(limbs["l_shin"])
    p[R_EYE] = nose + [-0.022 * t, -0.022 * t]
    p[L_EYE] = nose + [0.022 * t, -0.022 * t]
    p[R_EAR] = nose + [-0.05 * t - head_turn, -0.01 * t]
    p[L_EAR] = nose + [0.05 * t - head_turn, -0.01 * t]
    toes = np.array([p[R_ANKLE] + [-0.01 * t, 0.045 * t], p[R_ANKLE] + [-0.04 * t, 0.04 * t],
                     p[L_ANKLE] + [0.01 * t, 0.045 * t], p[L_ANKLE] + [0.04 * t, 0.04 * t]])
    body = np.zeros((20, 2))
    for index, point in p.items():
        body[index] = point
    jitter = 0.004 * t
    body += rng.normal(0, jitter, body.shape)
    toes += rng.normal(0, jitter, toes.shape)
    right_arm = body[R_WRIST] - body[R_ELBOW]
    left_arm = body[L_WRIST] - body[L_ELBOW]
    hands = {"right": draw_hand(rng, body[R_WRIST], right_arm, t, limbs["r_hand_spread"]),
             "left": draw_hand(rng, body[L_WRIST], left_arm, t, limbs["l_hand_spread"])}
    return {"body": body, "toes": toes, **hands}


def draw_hand(rng, wrist: np.ndarray, forearm: np.ndarray, tall: float, spread: float) -> np.ndarray:
    """21 hand points (root, then thumb, index, middle, ring, little finger, 4 points each) from near the wrist
    along the forearm's direction, fingers `spread` degrees apart."""
    base = math.degrees(math.atan2(forearm[0], forearm[1]))
    root = wrist + rng.normal(0, 0.006 * tall, 2)
    points = [root]
    for finger, offset in enumerate((-2.2, -1, 0, 1, 2)):
        angle = base + offset * spread
        reach = 0.8 if finger == 0 else 1.0
        for joint, distance in enumerate((0.035, 0.055, 0.07, 0.083)):
            curl = angle + rng.normal(0, 6) * joint
            points.append(root + reach * distance * tall * direction(curl))
    return np.array(points) + rng.normal(0, 0.002 * tall, (21, 2))


def random_limbs(rng) -> dict:
    """Joint angles (degrees) of an ordinary standing, gesturing person."""
    return {"r_upper_arm": rng.uniform(-15, 110), "r_forearm": rng.uniform(-20, 90),
            "l_upper_arm": rng.uniform(-15, 110), "l_forearm": rng.uniform(-20, 90),
            "r_thigh": rng.uniform(-5, 20), "r_shin": rng.uniform(-10, 10),
            "l_thigh": rng.uniform(-5, 20), "l_shin": rng.uniform(-10, 10),
            "head_turn": rng.uniform(-0.02, 0.02), "r_hand_spread": rng.uniform(8, 20),
            "l_hand_spread": rng.uniform(8, 20)}


def moved_limbs(rng, limbs: dict) -> dict:
    """The joint angles one frame later."""
    moved = {}
    for name, angle in limbs.items():
        if name == "head_turn":
            moved[name] = angle + rng.normal(0, 0.005)
        elif name.endswith("spread"):
            moved[name] = float(np.clip(angle + rng.normal(0, 2), 5, 25))
        else:
            moved[name] = angle + rng.normal(0, 12 if "arm" in name else 4)
    return moved


def placement(rng, kind: str, height: int) -> tuple[float, float]:
    """(tall, nose_y) in pixels for a body kind: 'full' (ankles inside the frame), 'three_quarter' (hips inside,
    ankles below the frame), 'half' (hips below the frame)."""
    if kind == "full":
        tall = rng.uniform(0.5, 0.8) * height
        return tall, rng.uniform(0.04 * height, 0.93 * height - tall)
    if kind == "three_quarter":
        tall = rng.uniform(1.05, 1.35) * height
        return tall, rng.uniform(0.03, 0.12) * height
    tall = rng.uniform(2.2, 3.0) * height
    return tall, rng.uniform(0.1, 0.25) * height


def body_scores(rng, kind: str, low: str | None) -> np.ndarray:
    """Scores of the 18 COCO-order body points plus the 4 toe points (22,): high, legs random below the frame,
    `low` ('legs', 'ankles' or 'hips') below 0.4."""
    scores = rng.uniform(0.62, 0.97, 22)
    if kind != "full":
        scores[[R_KNEE, R_ANKLE, L_KNEE, L_ANKLE]] = rng.uniform(0.1, 0.9, 4)
        scores[18:] = rng.uniform(0.05, 0.8, 4)
    if kind == "half":
        scores[HIPS] = rng.uniform(0.2, 0.9, 2)
    if low == "ankles":
        scores[ANKLES] = rng.uniform(0.05, 0.39, 2)
    elif low == "legs":
        scores[[R_KNEE, R_ANKLE, L_KNEE, L_ANKLE]] = rng.uniform(0.05, 0.39, 4)
        scores[18:] = rng.uniform(0.02, 0.3, 4)
    elif low == "hips":
        scores[HIPS] = rng.uniform(0.05, 0.39, 2)
    return scores


def hand_scores(rng, mode: str) -> np.ndarray:
    """Scores of one hand's 21 points: 'high', 'low' (all < 0.4), 'mixed', 'root_low' (root < 0.4, others high),
    'edges' (0.4, the float32 below it, 0.39, 0.41 and random)."""
    if mode == "high":
        return rng.uniform(0.45, 0.95, 21)
    if mode == "low":
        return rng.uniform(0.02, 0.39, 21)
    if mode == "root_low":
        scores = rng.uniform(0.45, 0.95, 21)
        scores[0] = rng.uniform(0.05, 0.35)
        return scores
    if mode == "edges":
        return rng.choice([0.4, BELOW_04, 0.39, 0.41, 0.75, rng.uniform(0.2, 0.8)], 21)
    return np.where(rng.random(21) < 0.5, rng.uniform(0.02, 0.39, 21), rng.uniform(0.41, 0.95, 21))


def wan_meta_arrays(drawn: dict, scores: np.ndarray, left_scores, right_scores, size) -> dict:
    """The meta's float32 arrays as load_pose_metas_from_kp2ds_seq makes them from pixel points: x / width and
    y / height in float32, the neck the mean of the shoulders and each toe the mean of its two points (float32)."""
    width, height = size
    wh = np.array([width, height], F32)

    def relative(points, point_scores):
        rows = np.concatenate([np.asarray(points, F32), np.asarray(point_scores, F32)[:, None]], axis=1)
        rows[:, :2] /= wh
        return rows

    body = relative(drawn["body"], scores[:20])
    toes = relative(drawn["toes"], scores[18:22])
    body[NECK] = (body[R_SHOULDER] + body[L_SHOULDER]) / 2
    body[R_TOE] = (toes[0] + toes[1]) / 2
    body[L_TOE] = (toes[2] + toes[3]) / 2
    return {"size": size, "body": body, "left_hand": relative(drawn["left"], left_scores),
            "right_hand": relative(drawn["right"], right_scores)}


def make_pose(rng, size, kind: str, limbs: dict, *, center_x=None, low=None, hands=("high", "high"),
              crossed=False, shape=None) -> dict:
    """One person's meta arrays on a `size` canvas, of body kind `kind` ('full', 'three_quarter', 'half'), its
    scores per `low` and `hands` (left mode, right mode); `crossed` puts each hand at the other wrist; `shape`
    (tall, nose_y) overrides the placement."""
    width, height = size
    tall, nose_y = shape if shape is not None else placement(rng, kind, height)
    if center_x is None:
        center_x = rng.uniform(0.3, 0.7) * width
    drawn = draw_person(rng, tall, center_x, nose_y, limbs)
    if crossed:
        drawn["left"], drawn["right"] = drawn["right"], drawn["left"]
    return wan_meta_arrays(drawn, body_scores(rng, kind, low), hand_scores(rng, hands[0]),
                           hand_scores(rng, hands[1]), size)


# ------------------------------------------------------------------------------------------------ the cases

def sequence(rng, size, kind, count, *, low=None, hands=("high", "high"), crossed_frames=(), kind_changes=False,
             separate_template=False, template_low=None):
    """(template, frames) of a driving video: `count` frames of one person moving; the template is the first
    frame's meta, or a separate detection of that frame (`separate_template`: slightly different points)."""
    limbs = random_limbs(rng)
    width, height = size
    tall, nose_y = placement(rng, kind, height)
    center_x = rng.uniform(0.35, 0.65) * width
    frames = []
    state = np.random.default_rng(rng.integers(2**32))
    for number in range(count):
        frame_kind, frame_low = kind, low
        if kind_changes and number > 0 and rng.random() < 0.4:
            frame_kind, frame_low = rng.choice(["full", "three_quarter"]), rng.choice([None, "ankles", "legs"])
        shape = (tall, nose_y) if frame_kind == kind else None
        frames.append(make_pose(state, size, frame_kind, limbs, center_x=center_x, low=frame_low, hands=hands,
                                crossed=number in crossed_frames, shape=shape))
        limbs = moved_limbs(rng, limbs)
        center_x += rng.normal(0, 0.015 * width)
        nose_y += rng.normal(0, 0.005 * height)
    template = None
    if separate_template:
        template = make_pose(np.random.default_rng(rng.integers(2**32)), size, kind, random_limbs(rng),
                             center_x=center_x, low=template_low if template_low is not None else low,
                             hands=hands, shape=(tall * rng.uniform(0.97, 1.03), nose_y))
    return template, frames


def set_points(pose: dict, points, column: int, value: float) -> dict:
    """`pose` with body column `column` (0 x, 1 y, 2 score) of `points` set to float32 `value`."""
    pose["body"][points, column] = F32(value)
    return pose


def cases() -> list[dict]:
    """Every case: name, template (None: the first frame), reference, frames."""
    out = []

    def add(name, seed, video, reference_size, kind, reference_kind, count, *, reference_low=None,
            reference_hands=("high", "high"), edit=None, **options):
        rng = np.random.default_rng(seed)
        template, frames = sequence(rng, video, kind, count, **options)
        reference = make_pose(rng, reference_size, reference_kind, random_limbs(rng), low=reference_low,
                              hands=reference_hands)
        case = {"name": name, "template": template, "reference": reference, "frames": frames}
        if edit is not None:
            edit(case)
        out.append(case)

    # standing full bodies, every reference size, 1..6 frames
    for n, reference_size in enumerate(REFERENCE_SIZES):
        add(f"full_full_{reference_size[0]}x{reference_size[1]}", 100 + n, VIDEO_SIZES[n % 4], reference_size,
            "full", "full", 1 + n % 6)
    add("full_full_6_frames_portrait_video", 110, (720, 1280), (832, 480), "full", "full", 6)
    add("full_full_separate_template", 111, (1280, 720), (720, 1280), "full", "full", 4, separate_template=True)
    add("full_full_separate_template_square", 112, (832, 480), (1024, 1024), "full", "full", 3,
        separate_template=True)
    add("full_full_legs_leave_frame", 113, (1280, 720), (480, 832), "full", "full", 6, kind_changes=True)
    # three-quarter and half bodies, in the video, the reference or both
    add("three_quarter_out_full", 120, (1280, 720), (832, 480), "three_quarter", "full", 3)
    add("full_three_quarter_out", 121, (1280, 720), (720, 1280), "full", "three_quarter", 2)
    add("three_quarter_both", 122, (720, 1280), (1248, 704), "three_quarter", "three_quarter", 4)
    add("three_quarter_low_ankles_full", 123, (1280, 720), (832, 480), "full", "full", 3, low="ankles")
    add("full_reference_low_legs", 124, (1024, 576), (480, 832), "full", "full", 2, reference_low="legs")
    add("half_out_full", 125, (1280, 720), (832, 480), "half", "full", 3)
    add("full_half_out", 126, (1280, 720), (720, 1280), "full", "half", 5)
    add("half_both", 127, (832, 480), (1280, 720), "half", "half", 2)
    add("half_low_hips_full", 128, (1280, 720), (1024, 1024), "full", "full", 3, low="hips")
    add("full_reference_low_hips", 129, (720, 1280), (832, 480), "full", "full", 1, reference_low="hips")
    add("half_three_quarter", 130, (1280, 720), (480, 832), "half", "three_quarter", 4)
    add("three_quarter_half", 131, (1024, 576), (720, 1280), "three_quarter", "half", 3)
    add("half_out_separate_template", 132, (1280, 720), (832, 480), "half", "full", 3, separate_template=True)
    add("three_quarter_separate_template", 133, (1280, 720), (832, 480), "three_quarter", "full", 2,
        separate_template=True)
    # hands
    add("hands_low", 140, (1280, 720), (832, 480), "full", "full", 3, hands=("low", "low"))
    add("hands_mixed", 141, (1280, 720), (720, 1280), "full", "full", 4, hands=("mixed", "mixed"))
    add("hands_left_low_right_high", 142, (720, 1280), (480, 832), "full", "full", 2, hands=("low", "high"))
    add("hands_root_low", 143, (1280, 720), (1024, 1024), "full", "full", 3, hands=("root_low", "root_low"))
    add("hands_right_root_low", 144, (832, 480), (720, 1280), "three_quarter", "full", 2,
        hands=("high", "root_low"))
    add("hands_score_edges", 145, (1280, 720), (832, 480), "full", "full", 4, hands=("edges", "edges"))
    add("hands_crossed", 146, (1280, 720), (832, 480), "full", "full", 4, crossed_frames=(1, 3))
    add("hands_crossed_first_frame", 147, (720, 1280), (1248, 704), "half", "full", 3, crossed_frames=(0,))
    add("hands_crossed_root_low", 148, (1280, 720), (480, 832), "full", "three_quarter", 3,
        crossed_frames=(0, 1, 2), hands=("root_low", "root_low"))

    # scores at the thresholds (scale rules > 0.5, body kind >= 0.4) and an ankle at y = 1
    def frames_too(case):  # the poses that serve as the template: the first frame, and a separate template
        return [case["frames"][0]] + ([] if case["template"] is None else [case["template"]])

    def nose_at_half(case):
        set_points(case["reference"], [NOSE], 2, 0.5)

    def nose_just_above_half(case):
        set_points(case["reference"], [NOSE], 2, ABOVE_05)
        for pose in frames_too(case):
            set_points(pose, [NOSE, R_ANKLE, L_ANKLE], 2, ABOVE_05)

    def ankle_at_half(case):
        for pose in frames_too(case):
            set_points(pose, [L_ANKLE], 2, 0.5)

    def hips_at_half(case):
        set_points(case["reference"], [R_HIP], 2, 0.5)

    def ankle_at_04(case):
        set_points(case["reference"], [R_ANKLE], 2, 0.4)

    def ankle_below_04(case):
        set_points(case["reference"], [R_ANKLE], 2, BELOW_04)

    def hip_at_04(case):
        for pose in frames_too(case):
            set_points(pose, [L_HIP], 2, 0.4)

    def hip_below_04(case):
        for pose in frames_too(case):
            set_points(pose, [L_HIP], 2, BELOW_04)

    def ankle_y_1(case):
        set_points(case["reference"], [L_ANKLE], 1, 1.0)

    def ankle_y_above_1(case):
        set_points(case["reference"], [L_ANKLE], 1, ABOVE_1)

    def hip_y_above_1(case):
        for pose in frames_too(case):
            set_points(pose, [R_HIP], 1, ABOVE_1)

    def scores_near_075(case):
        for pose in [case["reference"], *case["frames"]]:
            pose["body"][:, 2] = F32(0.75) + np.float32([-1e-7, 0, 1e-7, 0.01, -0.01] * 4)

    for n, (name, edit) in enumerate([
            ("reference_nose_at_0.5", nose_at_half), ("nose_ankles_just_above_0.5", nose_just_above_half),
            ("template_ankle_at_0.5", ankle_at_half), ("reference_hip_at_0.5", hips_at_half),
            ("reference_ankle_at_0.4", ankle_at_04), ("reference_ankle_below_0.4", ankle_below_04),
            ("template_hip_at_0.4", hip_at_04), ("template_hip_below_0.4", hip_below_04),
            ("reference_ankle_y_1", ankle_y_1), ("reference_ankle_y_above_1", ankle_y_above_1),
            ("template_hip_y_above_1", hip_y_above_1), ("scores_near_0.75", scores_near_075)]):
        add(f"edge_{name}", 150 + n, VIDEO_SIZES[n % 4], REFERENCE_SIZES[n % 6], "full", "full", 1 + n % 3,
            edit=edit)

    # extreme but finite: a tiny template person (the scaled reference canvas truncates to 0 x 0)
    def tiny_template(case):
        for pose in [case["frames"][0]]:
            pose["body"][:, :2] = F32(0.5) + (pose["body"][:, :2] - F32(0.5)) * F32(0.0004)

    add("tiny_template_person", 170, (1280, 720), (832, 480), "full", "full", 2, edit=tiny_template)

    # degenerate: the official raises or returns non-finite points
    def reference_lying(case):  # nose y == ankle y: reference body height 0 (rule 1)
        set_points(case["reference"], ANKLES, 1, float(case["reference"]["body"][NOSE, 1]))

    def reference_hips_level(case):  # ankles < 0.5, hips at the nose's y: reference height 0 (rule 2)
        set_points(case["reference"], ANKLES, 2, 0.45)
        set_points(case["reference"], HIPS, 1, float(case["reference"]["body"][NOSE, 1]))

    def template_lying(case):  # the template's body height is 0: scale 0
        pose = case["frames"][0]
        set_points(pose, ANKLES, 1, float(pose["body"][NOSE, 1]))

    def template_eye_on_ear(case):  # a template bone of length 0: ratio inf
        pose = case["frames"][0]
        pose["body"][R_EAR, :2] = pose["body"][R_EYE, :2]

    def template_shoulder_on_neck(case):  # shoulder ratio inf: the hands' ratio too
        pose = case["frames"][0]
        pose["body"][R_SHOULDER, :2] = pose["body"][NECK, :2]

    def eye_on_ear_both(case):  # 0 / 0
        for pose in (case["frames"][0], case["reference"]):
            pose["body"][L_EAR, :2] = pose["body"][L_EYE, :2]

    def nobody(case):  # every point of every frame at (0, 0), scoring 0
        for pose in case["frames"]:
            for part in ("body", "left_hand", "right_hand"):
                pose[part][:] = 0

    for n, (name, edit) in enumerate([
            ("reference_zero_height_ankles", reference_lying), ("reference_zero_height_hips", reference_hips_level),
            ("template_zero_height", template_lying), ("template_zero_eye_ear_bone", template_eye_on_ear),
            ("template_zero_shoulder_bone", template_shoulder_on_neck), ("zero_eye_ear_bone_both", eye_on_ear_both),
            ("template_nobody", nobody)]):
        add(f"degenerate_{name}", 180 + n, VIDEO_SIZES[n % 4], REFERENCE_SIZES[n % 6], "full", "full", 1 + n % 3,
            edit=edit)
    return out


# ------------------------------------------------------------------------------------------------ the official

def load_official(folder: str):
    """retarget_pose.get_retarget_pose from `folder`, with stand-ins for the imports it does not use when missing."""
    for name in ("cv2", "tqdm", "PIL"):
        try:
            __import__(name)
        except ImportError:
            stub = types.ModuleType(name)
            stub.tqdm = lambda items, *args, **kwargs: items
            stub.Image = None
            sys.modules[name] = stub
    sys.path.insert(0, folder)
    import retarget_pose  # the official file

    retarget_pose.tqdm = lambda items, *args, **kwargs: items  # no progress bars
    return retarget_pose.get_retarget_pose


def meta(pose: dict) -> dict:
    """A fresh meta dict of `pose`, as load_pose_metas_from_kp2ds_seq builds it."""
    width, height = pose["size"]
    return {"width": width, "height": height, "keypoints_body": pose["body"].copy(),
            "keypoints_left_hand": pose["left_hand"].copy(), "keypoints_right_hand": pose["right_hand"].copy(),
            "keypoints_face": np.zeros((69, 3), F32)}


def run_official(get_retarget_pose, case: dict):
    """(status, outputs): the official's AAPoseMetas as (size, body, left, right) float64 arrays, or its failure."""
    template = case["template"] if case["template"] is not None else case["frames"][0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            metas = get_retarget_pose(meta(template), meta(case["reference"]), [meta(f) for f in case["frames"]],
                                      None, None)
    except Exception as error:  # noqa: BLE001 - what the official raises is what is recorded
        return f"raised {type(error).__name__}: {error}", []
    outputs = []
    for result in metas:
        body = np.concatenate([result.kps_body, result.kps_body_p[:, None]], axis=1).astype(np.float64)
        hands = [np.concatenate([np.array(kps.tolist(), np.float64), np.array(p, np.float64)[:, None]], axis=1)
                 for kps, p in ((result.kps_lhand, result.kps_lhand_p), (result.kps_rhand, result.kps_rhand_p))]
        outputs.append(((result.width, result.height), body, *hands))
    # None hand points are NaN here; anything else not finite is the official's division by zero
    finite = all(np.isfinite(out[1]).all() and not np.isinf(out[2]).any() and not np.isinf(out[3]).any()
                 and np.isfinite(out[2][:, 2]).all() and np.isfinite(out[3][:, 2]).all() for out in outputs)
    return ("ok" if finite else "non-finite"), outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=GOLDEN)
    args = parser.parse_args()
    folder = os.environ.get("WAN_PREPROCESS_DIR")
    if not folder or not Path(folder, "retarget_pose.py").is_file():
        sys.exit("set WAN_PREPROCESS_DIR to a folder holding Wan 2.2's retarget_pose.py and pose2d_utils.py "
                 f"(commit {COMMIT}, wan/modules/animate/preprocess/)")
    get_retarget_pose = load_official(folder)

    poses, table, outputs = [], [], []

    def pose_index(pose):
        poses.append(pose)
        return len(poses) - 1

    for case in cases():
        start = len(poses)
        for frame in case["frames"]:
            pose_index(frame)
        template = start if case["template"] is None else pose_index(case["template"])
        reference = pose_index(case["reference"])
        status, results = run_official(get_retarget_pose, case)
        out_start = len(outputs) if status == "ok" else -1
        if status == "ok":
            outputs.extend(results)
        table.append((case["name"], template, reference, start, len(case["frames"]), status, out_start))
        print(f"{case['name']:45s} {len(case['frames'])} frames  {status}")

    arrays = {
        "pose_size": np.array([p["size"] for p in poses], np.int32),
        "pose_body": np.stack([p["body"] for p in poses]).astype(F32),
        "pose_left_hand": np.stack([p["left_hand"] for p in poses]).astype(F32),
        "pose_right_hand": np.stack([p["right_hand"] for p in poses]).astype(F32),
        "case_name": np.array([row[0] for row in table]),
        "case_template": np.array([row[1] for row in table], np.int32),
        "case_reference": np.array([row[2] for row in table], np.int32),
        "case_frames_start": np.array([row[3] for row in table], np.int32),
        "case_frames_count": np.array([row[4] for row in table], np.int32),
        "case_official": np.array([row[5] for row in table]),
        "case_out_start": np.array([row[6] for row in table], np.int32),
        "out_size": np.array([out[0] for out in outputs], np.int32),
        "out_body": np.stack([out[1] for out in outputs]),
        "out_left_hand": np.stack([out[2] for out in outputs]),
        "out_right_hand": np.stack([out[3] for out in outputs]),
        "numpy_version": np.array(np.__version__),
    }
    save_npz(args.out, arrays)
    print(f"{len(table)} cases, {len(outputs)} frames recorded, {args.out.stat().st_size} bytes -> {args.out}")


if __name__ == "__main__":
    main()
