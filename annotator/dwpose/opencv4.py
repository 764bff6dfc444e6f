"""OpenCV 4.11's warpAffine (INTER_LINEAR) and thick cv2.line, bit for bit, under any installed OpenCV.

ControlNet's OpenPose models were trained on maps drawn with OpenCV 4, and the DWPose reference crops people
with OpenCV 4. Two of the OpenCV functions the pipeline uses give other results in later releases (read in the
opencv-python-headless 4.11.0.86 and 5.1.0.95 source distributions, which carry OpenCV's tree; sha256
996eb282... and 9002add1...):

warpAffine, INTER_LINEAR, uint8 (the pose model's crop)
    4.11 (modules/imgproc/src/imgwarp.cpp: cv::warpAffine -> hal::warpAffine -> WarpAffineInvoker, then
    warpAffineBlockline and cv::remap -> remapBilinear / RemapVec_8u): the matrix is inverted in double;
    every destination pixel's source position is found in fixed point, adelta[x] = cvRound(M0*x*1024),
    X0(y) = cvRound((M1*y + M2)*1024) + 16, X = (X0 + adelta) >> 5, so the position is snapped to 1/32 of a
    pixel (INTER_BITS = 5); the 2x2 neighbours are blended with the integer weights of BilinearTab_i
    (INTER_REMAP_COEF_BITS = 15) and rounded, (sum + 2**14) >> 15; outside pixels count as 0. IPP is not
    used there (the IPP path needs cv::ipp::useIPP_NotExact(), off by default; IPP_DISABLE_WARPAFFINE).
    5.1 runs other code: by default the IPP HAL (hal/ipp/src/warp_ipp.cpp ipp_hal_warpAffine, whose table
    takes 8U C1/C3/C4 INTER_LINEAR; opencv/opencv PRs #27324, #29669, #29771), and with IPP off the float
    kernels of modules/imgproc/src/warp_kernels.simd.hpp (warpAffineLinearInvoker_8UC3; opencv/opencv PR
    #25984): the matrix as float32, positions in float without the 1/32 snapping, float weights,
    v0 + sx*(v1 - v0), then saturate_cast. Both differ from 4.11 (IPP on or off) by up to 7 levels, on about
    a third of the pixels of crops of noise and about a tenth of those of photos (4.12 to 4.14 still give
    4.11's results: measured). cv::remap with fixed-point maps (CV_16SC2 + CV_16UC1) still runs the unchanged
    remapBilinear / RemapVec_8u with the same BilinearTab_i in 5.1, so `warp_affine_linear` computes 4.11's
    fixed-point maps in numpy and hands them to cv2.remap.

line, LINE_8, thickness > 1 (hands and feet)
    4.11 (modules/imgproc/src/drawing.cpp ThickLine): the quad p0 +- dp, p1 -+ dp in 16-bit fixed point
    (dp = cvRound of the unit normal times thickness/2) is filled by FillConvexPoly (outline by Line2, then
    the scanline fill), and each end gets Circle(center, (thickness + 1) // 2, filled). 5.1 (and 4.13,
    4.14: measured; opencv/opencv PR #27366, issue #27365) first clips the segment with clipLine to the canvas
    grown by `thickness` on every side when an endpoint is outside (thickness > 1, shift 0); the clipped,
    rounded endpoints change the quad's slope and its fixed-point edges, so pixels along lines that leave the
    canvas differ. Thin lines (LineIterator), FillConvexPoly, Line2, clipLine and Circle are
    unchanged, so `line` computes 4.11's quad and draws it with cv2.fillConvexPoly(shift=16) and the caps
    with cv2.circle; a quad whose fixed-point corners do not fit int32 (an endpoint beyond about 32767
    pixels) is filled by a numpy port of FillConvexPoly and Line2 instead, as cv2.fillConvexPoly only takes
    int32 points. Thin lines are cv2.line itself.

Where the installed cv2 is a release measured to give these results itself (CV2_WARP_IS_REFERENCE: 4.7 to
4.14; CV2_LINE_IS_REFERENCE: 4.7 to 4.12), the public functions call it; `_warp_affine_linear_portable` and
`_line_portable` are the implementation used elsewhere, callable directly so the tests exercise it under any
OpenCV. tests/golden/record_opencv4.py records the goldens (OpenCV 4.11 outputs) that tests/test_opencv4.py
holds both to.
"""

