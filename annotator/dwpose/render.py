"""The ControlNet 1.1 / DWPose OpenPose renderer, pixel for pixel, on a black RGB canvas.

Order: body limbs limb-major over all persons, canvas dimmed by 0.6, body joints; then every left
hand and every right hand; then every face. Feet (off by default) are drawn after the bodies.
Points with non-finite or absurdly large coordinates are treated as hidden, where the reference
would crash inside OpenCV.
"""

from __future__ import annotations

import colorsys
import dataclasses
import math
import numbers
from dataclasses import dataclass

import cv2
import numpy as np

from .poses import BODY, FACE, FEET, LEFT_HAND, RIGHT_HAND, THRESHOLD, Poses

STICK_WIDTH = 4
EPS = 0.01
MAX_COORD = 2**30  # keeps OpenCV's int32 point arithmetic from overflowing

# 1-based OpenPose-18 index pairs; only the first 17 are drawn (the last two exist in the table only).
LIMBS = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
         [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18], [3, 17], [6, 18]]
DRAWN_LIMBS = 17
COLORS = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
          [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
          [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]

HAND_EDGES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11],
              [11, 12], [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]
# HSV(e / 20, 1, 1) * 255 as floats; OpenCV rounds them when it draws.
HAND_COLORS = [tuple(255 * c for c in colorsys.hsv_to_rgb(e / len(HAND_EDGES), 1.0, 1.0))
               for e in range(len(HAND_EDGES))]
HAND_POINT_COLOR = (0, 0, 255)
FACE_COLOR = (255, 255, 255)

# Feet (opt-in): per foot, big toe -> heel and small toe -> heel, in the same style as the hands.
FOOT_EDGES = [[0, 2], [1, 2], [3, 5], [4, 5]]
FOOT_COLORS = [tuple(255 * c for c in colorsys.hsv_to_rgb(e / len(FOOT_EDGES), 1.0, 1.0))
               for e in range(len(FOOT_EDGES))]

# (canvas * 0.6).astype(uint8) for every uint8 value, as a lookup table.
DIM_LUT = (np.arange(256, dtype=np.uint8) * 0.6).astype(np.uint8)


@dataclass(frozen=True)
class PoseMapOptions:
    """What the pose map shows and how it is drawn; the defaults draw the reference's map.

    include_body / include_hand / include_face / include_foot: the parts drawn (feet are not in the
    reference renderer); threshold: the keypoint score a point needs to be shown (and exported);
    stick_width: half-width in pixels of the body limbs (the reference's 4).
    """

    include_body: bool = True
    include_hand: bool = True
    include_face: bool = True
    include_foot: bool = False
    threshold: float = THRESHOLD
    stick_width: int = STICK_WIDTH

    def __post_init__(self):
        for field in ("include_body", "include_hand", "include_face", "include_foot"):
            object.__setattr__(self, field, bool(getattr(self, field)))
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not math.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
        object.__setattr__(self, "threshold", float(threshold))
        width = self.stick_width
        if not (isinstance(width, (int, np.integer)) and 1 <= width <= 64):
            raise ValueError(f"stick_width must be an integer from 1 to 64, got {width!r}")
        object.__setattr__(self, "stick_width", int(width))

    @classmethod
    def build(cls, options: "PoseMapOptions | None" = None, **fields) -> "PoseMapOptions":
        """`options` (default: the defaults) with `fields` changed; an unknown field raises TypeError."""
        if options is not None and not isinstance(options, cls):
            raise TypeError(f"options must be a PoseMapOptions, got {type(options).__name__}")
        unknown = sorted(set(fields) - set(cls.field_names()))
        if unknown:
            raise TypeError(f"unexpected pose map option(s) {', '.join(unknown)}; "
                            f"the options are {', '.join(cls.field_names())}")
        base = options if options is not None else cls()
        return dataclasses.replace(base, **fields) if fields else base

    @classmethod
    def field_names(cls) -> tuple:
        return tuple(field.name for field in dataclasses.fields(cls))


