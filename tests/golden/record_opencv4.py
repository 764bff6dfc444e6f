"""Record OpenCV 4.11's outputs of the two functions annotator/dwpose/opencv4.py reproduces, as goldens.

What it records (tests/test_opencv4.py holds `warp_affine_linear` and `line` to these bit for bit):

opencv4_warp_affine.npz
    cv2.warpAffine(source, M, (w, h), flags=cv2.INTER_LINEAR) (BORDER_CONSTANT, 0) of seeded random uint8
    sources (noise and blurred noise; HxWx3, HxW and HxWx4), with the matrices the pose crop makes
    (cv2.getAffineTransform of a padded box, as models/rtmpose.py crop_matrix: boxes inside the image, partly
    and wholly outside, zooming in up to 20x and out to 1/20, fractional corners; float64 and float32; one
    crop of the pose model's 192x256 input) and some rotations, shears and fractional shifts. Arrays:
    src_<k> (the sources); per case i: source_of[i], sizes[i] = (w, h), matrices[i] (float64; as float32
    where matrix_is_float32[i]), and the output, out_flat[out_offsets[i]:out_offsets[i + 1]] reshaped to
    out_shapes[i] (the trailing 0 of a 2-D output dropped).
opencv4_line.npz
    cv2.line(canvas, p1, p2, color, thickness) (LINE_8) on black canvases, one line per case: thicknesses
    1..8, 13 and 20; endpoints inside, on the edges, just outside, far outside (1e6, -1e6, 123456) and a few
    huge ones (1e9, 2**30, the int32 limits); zero-length lines; colours as float tuples (255 * HSV-like
    values, .5 halves, values below 0 and above 255), int tuples, one-number and 4-number colours. Cases of
    one canvas shape are stacked: <group>_canvas[N, H, W(, C)], <group>_p1[N, 2], <group>_p2, <group>_thickness,
    <group>_color[N, 4] with <group>_color_len (how many numbers) and <group>_color_is_int (ints or floats).
    "hands" is one 512x512 canvas with 600 lines of thickness 1..8 and float colours whose endpoints reach
    300 pixels beyond it, drawn one after another as the issue measured: hands_canvas (the result) and
    hands_p1, hands_p2, hands_thickness, hands_color (in drawing order).

Both files also hold opencv_version and numpy_version (what recorded them).

How to run it (an OpenCV 4.11 environment; numpy 2.x as in the main one), from the repository root:

    python -m venv /work/cv4
    /work/cv4/bin/pip install opencv-python-headless==4.11.0.86 numpy onnxruntime pillow huggingface_hub tqdm
    /work/cv4/bin/python tests/golden/record_opencv4.py

It needs cv2, numpy and the package's own dependencies (onnxruntime, pillow, huggingface_hub, tqdm: the
crop matrices are the package's own), refuses any other OpenCV than 4.11.0 (pass --any-opencv to record another for a
comparison, into --out), and is deterministic: the same cases from fixed seeds, and .npz files whose bytes do
not depend on the time they were written (fixed zip timestamps). The OpenCV 4.11 lines with huge negative
coordinates take seconds each (its FillConvexPoly walks every row from the top of the quad), so a run takes
about ten seconds. Rerun it only to change the cases; tests/test_opencv4.py reads the files it writes.
"""

from __future__ import annotations

import argparse
import colorsys
from pathlib import Path

import sys

import cv2
import numpy as np
from golden_npz import save_npz  # this folder, on the script's path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the pose crop's matrix
from annotator.dwpose.models.rtmpose import box_to_center_scale  # noqa: E402
from annotator.dwpose.models.rtmpose import crop_matrix as rtmpose_crop_matrix  # noqa: E402

HERE = Path(__file__).resolve().parent
WARP_FILE = "opencv4_warp_affine.npz"
LINE_FILE = "opencv4_line.npz"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


# ------------------------------------------------------------------------------------------------ warpAffine