from __future__ import annotations

import operator
import re

import cv2
import numpy as np

__all__ = ["warp_affine_linear", "line", "CV2_WARP_IS_REFERENCE", "CV2_LINE_IS_REFERENCE"]


def _release(version: str) -> tuple[int, int]:
    """(major, minor) of a cv2.__version__ string; (0, 0) when it has none."""
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


# Releases whose own cv2 gives 4.11's results, checked on the goldens' kinds of cases (opencv-python-headless
# 4.7, 4.8, 4.9, 4.10, 4.11, 4.12, 4.13 and 4.14): warpAffine INTER_LINEAR on uint8 through 4.14 (the new
# kernels and the IPP HAL path are 5.x only); thick lines through 4.12 (4.13 clips them first).
CV2_WARP_IS_REFERENCE = (4, 7) <= _release(cv2.__version__) <= (4, 14)
CV2_LINE_IS_REFERENCE = (4, 7) <= _release(cv2.__version__) <= (4, 12)

_AB_BITS = 10  # WarpAffineInvoker: AB_BITS = MAX(10, INTER_BITS)
_INTER_BITS = 5  # positions in 1/32 pixel
_INTER_TAB_MASK = (1 << _INTER_BITS) - 1
_ROUND_DELTA = (1 << _AB_BITS) // (1 << _INTER_BITS) // 2  # AB_SCALE / INTER_TAB_SIZE / 2 = 16
_MAX_REMAP_SIDE = 16384  # cv::remap takes sides < SHRT_MAX; 4.11's warpAffine remaps 64-row blocks

_XY_SHIFT = 16
_XY_ONE = 1 << _XY_SHIFT
_MAX_THICKNESS = 32767
_DBL_EPSILON = float(np.finfo(np.float64).eps)
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1


# --------------------------------------------------------------------------------------------- warpAffine


def _cv_round_int32(values: np.ndarray) -> np.ndarray:
    """saturate_cast<int>(double) = cvRound on x86-64 (cvtsd2si): round half to even; NaN and results outside
    int32 give INT_MIN."""
    rounded = np.rint(values)
    with np.errstate(invalid="ignore"):
        outside = ~((rounded >= _INT32_MIN) & (rounded <= _INT32_MAX))
    return np.where(outside, float(_INT32_MIN), rounded).astype(np.int32)


def _inverse_affine(matrix) -> tuple[float, float, float, float, float, float]:
    """cv::warpAffine's inversion of M (no WARP_INVERSE_MAP), in the same double operations."""
    m = np.asarray(matrix)
    if m.shape != (2, 3) or m.dtype not in (np.float32, np.float64):
        raise ValueError(f"the affine matrix must be a 2x3 float32 or float64 array, not {m.dtype} {m.shape}")
    m0, m1, m2, m3, m4, m5 = (float(v) for v in m.astype(np.float64).ravel())
    d = m0 * m4 - m1 * m3
    d = 1.0 / d if d != 0 else 0.0
    a11, a22 = m4 * d, m0 * d
    m0, m1, m3, m4 = a11, m1 * -d, m3 * -d, a22
    b1 = -m0 * m2 - m1 * m5
    b2 = -m3 * m2 - m4 * m5
    return m0, m1, b1, m3, m4, b2


def _fixed_point_maps(matrix, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The maps 4.11's warpAffine hands to remap for INTER_LINEAR: (H, W, 2) integer source positions (int32,
    not yet saturated to remap's int16) and (H, W) uint16 table indices (y fraction * 32 + x fraction, in 1/32
    pixel)."""
    w, h = size
    m0, m1, m2, m3, m4, m5 = _inverse_affine(matrix)
    xs = np.arange(w, dtype=np.float64)
    ys = np.arange(h, dtype=np.float64)
    scale = float(1 << _AB_BITS)
    adelta = _cv_round_int32(m0 * xs * scale)
    bdelta = _cv_round_int32(m3 * xs * scale)
    x0 = _cv_round_int32((m1 * ys + m2) * scale) + np.int32(_ROUND_DELTA)  # int32 sums wrap, as in C
    y0 = _cv_round_int32((m4 * ys + m5) * scale) + np.int32(_ROUND_DELTA)
    xy = np.empty((h, w, 2), dtype=np.int32)
    alpha = np.empty((h, w), dtype=np.uint16)
    fraction = np.empty((h, w), dtype=np.int32)
    for channel, (start, delta) in enumerate(((x0, adelta), (y0, bdelta))):
        pos = np.add(start[:, None], delta[None, :])  # int32: wraps as C's int does
        pos >>= _AB_BITS - _INTER_BITS  # 1/32 pixels
        np.bitwise_and(pos, _INTER_TAB_MASK, out=fraction)
        if channel == 0:
            alpha[...] = fraction
        else:
            fraction <<= _INTER_BITS
            np.bitwise_or(alpha, fraction, out=alpha, casting="unsafe")
        pos >>= _INTER_BITS  # whole pixels
        xy[..., channel] = pos
    return xy, alpha


def _int16_positions(xy: np.ndarray) -> np.ndarray:
    """Positions saturated to int16, as 4.11's saturate_cast<short> hands them to remap."""
    return np.clip(xy, -32768, 32767).astype(np.int16)


