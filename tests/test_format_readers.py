"""Every format the project writes is read back (Poses.from_*): write -> read -> write gives the same data, and
read -> draw gives the map the written poses give, pixel for pixel, in every style.

What each format keeps decides what "the written poses" are. Parquet rows and COCO-WholeBody results keep
coordinates and scores: their map is the original's in every style. OpenPose JSON, POSE_KEYPOINT, jsonl lines
and npz keep only which points are shown (confidence 1 or 0, or -1 for hidden): their map is the original's
in the styles that draw by visibility (controlnet, sd-webui-controlnet, musepose; unianimate where the feet
are written), and in every style it is the map of `as_written(poses)`: shown points with score 1, hidden
points at (0, 0) with score 0 (MimicMotion shades by score; easy-dwpose draws hidden hand and face points).
"""

import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.dwpose import Poses
from annotator.dwpose.render import STYLES, draw_poses
from annotator.dwpose.skeleton import FEET, NUM_COCO, NUM_OPENPOSE, coco_to_openpose

VISIBILITY_STYLES = ("controlnet", "sd-webui-controlnet", "musepose")


@st.composite
def poses_strategy(draw, max_people=3, finite=False):
    """Poses in a small image: points around and beyond the canvas, some on whole pixels, scores at and
    around the threshold, some NaN coordinates, with or without track ids."""
    n = draw(st.integers(0, max_people))
    width, height = draw(st.integers(8, 300)), draw(st.integers(8, 300))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    points = rng.uniform(-0.2, 1.2, (n, NUM_OPENPOSE, 2)) * [width, height]
    whole = rng.random((n, NUM_OPENPOSE)) < 0.2
    points[whole] = np.round(points[whole])
    scores = rng.choice(np.array([0.0, 0.1, 0.3, 0.31, 0.6, 1.0], np.float32), (n, NUM_OPENPOSE))
    if not finite:
        points[rng.random((n, NUM_OPENPOSE)) < 0.03] = np.nan
    ids = rng.integers(0, 1000, n) if draw(st.booleans()) else None
    boxes = rng.uniform(0, 100, (n, 4)).astype(np.float32)
    return Poses(points, scores, boxes, rng.uniform(0, 1, n).astype(np.float32), width, height, ids)


def as_written(poses: Poses, feet: bool = False, hidden_at=(0.0, 0.0)) -> Poses:
    """The poses a visibility-only format carries: shown points with score 1, hidden ones at `hidden_at` (pixels:
    JSON's (0, 0); npz's relative -1 is (-W, -H)) with score 0; feet hidden unless the format writes them."""
    shown = poses.visible()
    if not feet:
        shown[:, FEET] = False
    points = np.where(shown[..., None], poses.exact_keypoints, np.array(hidden_at, dtype=np.float64))
    return Poses(points, shown.astype(np.float32), poses.boxes, poses.box_scores, poses.width, poses.height,
                 poses.track_ids)


def assert_same_maps(read: Poses, expected: Poses, styles=STYLES, **options):
    for style in styles:
        np.testing.assert_array_equal(draw_poses(read, style=style, **options),
                                      draw_poses(expected, style=style, **options), err_msg=style)


def json_trip(value):
    """As a file would give it back."""
    return json.loads(json.dumps(value))


def reads_as_pixels(poses: Poses) -> bool:
    """A frame whose every shown coordinate lies within [-2, 2] reads as normalised (test_normalised_frames)."""
    shown = poses.exact_keypoints[poses.visible()]
    return shown.size == 0 or bool((np.abs(shown) > 2).any())


@settings(max_examples=40, deadline=None)
@given(poses_strategy())
def test_openpose_json_and_jsonl_lines(poses):
    written = json_trip(poses.to_openpose_json())
    if not reads_as_pixels(poses):
        read = Poses.from_openpose_json(written, normalized=False)
    else:
        read = Poses.from_openpose_json(written)
    assert read.to_openpose_json() == written
    assert (read.width, read.height) == (poses.width, poses.height)
    if poses.track_ids is None or len(poses) == 0:
        assert read.track_ids is None
    else:
        np.testing.assert_array_equal(read.track_ids, poses.track_ids)
    line = json_trip({"frame": 7, "time": 0.25, **poses.to_openpose_json()})  # a jsonl line
    assert Poses.from_openpose_json(line, normalized=read.normalized_keypoints is not None).to_openpose_json() == written
    assert_same_maps(read, as_written(poses))
    assert_same_maps(read, poses, VISIBILITY_STYLES)


