"""annotator/dwpose/opencv4.py gives OpenCV 4.11's warpAffine (INTER_LINEAR) and cv2.line bit for bit.

The goldens (tests/golden/*.npz) are OpenCV 4.11's own outputs, written by tests/golden/record_opencv4.py;
they hold under whatever cv2 is installed. Where the installed cv2 is a release that gives those results
itself (opencv4.CV2_WARP_IS_REFERENCE / CV2_LINE_IS_REFERENCE), the portable code is also compared with it on
fresh random cases.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from annotator.dwpose import opencv4

GOLDEN = Path(__file__).resolve().parent / "golden"
LINE_GROUPS = ("edges", "random", "huge", "gray")


@pytest.fixture(scope="module")
def warp_golden():
    with np.load(GOLDEN / "opencv4_warp_affine.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def line_golden():
    with np.load(GOLDEN / "opencv4_line.npz") as data:
        return {key: data[key] for key in data.files}


def warp_cases(golden):
    """(source, matrix, (w, h), OpenCV 4.11's output) of every recorded warp."""
    offsets = golden["out_offsets"]
    for i, (source, (w, h)) in enumerate(zip(golden["source_of"], golden["sizes"])):
        matrix = golden["matrices"][i]
        if golden["matrix_is_float32"][i]:
            matrix = matrix.astype(np.float32)
        shape = tuple(int(v) for v in golden["out_shapes"][i] if v)
        expected = golden["out_flat"][offsets[i]:offsets[i + 1]].reshape(shape)
        yield golden[f"src_{source}"], matrix, (int(w), int(h)), expected


def line_cases(golden, group):
    """(canvas shape, p1, p2, colour as recorded, thickness, OpenCV 4.11's canvas) of one group's lines."""
    for canvas, p1, p2, t, color, n, is_int in zip(golden[f"{group}_canvas"], golden[f"{group}_p1"],
                                                   golden[f"{group}_p2"], golden[f"{group}_thickness"],
                                                   golden[f"{group}_color"], golden[f"{group}_color_len"],
                                                   golden[f"{group}_color_is_int"]):
        values = color[:n]
        color = tuple(int(v) for v in values) if is_int else tuple(float(v) for v in values)
        yield canvas.shape, (int(p1[0]), int(p1[1])), (int(p2[0]), int(p2[1])), color, int(t), canvas


def huge(p1, p2) -> bool:
    """Coordinates that make OpenCV 4's own FillConvexPoly walk millions of rows (seconds a line)."""
    return max(abs(v) for v in (*p1, *p2)) > 10**7


def mismatches(cases, draw) -> list:
    """The cases (as strings) where draw(case) differs from the expected output, with how many pixels."""
    bad = []
    for case in cases:
        *args, expected = case
        got = draw(*args)
        if not np.array_equal(got, expected):
            bad.append(f"{args[1:]}: {int(np.count_nonzero(got != expected))} values differ")
    return bad


def test_goldens_are_opencv_4_11(warp_golden, line_golden):
    assert str(warp_golden["opencv_version"]) == "4.11.0"
    assert str(line_golden["opencv_version"]) == "4.11.0"
    assert len(warp_golden["source_of"]) >= 100
    assert sum(len(line_golden[f"{group}_p1"]) for group in LINE_GROUPS) >= 500


@pytest.mark.parametrize("function", [opencv4._warp_affine_linear_portable, opencv4.warp_affine_linear])
def test_warp_affine_matches_goldens(warp_golden, function):
    bad = mismatches(warp_cases(warp_golden), lambda src, matrix, size: function(src, matrix, size))
    assert not bad, f"{len(bad)} warps differ from OpenCV 4.11: {bad[:5]}"


def test_warp_affine_output_type(warp_golden):
    for src, matrix, size, expected in warp_cases(warp_golden):
        got = opencv4._warp_affine_linear_portable(src, matrix, size)
        assert got.dtype == np.uint8 and got.shape == expected.shape and got.flags.c_contiguous


def draw_portable(shape, p1, p2, color, thickness, numpy_fill=False):
    canvas = np.zeros(shape, dtype=np.uint8)
    opencv4._line_portable(canvas, p1, p2, color, thickness, numpy_fill=numpy_fill)
    return canvas


@pytest.mark.parametrize("group", LINE_GROUPS)
@pytest.mark.parametrize("numpy_fill", [False, True], ids=["cv2-fill", "numpy-fill"])
def test_portable_line_matches_goldens(line_golden, group, numpy_fill):
    bad = mismatches(line_cases(line_golden, group),
                     lambda shape, p1, p2, color, t: draw_portable(shape, p1, p2, color, t, numpy_fill))
    assert not bad, f"{len(bad)} lines differ from OpenCV 4.11: {bad[:5]}"


@pytest.mark.parametrize("group", LINE_GROUPS)
def test_line_matches_goldens(line_golden, group):
    def draw(shape, p1, p2, color, thickness):
        canvas = np.zeros(shape, dtype=np.uint8)
        opencv4.line(canvas, p1, p2, color, thickness)
        return canvas

    cases = [case for case in line_cases(line_golden, group)
             if not (opencv4.CV2_LINE_IS_REFERENCE and huge(case[1], case[2]))]  # cv2 4.x: seconds each
    bad = mismatches(cases, draw)
    assert not bad, f"{len(bad)} lines differ from OpenCV 4.11: {bad[:5]}"


@pytest.mark.parametrize("draw", [opencv4._line_portable, opencv4.line])
def test_hand_lines_drawn_over_each_other_match_golden(line_golden, draw):
    """600 thick and thin lines leaving a 512x512 canvas, each drawn over the ones before."""
    canvas = np.zeros_like(line_golden["hands_canvas"])
    for p1, p2, t, color in zip(line_golden["hands_p1"], line_golden["hands_p2"], line_golden["hands_thickness"],
                                line_golden["hands_color"]):
        draw(canvas, (int(p1[0]), int(p1[1])), (int(p2[0]), int(p2[1])), tuple(float(v) for v in color), int(t))
    assert np.array_equal(canvas, line_golden["hands_canvas"]), \
        f"{np.count_nonzero((canvas != line_golden['hands_canvas']).any(axis=2))} pixels differ from OpenCV 4.11"


def test_line_draws_in_place_and_takes_numpy_integers():
    canvas = np.zeros((32, 32, 3), dtype=np.uint8)
    opencv4._line_portable(canvas, (np.int64(-5), np.int32(3)), (40, np.int16(20)), (np.float64(10.5), 300, -4),
                           np.int64(3))
    assert {tuple(v) for v in canvas.reshape(-1, 3).tolist()} == {(0, 0, 0), (10, 255, 0)}  # 10.5: half to even


@pytest.mark.parametrize("thickness", [0, -1, 32768])
def test_line_rejects_thickness_cv2_rejects(thickness):
    with pytest.raises(ValueError):
        opencv4._line_portable(np.zeros((8, 8, 3), np.uint8), (0, 0), (5, 5), (255, 0, 0), thickness)


def test_line_rejects_points_beyond_int32():
    with pytest.raises(OverflowError):
        opencv4._line_portable(np.zeros((8, 8, 3), np.uint8), (0, 2**31), (5, 5), (255, 0, 0), 2)
    with pytest.raises(TypeError):
        opencv4._line_portable(np.zeros((8, 8, 3), np.uint8), (0.5, 2), (5, 5), (255, 0, 0), 2)


def test_warp_affine_rejects_what_it_does_not_reproduce():
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError):
        opencv4._warp_affine_linear_portable(image.astype(np.float32), np.eye(2, 3), (4, 4))
    with pytest.raises(ValueError):
        opencv4._warp_affine_linear_portable(image, np.eye(3), (4, 4))