def _warp_affine_linear_portable(image: np.ndarray, matrix, size: tuple[int, int]) -> np.ndarray:
    """OpenCV 4.11's warpAffine(image, matrix, size, flags=INTER_LINEAR) (BORDER_CONSTANT 0) with any cv2:
    4.11's fixed-point maps (numpy) through cv2.remap, whose fixed-point path is the same in 4.x and 5.x."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"warp_affine_linear takes a non-empty uint8 HxW or HxWxC image, not {image.dtype} "
                         f"{image.shape}")
    w, h = (int(v) for v in size)
    if w == 0 and h == 0:  # OpenCV: an empty dsize means the source size
        h, w = image.shape[:2]
    if w <= 0 or h <= 0:
        raise ValueError(f"the output size must be positive, not {size}")
    xy, alpha = _fixed_point_maps(matrix, (w, h))
    if max(image.shape[:2]) < _MAX_REMAP_SIDE and max(w, h) < _MAX_REMAP_SIDE:
        return cv2.remap(image, _int16_positions(xy), alpha, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=0)
    # remap takes no side of 32767 or more (nor does 4.11's warpAffine, which raises for such a source): each part
    # of the output is remapped from the window of the source its positions reach.
    return _remap_in_windows(image, xy, alpha)


def _remap_in_windows(image: np.ndarray, xy: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """remap's INTER_LINEAR (BORDER_CONSTANT 0) of `image` at the int32 positions `xy` and fractions `alpha`, for
    any source size: the output remapped from the window of the source its positions reach (and their right
    and lower neighbours, which INTER_LINEAR blends), positions moved into it; an output whose window or size is
    too big for remap is halved along its longer side until each part's is not. The same pixels as one remap of
    the whole source, where remap takes it."""
    h, w = alpha.shape
    out = np.zeros((h, w) + image.shape[2:], np.uint8)
    height, width = image.shape[:2]
    low = np.maximum(xy.reshape(-1, 2).min(axis=0), 0)
    high = np.minimum(xy.reshape(-1, 2).max(axis=0) + 2, (width, height))
    if (high <= low).any():  # every position outside the source: border zeros
        return out
    if max(high - low) < _MAX_REMAP_SIDE and max(h, w) < _MAX_REMAP_SIDE:
        window = np.ascontiguousarray(image[low[1]:high[1], low[0]:high[0]])
        moved = _int16_positions(xy - low.astype(np.int32))
        remapped = cv2.remap(window, moved, alpha, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return remapped.reshape(out.shape)
    if h >= w:
        half = h // 2
        out[:half] = _remap_in_windows(image, xy[:half], alpha[:half])
        out[half:] = _remap_in_windows(image, xy[half:], alpha[half:])
    else:
        half = w // 2
        out[:, :half] = _remap_in_windows(image, xy[:, :half], alpha[:, :half])
        out[:, half:] = _remap_in_windows(image, xy[:, half:], alpha[:, half:])
    return out


def warp_affine_linear(image: np.ndarray, matrix, size: tuple[int, int]) -> np.ndarray:
    """cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR) as OpenCV 4.11 computes it, for uint8 HxW
    or HxWxC images and a 2x3 float32 / float64 matrix (BORDER_CONSTANT, 0)."""
    if CV2_WARP_IS_REFERENCE:
        return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR)
    return _warp_affine_linear_portable(image, matrix, size)


# --------------------------------------------------------------------------------------------------- line


def _int32(value: int) -> int:
    """C's (int) cast of an int64: the low 32 bits, signed."""
    return ((value - _INT32_MIN) & 0xFFFFFFFF) + _INT32_MIN


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _point(p) -> tuple[int, int]:
    """A cv::Point from a pair of integers (int32, as cv2 takes them)."""
    x, y = (operator.index(v) for v in p)
    if not (_INT32_MIN <= x <= _INT32_MAX and _INT32_MIN <= y <= _INT32_MAX):
        raise OverflowError(f"point {p} does not fit int32")
    return x, y