def crop_matrix(box, out_wh, float32=False) -> np.ndarray:
    """The pose crop's matrix for `box` onto an out_wh input: the library's own (models/rtmpose.py
    box_to_center_scale and crop_matrix, the padded box's short side widened to the input's aspect ratio,
    through cv2.getAffineTransform)."""
    center, scale = box_to_center_scale(np.asarray(box, dtype=np.float64), out_wh[0] / out_wh[1])
    matrix = rtmpose_crop_matrix(center, scale, out_wh)
    return matrix.astype(np.float32) if float32 else matrix


def sources(rng) -> list:
    """Seeded uint8 images: noise (the hardest for rounding) and blurred noise (photo-like), 3, 1 and 4
    channels."""
    noise = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (61, 47, 3), dtype=np.uint8), (0, 0), 2.0)
    gray = rng.integers(0, 256, (29, 41), dtype=np.uint8)
    rgba = rng.integers(0, 256, (23, 31, 4), dtype=np.uint8)
    photo = cv2.GaussianBlur(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), (0, 0), 4.0)
    return [noise, smooth, gray, rgba, photo]


def random_box(rng, width, height, where) -> list:
    """A box (x1, y1, x2, y2) with fractional corners: inside the image, partly outside, wholly outside,
    tiny (zooming in) or huge (zooming out)."""
    if where == "tiny":
        w = rng.uniform(0.5, 4.0)
        h = rng.uniform(0.5, 4.0)
    elif where == "huge":
        w = rng.uniform(4, 20) * width
        h = rng.uniform(4, 20) * height
    else:
        w = rng.uniform(0.1, 0.9) * width
        h = rng.uniform(0.1, 0.9) * height
    if where == "partly":
        x1 = rng.uniform(-w * 0.8, width - w * 0.2)
        y1 = rng.uniform(-h * 0.8, height - h * 0.2)
    elif where == "outside":
        x1 = float(rng.choice([-w - rng.uniform(2, 50), width + rng.uniform(2, 50)]))
        y1 = rng.uniform(-h, height)
    elif where == "huge":
        x1, y1 = rng.uniform(-w, width), rng.uniform(-h, height)
    else:
        x1 = rng.uniform(0, max(width - w, 0.1))
        y1 = rng.uniform(0, max(height - h, 0.1))
    return [x1, y1, x1 + w, y1 + h]


def warp_cases(rng) -> list:
    """(source index, matrix, (w, h)) for every recorded warp."""
    srcs = sources(rng)
    cases = []
    sizes = [(24, 32), (13, 17), (16, 12), (32, 24)]
    for s, src in enumerate(srcs[:4]):
        height, width = src.shape[:2]
        for where in ("inside", "inside", "partly", "partly", "outside", "tiny", "tiny", "huge"):
            for k in range(2):
                size = sizes[int(rng.integers(len(sizes)))]
                box = random_box(rng, width, height, where)
                cases.append((s, crop_matrix(box, size, float32=bool(k and rng.random() < 0.5)), size))
        for k in range(3):  # rotations, shears, mirrored: not the crop's kind, but warpAffine all the same
            angle, zoom = rng.uniform(-180, 180), float(np.exp(rng.uniform(-1.5, 1.5)))
            matrix = cv2.getRotationMatrix2D((rng.uniform(0, width), rng.uniform(0, height)), angle, zoom)
            matrix[0, 1] += rng.uniform(-0.3, 0.3)
            if k == 2:
                matrix[0, :2] *= -1
            cases.append((s, matrix, sizes[k]))
        # fractional offsets on whole-number scales: positions exactly on 1/32 and 1/64 steps
        for dx, dy in ((0.5, 0.25), (1 / 64, 3 / 64), (-7.03125, 2.96875)):
            cases.append((s, np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]), (20, 16)))
            cases.append((s, np.array([[2.0, 0.0, dx], [0.0, 0.5, dy]]), (24, 32)))
    # crops of the pose model's input size (192x256; 96x128 at half)
    cases.append((4, crop_matrix([-30.5, 20.2, 40.1, 90.7], (192, 256)), (192, 256)))
    cases.append((4, crop_matrix([10.25, 8.5, 50.75, 55.125], (96, 128)), (96, 128)))
    return srcs, cases