def draw_poses(poses: Poses, options: PoseMapOptions | None = None, **fields) -> np.ndarray:
    """The pose map of `poses` as an HxWx3 uint8 RGB array of the image size the poses refer to.

    `options` (a PoseMapOptions), and any of its fields as keyword arguments (e.g. include_foot=True),
    say what is drawn; by default the reference's map.
    """
    options = PoseMapOptions.build(options, **fields)
    canvas = np.zeros((poses.height, poses.width, 3), dtype=np.uint8)
    visible = poses.visible(options.threshold)
    points = poses.normalized(options.threshold, visible)
    drawable = _drawable(points, visible, poses.width, poses.height)
    if options.include_body:
        canvas = draw_bodies(canvas, points[:, BODY], drawable[:, BODY], options.stick_width)
    if options.include_foot:
        _draw_linked_points(canvas, points[:, FEET], drawable[:, FEET], FOOT_EDGES, FOOT_COLORS)
    if options.include_hand:
        hands = np.concatenate([points[:, LEFT_HAND], points[:, RIGHT_HAND]])
        hands_ok = np.concatenate([drawable[:, LEFT_HAND], drawable[:, RIGHT_HAND]])
        _draw_linked_points(canvas, hands, hands_ok, HAND_EDGES, HAND_COLORS)
    if options.include_face:
        draw_faces(canvas, points[:, FACE], drawable[:, FACE])
    return canvas


def _drawable(points: np.ndarray, visible: np.ndarray, width: int, height: int) -> np.ndarray:
    """Visible points whose pixel coordinates OpenCV can take."""
    with np.errstate(invalid="ignore", over="ignore"):
        pixels = points * np.array([float(width), float(height)])
        return visible & np.isfinite(pixels).all(axis=-1) & (np.abs(pixels) < MAX_COORD).all(axis=-1)


def draw_bodies(canvas: np.ndarray, body: np.ndarray, drawable: np.ndarray, stick_width: int = STICK_WIDTH) -> np.ndarray:
    """Limbs as filled ellipses limb by limb over all persons, dim by 0.6, then joints (radius 4)."""
    height, width = canvas.shape[:2]
    for limb in range(DRAWN_LIMBS):
        a, b = LIMBS[limb][0] - 1, LIMBS[limb][1] - 1
        for n in range(len(body)):
            if not (drawable[n, a] and drawable[n, b]):
                continue
            # Same float64 operations as the reference: x scaled by W, y by H, int() truncation.
            ys = body[n, [a, b], 1] * float(height)
            xs = body[n, [a, b], 0] * float(width)
            mean_y, mean_x = np.mean(ys), np.mean(xs)
            length = ((ys[0] - ys[1]) ** 2 + (xs[0] - xs[1]) ** 2) ** 0.5
            angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
            polygon = cv2.ellipse2Poly((int(mean_x), int(mean_y)), (int(length / 2), stick_width), int(angle),
                                       0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, COLORS[limb])
    canvas = cv2.LUT(canvas, DIM_LUT)
    for joint in range(len(COLORS)):
        for n in range(len(body)):
            if drawable[n, joint]:
                x, y = body[n, joint]
                cv2.circle(canvas, (int(x * width), int(y * height)), 4, COLORS[joint], thickness=-1)
    return canvas


def _draw_linked_points(canvas, groups, drawable, edges, edge_colors) -> None:
    """Hands (and feet): each edge a 2-px line in its HSV colour, then every point a radius-4 dot."""
    height, width = canvas.shape[:2]
    for group, ok in zip(groups, drawable):
        pixels = [(int(x * width), int(y * height)) if shown else None for (x, y), shown in zip(group, ok)]
        for (i, j), color in zip(edges, edge_colors):
            if pixels[i] and pixels[j] and min(*pixels[i], *pixels[j]) > EPS:
                cv2.line(canvas, pixels[i], pixels[j], color, thickness=2)
        for pixel in pixels:
            if pixel and min(pixel) > EPS:
                cv2.circle(canvas, pixel, 4, HAND_POINT_COLOR, thickness=-1)


def draw_faces(canvas: np.ndarray, faces: np.ndarray, drawable: np.ndarray) -> None:
    height, width = canvas.shape[:2]
    for face, ok in zip(faces, drawable):
        for (x, y), shown in zip(face, ok):
            if not shown:
                continue
            pixel = (int(x * width), int(y * height))
            if min(pixel) > EPS:
                cv2.circle(canvas, pixel, 3, FACE_COLOR, thickness=-1)