def _raw_color(canvas: np.ndarray, color) -> np.ndarray:
    """The pixel value OpenCV writes for `color` (scalarToRawData: saturate_cast per channel), found by drawing
    one in-canvas point with cv2.line, which is the same in every release."""
    pixel = np.zeros((1, 1) + canvas.shape[2:], dtype=canvas.dtype)
    cv2.line(pixel, (0, 0), (0, 0), color, 1, cv2.LINE_8)
    return pixel[0, 0]


def _clip_line(width: int, height: int, p1: list, p2: list) -> bool:
    """clipLine(Size2l, Point2l&, Point2l&) of drawing.cpp: clips p1, p2 (modified in place) to the rectangle
    [0, width-1] x [0, height-1]; False when the segment misses it."""
    right, bottom = width - 1, height - 1
    if width <= 0 or height <= 0:
        return False
    x1, y1 = p1
    x2, y2 = p2
    c1 = (x1 < 0) + (x1 > right) * 2 + (y1 < 0) * 4 + (y1 > bottom) * 8
    c2 = (x2 < 0) + (x2 > right) * 2 + (y2 < 0) * 4 + (y2 > bottom) * 8
    if (c1 & c2) == 0 and (c1 | c2) != 0:
        if c1 & 12:
            a = 0 if c1 < 8 else bottom
            x1 += int(float(a - y1) * float(x2 - x1) / float(y2 - y1))
            y1 = a
            c1 = (x1 < 0) + (x1 > right) * 2
        if c2 & 12:
            a = 0 if c2 < 8 else bottom
            x2 += int(float(a - y2) * float(x2 - x1) / float(y2 - y1))
            y2 = a
            c2 = (x2 < 0) + (x2 > right) * 2
        if (c1 & c2) == 0 and (c1 | c2) != 0:
            if c1:
                a = 0 if c1 == 1 else right
                y1 += int(float(a - x1) * float(y2 - y1) / float(x2 - x1))
                x1 = a
                c1 = 0
            if c2:
                a = 0 if c2 == 1 else right
                y2 += int(float(a - x2) * float(y2 - y1) / float(x2 - x1))
                x2 = a
                c2 = 0
    p1[:] = x1, y1
    p2[:] = x2, y2
    return (c1 | c2) == 0


def _put_points(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, raw: np.ndarray) -> None:
    """ICV_PUT_POINT for many points: those inside the canvas get the colour."""
    h, w = canvas.shape[:2]
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    canvas[ys[inside], xs[inside]] = raw


def _line2(canvas: np.ndarray, pt1: tuple[int, int], pt2: tuple[int, int], raw: np.ndarray) -> None:
    """Line2 of drawing.cpp: an 8-connected line between points in 16-bit fixed point (FillConvexPoly's
    outline when shift != 0)."""
    h, w = canvas.shape[:2]
    a, b = list(pt1), list(pt2)
    if not _clip_line(w << _XY_SHIFT, h << _XY_SHIFT, a, b):
        return
    (x1, y1), (x2, y2) = a, b
    dx, dy = x2 - x1, y2 - y1
    ax, ay = abs(dx), abs(dy)
    if ax > ay:
        if dx < 0:  # walk left to right
            dy = -dy
            x1, y1, x2, y2 = x2, y2, x1, y1
        step = _c_div(dy * _XY_ONE, ax | 1)
        count = _int32((x2 - x1) >> _XY_SHIFT)
    else:
        if dy < 0:  # walk top to bottom
            dx = -dx
            x1, y1, x2, y2 = x2, y2, x1, y1
        step = _c_div(dx * _XY_ONE, ay | 1)
        count = _int32((y2 - y1) >> _XY_SHIFT)
    x1 += _XY_ONE >> 1
    y1 += _XY_ONE >> 1
    end_x = _int32((x2 + (_XY_ONE >> 1)) >> _XY_SHIFT)
    end_y = _int32((y2 + (_XY_ONE >> 1)) >> _XY_SHIFT)
    _put_points(canvas, np.array([end_x]), np.array([end_y]), raw)
    if count < 0:
        return
    k = np.arange(count + 1, dtype=np.int64)
    if ax > ay:
        xs = (x1 >> _XY_SHIFT) + k
        ys = (y1 + k * step) >> _XY_SHIFT
    else:
        xs = (x1 + k * step) >> _XY_SHIFT
        ys = (y1 >> _XY_SHIFT) + k
    _put_points(canvas, _wrap_int32(xs), _wrap_int32(ys), raw)


