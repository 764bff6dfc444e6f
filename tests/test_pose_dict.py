"""Poses.to_pose_dict / from_pose_dict: the normalised pose dicts of DWPose-based video pipelines.

The oracles below are my own loop-form transcriptions of how each pipeline's detector turns the DWPose
output (candidate (N, 134, 2) float64 pixels in the OpenPose layout, score (N, 134) float64) into its dict:
* mimicmotion_dict: Tencent/MimicMotion mimicmotion/dwpose/dwpose_detector.py DWposeDetector.__call__:
  candidate x /= W, y /= H (in place, float64); bodies.candidate = candidate[:, :18] as (N*18, 2);
  bodies.subset = score[:, :18] with 18 i + j where > 0.3, else -1 (float64); bodies.score = score[:, :18];
  faces = candidate[:, 24:92], faces_score; hands = vstack(left 92:113, right 113:134), hands_score the same
  way; its `candidate[un_visible] = -1` is commented out, so no coordinate is hidden; feet are dropped.
  (wholebody.py: keypoints are float64 after onnxpose.py postprocess divides float32 by the int input size,
  and concatenating float32 scores with them makes the scores float64.)
* easy_dwpose_dict: reallyigor/easy_dwpose easy_dwpose/dwpose.py DWposeDetector._format_pose: the same
  arrays under bodies / body_scores / hands / hands_scores / faces / faces_scores; body_scores is a view of
  the scores that the loop overwrites with the subset, so the body scores themselves are lost.
* musepose_dict: TMElyralab/MusePose pose/script/dwpose.py DWposeDetector.__call__: no scores; after
  building the subset it sets every point whose (modified) score is < 0.3 to -1 in the candidate, which
  reaches the faces and hands (the body was copied before).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.dwpose import DWposeDetector, Poses

MIMICMOTION_KEYS = {"bodies", "hands", "hands_score", "faces", "faces_score"}
EASY_DWPOSE_KEYS = {"bodies", "body_scores", "hands", "hands_scores", "faces", "faces_scores"}


def _normalised(candidate, width, height):
    candidate = np.array(candidate, dtype=np.float64)
    candidate[..., 0] /= float(width)
    candidate[..., 1] /= float(height)
    return candidate


def _subset(score):
    subset = np.array(score[:, :18], dtype=np.float64)
    for person in range(subset.shape[0]):
        for point in range(18):
            subset[person, point] = 18 * person + point if subset[person, point] > 0.3 else -1
    return subset


def _stack_hands(values):
    return np.vstack([values[:, 92:113], values[:, 113:134]])


def mimicmotion_dict(candidate, score, width, height):
    candidate = _normalised(candidate, width, height)
    score = np.array(score, dtype=np.float64)
    bodies = {"candidate": candidate[:, :18].copy().reshape(-1, 2), "subset": _subset(score), "score": score[:, :18]}
    return {"bodies": bodies, "hands": _stack_hands(candidate), "hands_score": _stack_hands(score),
            "faces": candidate[:, 24:92], "faces_score": score[:, 24:92]}


def easy_dwpose_dict(candidate, score, width, height):
    candidate = _normalised(candidate, width, height)
    score = np.array(score, dtype=np.float64)
    return {"bodies": candidate[:, :18].copy().reshape(-1, 2), "body_scores": _subset(score),
            "hands": _stack_hands(candidate), "hands_scores": _stack_hands(score),
            "faces": candidate[:, 24:92], "faces_scores": score[:, 24:92]}


def musepose_dict(candidate, score, width, height):
    candidate = _normalised(candidate, width, height)
    score = np.array(score, dtype=np.float64)
    body = candidate[:, :18].copy().reshape(-1, 2)
    subset = _subset(score)
    score[:, :18] = subset  # its in-place loop, before the hiding below
    candidate[score < 0.3] = -1
    return {"bodies": {"candidate": body, "subset": subset}, "hands": _stack_hands(candidate),
            "faces": candidate[:, 24:92]}


def detector_input(poses: Poses):
    """What the pipelines' detectors start from, for the same keypoints: float64 pixels and float64 scores."""
    return poses.exact_keypoints.copy(), poses.scores.astype(np.float64)


def assert_same_dict(ours: dict, theirs: dict):
    for key, value in theirs.items():
        if isinstance(value, dict):
            assert_same_dict(ours[key], value)
        else:
            assert ours[key].dtype == np.float64 and ours[key].shape == value.shape, key
            assert np.array_equal(ours[key], value, equal_nan=True), key