@settings(max_examples=40, deadline=None)
@given(poses_strategy(), st.booleans(), st.booleans())
def test_pose_keypoint(poses, hands, face):
    written = json_trip(poses.to_pose_keypoint(include_hand=hands, include_face=face, include_foot=True))
    read = Poses.from_pose_keypoint(written) if reads_as_pixels(poses) else \
        Poses.from_openpose_json(written, normalized=False)
    assert read.to_pose_keypoint(include_hand=hands, include_face=face, include_foot=True) == written
    if hands and face:
        assert_same_maps(read, as_written(poses, feet=True), include_foot=True)
        # unianimate's toe points use the feet's scores, not their visibility: the same where coordinates are finite
        finite = bool(np.isfinite(poses.exact_keypoints).all())
        assert_same_maps(read, poses, VISIBILITY_STYLES + (("unianimate",) if finite else ()), include_foot=True)


@settings(max_examples=40, deadline=None)
@given(poses_strategy())
def test_npz(poses):
    written = io.BytesIO()
    poses.save_npz(written)
    written.seek(0)
    read = Poses.from_npz(written, poses.width, poses.height)
    again = io.BytesIO()
    read.save_npz(again)
    first, second = (np.load(io.BytesIO(f.getvalue()), allow_pickle=True) for f in (written, again))
    assert sorted(first) == sorted(second)
    for key in first:
        for part in ("body", "face", "hands"):
            np.testing.assert_array_equal(first[key].item()[part], second[key].item()[part])
    # npz coordinates are relative: styles drawing from relative coordinates give the written map exactly;
    # sd-webui-controlnet draws pixels, and x / W * W is not x for every x (one pixel off at most).
    hidden_at = (-float(poses.width), -float(poses.height))  # wan-animate averages shown and hidden points
    assert_same_maps(read, as_written(poses, hidden_at=hidden_at), [s for s in STYLES if s != "sd-webui-controlnet"])
    assert_same_maps(read, poses, ("controlnet", "musepose"))


def test_npz_pixels_in_the_web_ui_style_are_relative_times_size():
    """The one place an npz's map can move a pixel: sd-webui-controlnet draws pixel coordinates, and the
    file only has x / W (for W = 720, 41 whole-pixel x of 720 truncate one lower after x / W * W)."""
    x = next(v for v in range(720) if int(v / 720 * 720) != v)
    points = np.full((1, NUM_OPENPOSE, 2), 100.0)
    points[0, :18, 0] = x
    poses = Poses(points, np.ones((1, NUM_OPENPOSE), np.float32), np.zeros((1, 4), np.float32),
                  np.zeros(1, np.float32), 720, 400)
    buffer = io.BytesIO()
    poses.save_npz(buffer)
    buffer.seek(0)
    read = Poses.from_npz(buffer, 720, 400)
    assert int(read.exact_keypoints[0, 0, 0]) == x - 1
    np.testing.assert_array_equal(draw_poses(read), draw_poses(poses))  # the reference's relative drawing


@settings(max_examples=30, deadline=None)
@given(poses_strategy())
def test_parquet_rows(poses):
    pytest.importorskip("pyarrow")
    from annotator.dwpose.formats.table import rows_table

    row = poses.to_row("/data/clip.mp4", 3, 0.1)
    read = Poses.from_row(rows_table([row]).to_pylist()[0])
    assert json.dumps(read.to_row("/data/clip.mp4", 3, 0.1)) == json.dumps(row)  # NaN spelt NaN on both sides
    np.testing.assert_array_equal(read.exact_keypoints, poses.exact_keypoints)
    np.testing.assert_array_equal(read.scores, poses.scores)
    assert_same_maps(read, poses, include_foot=True)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 3), st.integers(8, 300), st.integers(8, 300), st.integers(0, 2**32 - 1))
def test_coco_wholebody_results(n, width, height, seed):
    """COCO results keep coordinates and scores of the 133 points; the neck is not in them and is made from the
    shoulders again, as the pipeline makes it: poses made that way come back whole."""
    rng = np.random.default_rng(seed)
    coco = rng.uniform(-0.2, 1.2, (n, NUM_COCO, 2)) * [width, height]
    coco_scores = rng.choice(np.array([0.0, 0.2, 0.3, 0.5, 0.9], np.float32), (n, NUM_COCO))
    points, scores = coco_to_openpose(coco, coco_scores)
    poses = Poses(points, scores, np.zeros((n, 4), np.float32), np.zeros(n, np.float32), width, height)
    written = json_trip(poses.to_coco_wholebody(5))
    read = Poses.from_coco_wholebody(written, width, height)
    assert json_trip(read.to_coco_wholebody(5)) == written
    np.testing.assert_array_equal(read.exact_keypoints, poses.exact_keypoints)
    np.testing.assert_array_equal(read.scores, poses.scores)
    assert_same_maps(read, poses, include_foot=True)


@settings(max_examples=20, deadline=None)
@given(poses_strategy(finite=True), st.sampled_from(["mimicmotion", "easy-dwpose"]))
def test_pose_dicts_draw_the_original_map(poses, layout):
    read = Poses.from_pose_dict(poses.to_pose_dict(layout), poses.width, poses.height)
    assert_same_maps(read, poses, include_foot=True)