def _wrap_int32(values: np.ndarray) -> np.ndarray:
    """(int) casts of int64 values, elementwise."""
    return values.astype(np.int64).astype(np.int32).astype(np.int64)


def _fill_spans(canvas: np.ndarray, rows: np.ndarray, x1: np.ndarray, x2: np.ndarray, raw: np.ndarray) -> None:
    """ICV_HLINE for many rows: canvas[row, x1:x2 + 1] = raw (x1 <= x2 + 1, inside the canvas)."""
    lengths = np.maximum(x2 - x1 + 1, 0)
    total = int(lengths.sum())
    if total == 0:
        return
    starts = np.cumsum(lengths) - lengths  # where each row's run begins in the flat list
    ys = np.repeat(rows, lengths)
    xs = np.repeat(x1 - starts, lengths) + np.arange(total)
    canvas[ys, xs] = raw


def _fill_convex_poly(canvas: np.ndarray, v: list, raw: np.ndarray) -> None:
    """FillConvexPoly of drawing.cpp for LINE_8 and points in 16-bit fixed point (shift = XY_SHIFT), any
    int64 coordinates: the outline by Line2, then 4.11's scanline walk along both edge chains."""
    h, w = canvas.shape[:2]
    npts = len(v)
    delta = _XY_ONE >> 1  # 1 << shift >> 1; delta1 = delta2 = XY_ONE >> 1 for LINE_8
    p0 = v[-1]
    for p in v:
        _line2(canvas, p0, p, raw)
        p0 = p
    imin = 0
    xmin = xmax = v[0][0]
    ymin = ymax = v[0][1]
    for i, (px, py) in enumerate(v):
        if py < ymin:
            ymin, imin = py, i
        ymax = max(ymax, py)
        xmax = max(xmax, px)
        xmin = min(xmin, px)
    xmin, xmax = (xmin + delta) >> _XY_SHIFT, (xmax + delta) >> _XY_SHIFT
    ymin, ymax = (ymin + delta) >> _XY_SHIFT, (ymax + delta) >> _XY_SHIFT
    if npts < 3 or _int32(xmax) < 0 or _int32(ymax) < 0 or _int32(xmin) >= w or _int32(ymin) >= h:
        return
    ymax = min(ymax, h - 1)
    last_row = _int32(ymax)
    y = _int32(ymin)
    edges = npts
    # Per edge chain: index of its end vertex, direction, x (fixed point) at row `start`, step per row, the row
    # at which the next edge is taken.
    chains = [{"idx": imin, "di": 1, "x": -_XY_ONE, "dx": 0, "start": y, "ye": y},
              {"idx": imin, "di": npts - 1, "x": -_XY_ONE, "dx": 0, "start": y, "ye": y}]
    while True:
        for chain in chains:
            if y >= chain["ye"]:
                idx0, di = chain["idx"], chain["di"]
                idx = idx0 + di
                if idx >= npts:
                    idx -= npts
                while True:
                    more = edges > 0
                    edges -= 1
                    if not more:
                        break
                    ty = _int32((v[idx][1] + delta) >> _XY_SHIFT)
                    if ty > y:
                        xs, xe = v[idx0][0], v[idx][0]
                        chain.update(ye=ty, dx=_c_div((xe - xs) * 2 + (ty - y), 2 * (ty - y)), x=xs, idx=idx,
                                     start=y)
                        break
                    idx0 = idx
                    idx += di
                    if idx >= npts:
                        idx -= npts
        if edges < 0:
            break
        # Rows y .. end draw with both chains' current edges; the next edge is taken at row min(ye).
        end = min(chains[0]["ye"] - 1, chains[1]["ye"] - 1, last_row)
        first = max(y, 0)
        if first <= end:
            rows = np.arange(first, end + 1, dtype=np.int64)
            xa = np.int64(chains[0]["x"]) + np.int64(chains[0]["dx"]) * (rows - chains[0]["start"])
            xb = np.int64(chains[1]["x"]) + np.int64(chains[1]["dx"]) * (rows - chains[1]["start"])
            left, right = np.where(xa > xb, xb, xa), np.where(xa > xb, xa, xb)
            x1 = _wrap_int32((left + delta) >> _XY_SHIFT)
            x2 = _wrap_int32((right + delta) >> _XY_SHIFT)
            drawn = (x2 >= 0) & (x1 < w)
            x1, x2 = np.maximum(x1, 0), np.minimum(x2, w - 1)
            _fill_spans(canvas, rows[drawn], x1[drawn], x2[drawn], raw)
        y = end + 1
        if y > last_row:
            break