def random_poses(seed: int, n: int, width: int, height: int, non_finite=False) -> Poses:
    rng = np.random.default_rng(seed)
    keypoints = rng.uniform(-0.2, 1.2, (n, 134, 2)) * [width, height]
    keypoints[rng.random((n, 134)) < 0.05] = -1.0
    if non_finite:
        odd = rng.random((n, 134, 2)) < 0.05
        keypoints[odd] = rng.choice([np.nan, np.inf, -np.inf, 1e300, -1e12], odd.sum())
    scores = rng.choice(np.float32([0, 0.05, 0.2, 0.29, 0.3, 0.31, 0.5, 0.9, 1.0, 1.2, -0.1]), (n, 134))
    scores = np.where(rng.random((n, 134)) < 0.5, scores, rng.uniform(0, 1.2, (n, 134)).astype(np.float32))
    return Poses(keypoints, scores, np.zeros((n, 4), np.float32), np.ones(n, np.float32), width, height)


def assert_lossless(poses: Poses, back: Poses):
    assert (back.width, back.height, len(back)) == (poses.width, poses.height, len(poses))
    assert back.exact_keypoints.dtype == np.float64 and back.scores.dtype == np.float32
    assert np.array_equal(back.exact_keypoints, poses.exact_keypoints, equal_nan=True)
    assert np.array_equal(back.keypoints, poses.keypoints, equal_nan=True)
    assert np.array_equal(back.scores, poses.scores, equal_nan=True)


SIZES = [(512, 768), (720, 1280), (1080, 1920), (535, 333), (64, 48), (1, 1)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 4), st.sampled_from(SIZES), st.sampled_from(["mimicmotion", "easy_dwpose"]))
def test_layout_is_theirs_and_the_round_trip_is_lossless(seed, n, size, layout):
    poses = random_poses(seed, n, *size)
    ours = poses.to_pose_dict(layout)
    builder = mimicmotion_dict if layout == "mimicmotion" else easy_dwpose_dict
    assert_same_dict(ours, builder(*detector_input(poses), *size))
    extras = {"mimicmotion": {"feet", "feet_score", "pixel_residual"},
              "easy_dwpose": {"feet", "feet_scores", "body_keypoint_scores", "pixel_residual"}}[layout]
    assert set(ours) == (MIMICMOTION_KEYS if layout == "mimicmotion" else EASY_DWPOSE_KEYS) | extras
    back = Poses.from_pose_dict(ours, *size)
    assert_lossless(poses, back)
    assert_same_dict(back.to_pose_dict(layout), ours)  # and the dict of the result is the same dict
    assert np.array_equal(back.boxes, np.tile(np.float32([0, 0, size[0], size[1]]), (n, 1)))
    assert not back.box_scores.any() and back.track_ids is None


def test_non_finite_and_huge_coordinates_survive_the_round_trip():
    poses = random_poses(3, 3, 720, 405, non_finite=True)
    assert np.isnan(poses.exact_keypoints).any() and np.isinf(poses.exact_keypoints).any()
    for layout in ("mimicmotion", "easy_dwpose"):
        assert_lossless(poses, Poses.from_pose_dict(poses.to_pose_dict(layout), 720, 405))


def test_the_residual_is_what_makes_it_exact():
    # x / W * W is not x for every W: W = 720 and this x are one such pair (found by search).
    x, width = -14.342273457770489, 720
    assert x / width * width != x
    poses = Poses(np.full((1, 134, 2), x), np.ones((1, 134), np.float32), np.zeros((1, 4), np.float32),
                  np.ones(1, np.float32), width, width)
    pose = poses.to_pose_dict()
    assert pose["pixel_residual"].any()
    assert_lossless(poses, Poses.from_pose_dict(pose, width, width))
    del pose["pixel_residual"]  # their own dict: within one unit in the last place
    lossy = Poses.from_pose_dict(pose, width, width).exact_keypoints
    assert not np.array_equal(lossy, poses.exact_keypoints)
    np.testing.assert_array_max_ulp(lossy, poses.exact_keypoints, maxulp=1)


def test_stand_in_model_poses(crowd_yolox, random_pose, crowd_image):
    poses = DWposeDetector(crowd_yolox, random_pose).detect(crowd_image)
    assert len(poses) == 6
    assert_same_dict(poses.to_pose_dict(), mimicmotion_dict(*detector_input(poses), poses.width, poses.height))
    assert_same_dict(poses.to_pose_dict("easy_dwpose"), easy_dwpose_dict(*detector_input(poses), poses.width, poses.height))
    for layout in ("mimicmotion", "easy_dwpose"):
        assert_lossless(poses, Poses.from_pose_dict(poses.to_pose_dict(layout), poses.width, poses.height))


