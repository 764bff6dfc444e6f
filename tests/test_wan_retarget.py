"""annotator/dwpose/wan_retarget.py: Wan 2.2 Animate's get_retarget_pose (no FLUX), bit for bit against the
official's recorded outputs (tests/golden/wan_retarget.npz, recorded by tests/golden/record_wan_retarget.py), and
what it does by construction: proportions carried over, inputs left alone, defined results where the official
fails."""

from __future__ import annotations

import copy
import functools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from annotator.dwpose.wan_pose import WanPixels, WanPose
from annotator.dwpose.wan_retarget import (BONES, filled_ratios, measured_ratios, paired_ratios, pixel_points,
                                           retarget_wan_poses)

GOLDEN = Path(__file__).resolve().parent / "golden" / "wan_retarget.npz"
R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = 2, 3, 4, 5, 6, 7
R_ANKLE, L_ANKLE, L_TOE, R_TOE = 10, 13, 18, 19


@functools.lru_cache(maxsize=1)
def golden() -> dict:
    with np.load(GOLDEN) as data:
        return {name: data[name] for name in data.files}


def golden_pose(index: int) -> WanPose:
    g = golden()
    width, height = (int(v) for v in g["pose_size"][index])
    return WanPose(width, height, g["pose_body"][index], g["pose_left_hand"][index], g["pose_right_hand"][index],
                   np.zeros((68, 3), np.float32))


def golden_inputs(case: int) -> tuple[WanPose, WanPose, list[WanPose]]:
    g = golden()
    start, count = int(g["case_frames_start"][case]), int(g["case_frames_count"][case])
    return (golden_pose(int(g["case_template"][case])), golden_pose(int(g["case_reference"][case])),
            [golden_pose(n) for n in range(start, start + count)])


def cases_where(ok: bool) -> list[int]:
    return [c for c, status in enumerate(golden()["case_official"]) if (status == "ok") == ok]


def case_id(case: int) -> str:
    return str(golden()["case_name"][case])


# ------------------------------------------------------------------------------------------------ golden

def test_golden_file_holds_enough_cases():
    g = golden()
    assert len(cases_where(ok=True)) >= 40
    assert 1 <= int(g["case_frames_count"].min()) and int(g["case_frames_count"].max()) == 6
    failures = {str(g["case_name"][c]): str(g["case_official"][c]) for c in cases_where(ok=False)}
    assert any(status.startswith("raised ZeroDivisionError") for status in failures.values())
    assert any(status.startswith("raised ValueError") for status in failures.values())
    assert "non-finite" in failures.values()


@pytest.mark.parametrize("case", cases_where(ok=True), ids=case_id)
def test_matches_the_official_bit_for_bit(case):
    g = golden()
    template, reference, frames = golden_inputs(case)
    results = retarget_wan_poses(template, reference, frames)
    assert len(results) == len(frames)
    first = int(g["case_out_start"][case])
    for number, result in enumerate(results):
        out = first + number
        assert isinstance(result, WanPixels)
        assert (result.width, result.height) == tuple(int(v) for v in g["out_size"][out])
        for part, name in ((result.body, "out_body"), (result.left_hand, "out_left_hand"),
                           (result.right_hand, "out_right_hand")):
            assert part.dtype == np.float64
            assert np.array_equal(part[:, :2], g[name][out][:, :2], equal_nan=True), (case_id(case), number, name)
            assert np.array_equal(part[:, 2], g[name][out][:, 2]), (case_id(case), number, name)