def test_warp_affine_large_output_is_tiled_like_one_remap():
    """Outputs of 16384 pixels or more a side go through cv2.remap in parts (it takes sides < 32767)."""
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    matrix = np.array([[1.7, 0.1, -3.25], [0.05, 0.9, 2.5]])
    wide = opencv4._warp_affine_linear_portable(image, matrix, (16390, 3))
    narrow = opencv4._warp_affine_linear_portable(image, matrix, (64, 3))
    assert np.array_equal(wide[:, :64], narrow)
    assert not wide[:, 64:].any()  # those source positions are all beyond the image


# ------------------------------------------------------------------- against the installed cv2 where it is 4.x


def random_crop_case(rng):
    height, width = (int(v) for v in rng.integers(8, 400, 2))
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), 2.0)
    size = [(192, 256), (288, 384), (48, 64), (17, 9)][int(rng.integers(4))]
    zoom = float(np.exp(rng.uniform(-3, 3)))
    matrix = np.array([[zoom, 0.0, rng.uniform(-width, width) * zoom],
                       [0.0, zoom, rng.uniform(-height, height) * zoom]])
    if rng.random() < 0.2:
        matrix[0, 1], matrix[1, 0] = rng.uniform(-1, 1, 2)
    if rng.random() < 0.2:
        matrix = matrix.astype(np.float32)
    return image, matrix, size