def _thick_line_quad(p1: tuple[int, int], p2: tuple[int, int], thickness: int) -> list | None:
    """ThickLine's quad in 16-bit fixed point (4.11: from the endpoints as given), None for a zero-length
    segment."""
    x0, y0 = p1[0] << _XY_SHIFT, p1[1] << _XY_SHIFT
    x1, y1 = p2[0] << _XY_SHIFT, p2[1] << _XY_SHIFT
    dx = (x0 - x1) * (1.0 / _XY_ONE)
    dy = (y1 - y0) * (1.0 / _XY_ONE)
    r = dx * dx + dy * dy
    odd = thickness & 1
    half = thickness << (_XY_SHIFT - 1)
    if not abs(r) > _DBL_EPSILON:
        return None
    r = (half + odd * _XY_ONE * 0.5) / float(np.sqrt(r))
    dpx, dpy = round(dy * r), round(dx * r)  # cvRound: half to even, as Python's round of a float
    return [(x0 + dpx, y0 + dpy), (x0 - dpx, y0 - dpy), (x1 - dpx, y1 - dpy), (x1 + dpx, y1 + dpy)]


def _line_portable(canvas: np.ndarray, p1, p2, color, thickness: int, *, numpy_fill: bool = False) -> None:
    """OpenCV 4.11's cv2.line(canvas, p1, p2, color, thickness) (LINE_8, shift 0), drawn in place with any
    cv2. numpy_fill: fill the quad with the numpy port even where cv2.fillConvexPoly could (for tests)."""
    p1, p2 = _point(p1), _point(p2)
    thickness = operator.index(thickness)
    if not 0 < thickness <= _MAX_THICKNESS:
        raise ValueError(f"thickness must be in 1..{_MAX_THICKNESS}, not {thickness}")
    if thickness == 1:  # LineIterator: unchanged since 4.x
        cv2.line(canvas, p1, p2, color, 1, cv2.LINE_8)
        return
    quad = _thick_line_quad(p1, p2, thickness)
    if quad is not None:
        if not numpy_fill and all(_INT32_MIN <= c <= _INT32_MAX for point in quad for c in point):
            cv2.fillConvexPoly(canvas, np.array(quad, dtype=np.int32), color, cv2.LINE_8, _XY_SHIFT)
        else:
            _fill_convex_poly(canvas, quad, _raw_color(canvas, color))
    radius = ((thickness << (_XY_SHIFT - 1)) + (_XY_ONE >> 1)) >> _XY_SHIFT
    for center in (p1, p2):
        cv2.circle(canvas, center, radius, color, -1, cv2.LINE_8)


def line(canvas: np.ndarray, p1, p2, color, thickness: int) -> None:
    """cv2.line(canvas, p1, p2, color, thickness) (LINE_8) as OpenCV 4.11 draws it, in place: integer
    endpoints anywhere in int32, thickness >= 1, colours as cv2 takes them (float tuples, ints, scalars)."""
    if CV2_LINE_IS_REFERENCE:
        cv2.line(canvas, _point(p1), _point(p2), color, operator.index(thickness), cv2.LINE_8)
        return
    _line_portable(canvas, p1, p2, color, thickness)