def record_warps(rng) -> dict:
    srcs, cases = warp_cases(rng)
    outputs = [cv2.warpAffine(srcs[s], matrix, size, flags=cv2.INTER_LINEAR) for s, matrix, size in cases]
    arrays = {f"src_{i}": src for i, src in enumerate(srcs)}
    arrays["source_of"] = np.array([s for s, _, _ in cases], dtype=np.int64)
    arrays["sizes"] = np.array([size for _, _, size in cases], dtype=np.int64)
    arrays["matrices"] = np.stack([matrix.astype(np.float64) for _, matrix, _ in cases])
    arrays["matrix_is_float32"] = np.array([matrix.dtype == np.float32 for _, matrix, _ in cases])
    arrays["out_shapes"] = np.array([out.shape + (0,) * (3 - out.ndim) for out in outputs], dtype=np.int64)
    arrays["out_offsets"] = np.cumsum([0] + [out.size for out in outputs]).astype(np.int64)
    arrays["out_flat"] = np.concatenate([out.ravel() for out in outputs])
    return arrays


# ------------------------------------------------------------------------------------------------------ line


def special_points(width, height) -> list:
    """Endpoints inside, on each edge, just outside, far outside."""
    return [(width // 3, height // 2), (width - 5, 4), (0, height // 4), (width - 1, height - 1), (width // 2, 0),
            (-1, height // 3), (width, height // 2), (width // 4, height), (-3, -2), (width + 2, height + 7),
            (-40, height // 2 + 3), (width // 2, -57), (width * 3, height * 2), (-500, 700), (10**6, height // 3),
            (-10**6, 10**6), (width // 5, -10**6), (123456, -98765), (40000, 40000)]


HUGE_POINTS = [(10**9, 17), (-10**9, 30), (5, -10**9), (2**30, 2**30), (-2**30, 31), (INT32_MAX, 12),
               (20, INT32_MIN), (INT32_MIN, INT32_MAX)]


def random_color(rng):
    """A colour as the renderers pass them, or as cv2 takes them otherwise; never all zeros once saturated."""
    kind = int(rng.integers(6))
    if kind == 0:  # 255 * an HSV-like colour, as the hand edges
        values = [255 * v for v in colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.5, 1), rng.uniform(0.5, 1))]
    elif kind == 1:  # halves: OpenCV rounds them to even
        values = [float(v) + 0.5 for v in rng.integers(0, 255, 3)]
    elif kind == 2:  # out of range floats: saturated
        values = [float(v) for v in rng.uniform(-40, 300, 3)]
    elif kind == 3:  # one number: (v, 0, 0)
        values = [float(rng.integers(1, 256))]
    elif kind == 4:  # four numbers
        values = [int(v) for v in rng.integers(0, 256, 4)]
    else:
        values = [int(v) for v in rng.integers(0, 256, 3)]
    if all(round(min(max(v, 0), 255)) == 0 for v in values):
        values[0] = 200
    return tuple(values)


def line_group(rng, shape, pairs, thicknesses) -> dict:
    """One canvas of `shape` per (p1, p2, thickness, colour)."""
    canvases, p1s, p2s, ts, colors, lens, ints = [], [], [], [], [], [], []
    for (p1, p2), t in zip(pairs, thicknesses):
        color = random_color(rng)
        canvas = np.zeros(shape, dtype=np.uint8)
        cv2.line(canvas, p1, p2, color, t)
        canvases.append(canvas)
        p1s.append(p1)
        p2s.append(p2)
        ts.append(t)
        colors.append(list(color) + [0] * (4 - len(color)))
        lens.append(len(color))
        ints.append(isinstance(color[0], int))
    return {"canvas": np.stack(canvases), "p1": np.array(p1s, dtype=np.int64), "p2": np.array(p2s, dtype=np.int64),
            "thickness": np.array(ts, dtype=np.int64), "color": np.array(colors, dtype=np.float64),
            "color_len": np.array(lens, dtype=np.int64), "color_is_int": np.array(ints, dtype=bool)}


def random_point(rng, width, height):
    kind = int(rng.integers(5))
    if kind == 0:
        return int(rng.integers(0, width)), int(rng.integers(0, height))
    if kind == 1:
        return int(rng.integers(-30, width + 30)), int(rng.integers(-30, height + 30))
    if kind == 2:
        return int(rng.integers(-3000, 3000)), int(rng.integers(-3000, 3000))
    if kind == 3:
        return int(rng.integers(-40000, 40000)), int(rng.integers(-40000, 40000))
    return tuple(int(v) for v in rng.choice([-10**6, 10**6, 0, -1, width, height, width - 1, 77777], 2))


def record_lines(rng) -> dict:
    thicknesses = [1, 2, 3, 4, 5, 6, 7, 8, 13, 20]
    groups = {}
    # "edges": every pair of special points on a 64x64 canvas, thickness cycling.
    points = special_points(64, 64)
    pairs = [(a, b) for i, a in enumerate(points) for b in points[i:]]
    ts = [thicknesses[i % len(thicknesses)] for i in range(len(pairs))]
    groups["edges"] = line_group(rng, (64, 64, 3), pairs, ts)
    # "random": random endpoints on a 48x80 canvas, thicknesses as the renderers use (2 the most).
    pairs = [(random_point(rng, 80, 48), random_point(rng, 80, 48)) for _ in range(300)]
    ts = [int(rng.choice([1, 2, 2, 2, 3, 4, 5, 6, 7, 8])) for _ in pairs]
    groups["random"] = line_group(rng, (48, 80, 3), pairs, ts)
    # "huge": endpoints of 1e9, 2**30 and the int32 limits (few: OpenCV 4.11 takes seconds on each).
    pairs = [((30, 20), HUGE_POINTS[i]) for i in range(len(HUGE_POINTS))] + [(HUGE_POINTS[0], HUGE_POINTS[2])]
    groups["huge"] = line_group(rng, (40, 56, 3), pairs, [2, 3, 8, 2, 5, 2, 4, 1, 2])
    # "gray": one channel.
    pairs = [(random_point(rng, 40, 40), random_point(rng, 40, 40)) for _ in range(60)]
    groups["gray"] = line_group(rng, (40, 40), pairs, [int(rng.choice(thicknesses)) for _ in pairs])
    arrays = {f"{group}_{key}": value for group, data in groups.items() for key, value in data.items()}
    # "hands": 600 thick lines with endpoints beyond a 512x512 canvas, drawn one after another.
    canvas = np.zeros((512, 512, 3), dtype=np.uint8)
    p1 = rng.integers(-300, 812, (600, 2))
    p2 = rng.integers(-300, 812, (600, 2))
    ts = rng.integers(1, 9, 600)
    hsv = rng.uniform(0, 1, (600, 3))
    # 255 * HSV colours, kept to 1/8 steps (fractions and halves as before, but a smaller file)
    colors = np.array([[round(255 * 8 * v) / 8 for v in colorsys.hsv_to_rgb(h, 0.5 + s / 2, 0.5 + v / 2)]
                       for h, s, v in hsv])
    for a, b, t, c in zip(p1, p2, ts, colors):
        cv2.line(canvas, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), tuple(float(v) for v in c), int(t))
    arrays.update(hands_canvas=canvas, hands_p1=p1.astype(np.int64), hands_p2=p2.astype(np.int64),
                  hands_thickness=ts.astype(np.int64), hands_color=colors)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write the .npz files to (default: here)")
    parser.add_argument("--any-opencv", action="store_true", help="record with an OpenCV other than 4.11.0")
    args = parser.parse_args()
    if cv2.__version__ != "4.11.0" and not args.any_opencv:
        parser.error(f"the goldens are OpenCV 4.11.0's; this is OpenCV {cv2.__version__} (see the docstring)")
    versions = {"opencv_version": np.array(cv2.__version__), "numpy_version": np.array(np.__version__)}
    args.out.mkdir(parents=True, exist_ok=True)
    warps = record_warps(np.random.default_rng(20251)) | versions
    save_npz(args.out / WARP_FILE, warps)
    lines = record_lines(np.random.default_rng(20252)) | versions
    save_npz(args.out / LINE_FILE, lines)
    for name in (WARP_FILE, LINE_FILE):
        print(f"{args.out / name}: {(args.out / name).stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