@pytest.mark.parametrize("case", cases_where(ok=False), ids=case_id)
def test_where_the_official_fails_the_result_is_finite(case):
    """The recorded cases where the official raises or returns inf / NaN points: no exception, no warning,
    finite body points; hand points finite or dropped (NaN with score 0)."""
    template, reference, frames = golden_inputs(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = retarget_wan_poses(template, reference, frames)
    assert len(results) == len(frames)
    for result in results:
        assert np.isfinite(result.body).all()
        for hand in (result.left_hand, result.right_hand):
            dropped = np.isnan(hand[:, 0])
            assert np.array_equal(dropped, np.isnan(hand[:, 1]))
            assert np.isfinite(hand[~dropped]).all() and (hand[dropped, 2] == 0).all()


# ------------------------------------------------------------------------------------------------ made-up poses

# A person standing on a 1280 x 720 frame, in pixels (Wan's 20 body points).
BODY_PIXELS = [(640, 100), (640, 165), (590, 165), (570, 240), (560, 310), (690, 165), (710, 240), (720, 310),
               (615, 320), (610, 440), (605, 560), (665, 320), (670, 440), (675, 560), (630, 90), (650, 90),
               (615, 95), (665, 95), (690, 585), (590, 585)]


def hand_pixels(wrist: tuple[float, float], side: int) -> np.ndarray:
    """21 hand points hanging from near `wrist`, fingers spread towards `side` (-1 or 1)."""
    root = np.array([wrist[0], wrist[1] + 6.0])
    points = [root] + [root + (side * (finger - 2) * 7.0, 9.0 * joint) for finger in range(5) for joint in (1, 2, 3, 4)]
    return np.array(points)


def make_pose(body_pixels=BODY_PIXELS, size=(1280, 720), score=0.9, hand_score=0.9, right_hand_at=None) -> WanPose:
    """A WanPose of `body_pixels` on a `size` canvas (float32, as the meta holds it); hands at the wrists (or the
    right hand at `right_hand_at`)."""
    scale = np.array(size, np.float64)
    body = np.array(body_pixels, np.float64)

    def rows(points, scores):
        return np.concatenate([points / scale, np.full((len(points), 1), scores)], axis=1).astype(np.float32)

    right = hand_pixels(right_hand_at or body[R_WRIST], -1)
    left = hand_pixels(body[L_WRIST], 1)
    return WanPose(size[0], size[1], rows(body, score), rows(left, hand_score), rows(right, hand_score),
                   np.zeros((68, 3), np.float32))


def scaled_pose(pose: WanPose, factor: float) -> WanPose:
    """The same relative points on a canvas `factor` times bigger."""
    return WanPose(int(pose.width * factor), int(pose.height * factor), pose.body.copy(), pose.left_hand.copy(),
                   pose.right_hand.copy(), pose.face.copy())


def bone_lengths(points: np.ndarray) -> np.ndarray:
    return np.array([math.dist(points[start, :2], points[end, :2]) for start, end in BONES])


def foot_mark_drop(pose: WanPose) -> float:
    """How far (pixels of `pose`) a full body moves down onto itself: the official puts the lower rebuilt ankle
    on the reference's lower mean of ankle and toe y."""
    body = pose.body.astype(np.float64)
    foot = max((body[L_ANKLE, 1] + body[L_TOE, 1]) / 2, (body[R_ANKLE, 1] + body[R_TOE, 1]) / 2)
    return (foot - max(body[R_ANKLE, 1], body[L_ANKLE, 1])) * pose.height


def test_the_same_skeleton_keeps_bone_lengths_and_places():
    pose = make_pose()
    (result,) = retarget_wan_poses(pose, pose, [pose])
    pixels = pose.body[:, :2].astype(np.float64) * (pose.width, pose.height)
    assert (result.width, result.height) == (pose.width, pose.height)
    np.testing.assert_allclose(bone_lengths(result.body), bone_lengths(pixels), rtol=1e-9)
    np.testing.assert_allclose(result.body[:, :2], pixels + (0, foot_mark_drop(pose)), atol=1e-4)
    assert foot_mark_drop(pose) == pytest.approx(12.5, abs=1e-4)
    assert np.array_equal(result.body[:, 2], pose.body[:, 2].astype(np.float64))


def test_a_reference_twice_as_big_doubles_every_bone():
    small = make_pose(size=(640, 360), body_pixels=[(x / 2, y / 2) for x, y in BODY_PIXELS])
    big = make_pose(size=(1280, 720))
    moved = make_pose(size=(640, 360), body_pixels=[(x / 2 + 20, y / 2) for x, y in BODY_PIXELS])
    results = retarget_wan_poses(small, big, [small, moved])
    assert all((r.width, r.height) == (1280, 720) for r in results)
    for result, frame in zip(results, (small, moved)):
        frame_pixels = frame.body[:, :2].astype(np.float64) * (frame.width, frame.height)
        np.testing.assert_allclose(bone_lengths(result.body), 2 * bone_lengths(frame_pixels), rtol=1e-6)
    # the first frame lands on the reference (feet on its foot mark); the second 20 template pixels (40 reference
    # pixels) to the right
    np.testing.assert_allclose(results[0].body[:, :2], big.body[:, :2] * (1280, 720) + (0, foot_mark_drop(big)),
                               atol=1e-3)
    np.testing.assert_allclose(results[1].body[:, :2] - results[0].body[:, :2], [[40, 0]] * 20, atol=1e-3)


def test_a_reference_with_longer_arms_lengthens_the_arms_only():
    body = np.array(BODY_PIXELS, np.float64)
    long_arms = body.copy()
    for shoulder, elbow, wrist in ((R_SHOULDER, R_ELBOW, R_WRIST), (L_SHOULDER, L_ELBOW, L_WRIST)):
        long_arms[elbow] = body[shoulder] + 1.5 * (body[elbow] - body[shoulder])
        long_arms[wrist] = long_arms[elbow] + 1.5 * (body[wrist] - body[elbow])
    template = make_pose()
    (result,) = retarget_wan_poses(template, make_pose(body_pixels=long_arms), [template])
    ratio = bone_lengths(result.body) / bone_lengths(body)
    arm_bones = [n for n, (start, end) in enumerate(BONES) if end in (R_ELBOW, R_WRIST, L_ELBOW, L_WRIST)]
    assert len(arm_bones) == 4
    np.testing.assert_allclose(ratio[arm_bones], 1.5, rtol=1e-5)
    np.testing.assert_allclose(np.delete(ratio, arm_bones), 1.0, rtol=1e-5)


def test_the_right_hand_goes_to_the_right_wrist_and_is_handed_out_as_the_left_hand():
    """The official's deal_hand_keypoints returns (right, left) into (left, right)."""
    pose = make_pose()
    (result,) = retarget_wan_poses(pose, pose, [pose])
    right = pose.right_hand[:, :2].astype(np.float64) * (1280, 720)
    wrist = result.body[R_WRIST, :2]
    np.testing.assert_allclose(result.left_hand[0, :2], wrist, atol=1.0)  # the root onto the wrist (int())
    np.testing.assert_allclose(result.left_hand[:, :2] - result.left_hand[0, :2], right - right[0], atol=1.0)
    assert np.array_equal(result.left_hand[:, 2], pose.right_hand[:, 2].astype(np.float64))


def test_a_right_hand_nearer_the_left_wrist_goes_there_as_the_right_hand():
    """... moved as the left hand is (its root onto the left wrist), and the left hand as the right hand is."""
    crossed = make_pose(right_hand_at=tuple(np.array(BODY_PIXELS[L_WRIST]) + (3, 0)))
    (result,) = retarget_wan_poses(crossed, crossed, [crossed])
    right = crossed.right_hand[:, :2].astype(np.float64) * (1280, 720)
    left = crossed.left_hand[:, :2].astype(np.float64) * (1280, 720)
    left_shift = result.body[L_WRIST, :2] - left[0]
    right_shift = result.body[R_WRIST, :2] - right[0]
    np.testing.assert_allclose(result.right_hand[:, :2], right + left_shift, atol=1.0)
    np.testing.assert_allclose(result.left_hand[:, :2], left + right_shift, atol=1.0)
    assert np.array_equal(result.right_hand[:, 2], crossed.right_hand[:, 2].astype(np.float64))


def test_hand_points_scoring_below_0_4_are_dropped():
    pose = make_pose()
    low = copy.deepcopy(pose)
    low.right_hand[5:9, 2] = np.float32(0.39)
    low.right_hand[9, 2] = np.nextafter(np.float32(0.4), np.float32(0))
    low.right_hand[10, 2] = np.float32(0.4)  # float32 0.4 is above 0.4: kept
    (result,) = retarget_wan_poses(pose, pose, [low])
    dropped = np.isnan(result.left_hand[:, 0])
    assert dropped.tolist() == [n in range(5, 10) for n in range(21)]
    assert (result.left_hand[dropped, 2] == 0).all() and np.isnan(result.left_hand[dropped, 1]).all()
    assert (result.left_hand[~dropped, :2] == np.trunc(result.left_hand[~dropped, :2])).all()


def test_no_frames_give_no_results():
    pose = make_pose()
    assert retarget_wan_poses(pose, pose, []) == []


def test_the_inputs_are_not_changed_and_are_taken_by_value():
    template = golden_inputs(cases_where(ok=True)[7])[0]
    reference = make_pose(size=(832, 480))
    frames = [template, make_pose(), template]
    before = copy.deepcopy((template, reference, frames))
    results = retarget_wan_poses(template, reference, frames)
    for pose, kept in zip((template, reference, *frames), (before[0], before[1], *before[2])):
        for part in ("body", "left_hand", "right_hand", "face"):
            assert getattr(pose, part).dtype == getattr(kept, part).dtype
            assert np.array_equal(getattr(pose, part), getattr(kept, part))
        assert (pose.width, pose.height) == (kept.width, kept.height)
    # one object passed three times gives what equal, distinct poses give (the official's pipeline)
    distinct = retarget_wan_poses(copy.deepcopy(template), reference, [copy.deepcopy(f) for f in frames])
    for got, want in zip(results, distinct):
        for part in ("body", "left_hand", "right_hand"):
            assert np.array_equal(getattr(got, part), getattr(want, part), equal_nan=True)
    assert np.array_equal(results[0].body, results[2].body)


# ---------------------------------------------------------------------------------------- where the official fails

def results_equal(first: list[WanPixels], second: list[WanPixels]) -> bool:
    return all(np.array_equal(getattr(a, part), getattr(b, part), equal_nan=True)
               for a, b in zip(first, second) for part in ("body", "left_hand", "right_hand"))


def test_a_reference_of_zero_height_skips_to_the_next_scale_rule():
    """Nose and ankles level in the reference: the official raises ZeroDivisionError; here the nose-to-hips rule
    gives the scale, as when the reference's ankles score too low (<= 0.5) for the ankle rule."""
    template = make_pose()
    lying = copy.deepcopy(make_pose(size=(832, 480)))
    lying.body[[R_ANKLE, L_ANKLE], 1] = lying.body[0, 1]
    ankles_low = copy.deepcopy(lying)
    ankles_low.body[[R_ANKLE, L_ANKLE], 2] = np.float32(0.45)  # <= 0.5: no ankle rule; >= 0.4: same body kind
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = retarget_wan_poses(template, lying, [template, make_pose()])
    assert results_equal(results, retarget_wan_poses(template, ankles_low, [template, make_pose()]))
    assert all(np.isfinite(r.body).all() for r in results)


def test_a_template_of_zero_height_skips_to_the_next_scale_rule():
    """Nose and ankles level in the template: the official's scale is 0 (inf / NaN points, or int(NaN) raises)."""
    frame = copy.deepcopy(make_pose())
    frame.body[[R_ANKLE, L_ANKLE], 1] = frame.body[0, 1]
    template_low = copy.deepcopy(frame)
    template_low.body[[R_ANKLE, L_ANKLE], 2] = np.float32(0.45)
    reference = make_pose(size=(720, 1280))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = retarget_wan_poses(frame, reference, [frame])
    assert results_equal(results, retarget_wan_poses(template_low, reference, [frame]))


def test_a_template_bone_of_zero_length_takes_the_mean_shoulder_ratio():
    template = copy.deepcopy(make_pose())
    template.body[16, :2] = template.body[14, :2]  # right ear on the right eye: bone 14 has length 0
    template_points = pixel_points(template.body.tolist(), 1280, 720)
    reference = make_pose()
    raw = measured_ratios(template_points, pixel_points(reference.body.tolist(), 1280, 720))
    assert raw[14] is None and all(r is not None for n, r in enumerate(raw) if n != 14)
    assert filled_ratios(raw)[14] == (raw[0] + raw[1]) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (result,) = retarget_wan_poses(template, reference, [make_pose()])
    assert np.isfinite(result.body).all()


def test_ratios_that_cannot_be_measured_are_filled_then_paired():
    ratios = [2.0, 3.0] + [None] * 17
    assert filled_ratios(ratios) == [2.0, 3.0] + [2.5] * 17
    assert filled_ratios([None, 3.0] + [1.5] * 17) == [1.0, 3.0] + [1.5] * 17
    paired = paired_ratios([2.0, 3.0] + [1.0] * 11 + [1.0, 2.0, 3.0, 4.0] + [1.0, 1.0])
    assert paired[:2] == [3.0, 3.0] and paired[13:17] == [2.0, 3.0, 2.0, 3.0]


def test_a_template_with_nobody_gives_finite_points():
    """Every template point at (0, 0) scoring 0: the official returns NaN points (0 / 0 ratios)."""
    nobody = WanPose(1280, 720, np.zeros((20, 3), np.float32), np.zeros((21, 3), np.float32),
                     np.zeros((21, 3), np.float32), np.zeros((68, 3), np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = retarget_wan_poses(nobody, make_pose(size=(832, 480)), [nobody, make_pose()])
    assert all(np.isfinite(r.body).all() for r in results)
    assert np.isnan(results[0].left_hand[:, :2]).all() and (results[0].left_hand[:, 2] == 0).all()


@pytest.mark.parametrize("change", ["width", "nan", "inf", "shape"])
def test_impossible_poses_raise_value_error(change):
    pose = copy.deepcopy(make_pose())
    if change == "width":
        pose.width = 0
    elif change == "nan":
        pose.body[3, 0] = np.nan
    elif change == "inf":
        pose.right_hand[2, 1] = np.inf
    else:
        pose.left_hand = pose.left_hand[:20]
    with pytest.raises(ValueError):
        retarget_wan_poses(make_pose(), make_pose(), [make_pose(), pose])