def test_shapes_dtypes_and_hidden_points():
    poses = random_poses(5, 2, 512, 768)
    poses.scores[1, 3] = 0.2    # a hidden body point: -1 in the subset, its coordinates kept
    poses.scores[0, 100] = 0.0  # a hand point with score 0: kept with its score (nothing hides it)
    pose = poses.to_pose_dict()
    bodies = pose["bodies"]
    assert bodies["candidate"].shape == (36, 2) and bodies["subset"].shape == (2, 18) and bodies["score"].shape == (2, 18)
    assert pose["hands"].shape == (4, 21, 2) and pose["hands_score"].shape == (4, 21)
    assert pose["faces"].shape == (2, 68, 2) and pose["faces_score"].shape == (2, 68)
    assert pose["feet"].shape == (2, 6, 2) and pose["feet_score"].shape == (2, 6)
    assert bodies["subset"][1, 3] == -1 and bodies["subset"][1, 4] in (-1, 22)
    np.testing.assert_array_equal(bodies["candidate"][18 + 3], poses.exact_keypoints[1, 3] / [512, 768])
    # hands: rows 0, 1 the left hands (92-112) of persons 0 and 1, rows 2, 3 their right hands (113-133)
    np.testing.assert_array_equal(pose["hands"][1], poses.exact_keypoints[1, 92:113] / [512, 768])
    np.testing.assert_array_equal(pose["hands"][2], poses.exact_keypoints[0, 113:134] / [512, 768])
    assert pose["hands_score"][0, 100 - 92] == 0.0
    np.testing.assert_array_equal(pose["feet"][0], poses.exact_keypoints[0, 18:24] / [512, 768])
    assert_lossless(poses, Poses.from_pose_dict(pose, 512, 768))


def test_empty_poses():
    empty = Poses.empty(640, 480)
    for layout in ("mimicmotion", "easy_dwpose"):
        pose = empty.to_pose_dict(layout)
        candidate = pose["bodies"]["candidate"] if layout == "mimicmotion" else pose["bodies"]
        assert candidate.shape == (0, 2) and pose["hands"].shape == (0, 21, 2) and pose["faces"].shape == (0, 68, 2)
        back = Poses.from_pose_dict(pose, 640, 480)
        assert len(back) == 0 and back.exact_keypoints.shape == (0, 134, 2) and (back.width, back.height) == (640, 480)


def test_their_own_dicts_lose_only_what_they_drop():
    poses = random_poses(7, 2, 512, 768)
    candidate, score = detector_input(poses)
    back = Poses.from_pose_dict(mimicmotion_dict(candidate, score, 512, 768), 512, 768)
    keep = np.r_[0:18, 24:134]
    np.testing.assert_array_equal(back.scores[:, keep], poses.scores[:, keep])
    np.testing.assert_array_max_ulp(back.exact_keypoints[:, keep], poses.exact_keypoints[:, keep], maxulp=1)
    assert (back.exact_keypoints[:, 18:24] == [-512, -768]).all() and not back.scores[:, 18:24].any()  # no feet

    # easy_dwpose's dict has no body scores: 1 where the subset shows the point, else 0
    back = Poses.from_pose_dict(easy_dwpose_dict(candidate, score, 512, 768), 512, 768)
    np.testing.assert_array_equal(back.scores[:, :18], (score[:, :18] > 0.3).astype(np.float32))
    np.testing.assert_array_equal(back.scores[:, 24:], poses.scores[:, 24:])

    # MusePose's (ControlNet's) dict has no scores at all and -1 for hidden hand and face points
    back = Poses.from_pose_dict(musepose_dict(candidate, score, 512, 768), 512, 768)
    np.testing.assert_array_equal(back.scores[:, :18], (score[:, :18] > 0.3).astype(np.float32))
    np.testing.assert_array_equal(back.scores[:, 24:], (score[:, 24:] >= 0.3).astype(np.float32))


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="layout must be one of mimicmotion, easy-dwpose"):
        Poses.empty(8, 8).to_pose_dict("openpose")


def test_the_layout_is_spelt_as_the_style_and_the_old_spelling_still_works():
    poses = Poses(np.full((1, 134, 2), 7.5), np.full((1, 134), 0.9, np.float32), np.zeros((1, 4), np.float32),
                  np.ones(1, np.float32), 16, 16)
    assert_same_dict(poses.to_pose_dict("easy-dwpose"), poses.to_pose_dict("easy_dwpose"))