@pytest.mark.skipif(not opencv4.CV2_WARP_IS_REFERENCE, reason=f"OpenCV {cv2.__version__}'s warpAffine is not 4.11's")
def test_warp_affine_portable_equals_installed_opencv4():
    seed = int(np.random.SeedSequence().entropy)  # fresh cases every run; the seed replays a failure
    rng = np.random.default_rng(seed)
    for _ in range(200):
        image, matrix, size = random_crop_case(rng)
        expected = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR)
        got = opencv4._warp_affine_linear_portable(image, matrix, size)
        assert np.array_equal(got, expected), f"seed {seed}: {matrix.tolist()} {size}"


def random_point(rng, width, height):
    spread = [0, 30, 3000, 40000, 10**6][int(rng.integers(5))]
    return (int(rng.integers(-spread, width + spread)), int(rng.integers(-spread, height + spread)))


@pytest.mark.skipif(not opencv4.CV2_LINE_IS_REFERENCE, reason=f"OpenCV {cv2.__version__}'s thick lines are not 4.11's")
def test_line_portable_equals_installed_opencv4():
    seed = int(np.random.SeedSequence().entropy)
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        height, width = (int(v) for v in rng.integers(1, 200, 2))
        p1, p2 = random_point(rng, width, height), random_point(rng, width, height)
        thickness = int(rng.choice([1, 2, 2, 3, 4, 5, 6, 7, 8]))
        color = tuple(float(v) for v in rng.uniform(-20, 280, 3))
        background = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        expected, got, got_numpy = background.copy(), background.copy(), background.copy()
        cv2.line(expected, p1, p2, color, thickness)
        opencv4._line_portable(got, p1, p2, color, thickness)
        opencv4._line_portable(got_numpy, p1, p2, color, thickness, numpy_fill=True)
        case = f"seed {seed}: {p1} {p2} thickness {thickness} on {width}x{height}"
        assert np.array_equal(got, expected), case
        assert np.array_equal(got_numpy, expected), case


def test_warp_affine_from_a_source_too_big_for_remap():
    """cv2.remap (and 4.11's warpAffine) takes no source side of 32767 or more: the portable warp then remaps each
    part of the output from the window of the source it reaches, with the same positions and fractions. For a
    source between 16384 and 32766 rows (where remap still takes the whole source) that gives the same pixels;
    beyond, a crop's pixels where OpenCV raises, and a whole 1,000,000-row image shrunk into a crop."""
    from annotator.dwpose.opencv4 import _fixed_point_maps, _int16_positions, _warp_affine_linear_portable

    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (20000, 30, 3), np.uint8)
    # a crop around (2, 15000), scaled, slightly sheared, partly outside the image (x < 0)
    matrix = np.array([[1.37, 0.02, 10 - 1.37 * 2 - 0.02 * 15000], [-0.018, 1.52, 30 + 0.018 * 2 - 1.52 * 15000]])
    xy, alpha = _fixed_point_maps(matrix, (48, 64))
    whole = cv2.remap(image, _int16_positions(xy), alpha, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                      borderValue=0)
    assert whole.any() and not whole[:, 0].any()
    np.testing.assert_array_equal(_warp_affine_linear_portable(image, matrix, (48, 64)), whole)
    tall = np.concatenate([image, image[:16000]])  # 36000 rows: remap alone refuses it
    with pytest.raises(cv2.error):
        cv2.remap(tall, _int16_positions(xy), alpha, cv2.INTER_LINEAR)
    np.testing.assert_array_equal(_warp_affine_linear_portable(tall, matrix, (48, 64)), whole)
    outside = np.array([[1.0, 0.0, -50.0], [0.0, 1.0, -5.0]])  # the output's source is right of the image
    assert not _warp_affine_linear_portable(tall, outside, (8, 8)).any()
    huge = np.full((1_000_000, 4, 3), 200, np.uint8)
    shrunk = _warp_affine_linear_portable(huge, np.array([[1.0, 0.0, 0.0], [0.0, 1e-4, 0.0]]), (4, 100))
    assert (shrunk == 200).all()
