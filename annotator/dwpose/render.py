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

from .poses import BODY, FACE, FEET, L_EYE, LEFT_HAND, R_EYE, RIGHT_HAND, THRESHOLD, Poses

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

STYLES = ("controlnet", "sd-webui-controlnet")

# (canvas * 0.6).astype(uint8) for every uint8 value, as a lookup table.
DIM_LUT = (np.arange(256, dtype=np.uint8) * 0.6).astype(np.uint8)


@dataclass(frozen=True)
class PoseMapOptions:
    """What the pose map shows and how it is drawn; the defaults draw the reference's map.

    include_body / include_hand / include_face / include_foot: the parts drawn (feet are not in the
    reference renderer); threshold: the keypoint score a point needs to be shown (and exported);
    stick_width: half-width in pixels of the body limbs (the reference's 4); style: "controlnet" (the
    ControlNet 1.1 / DWPose reference renderer) or "sd-webui-controlnet" (the web UIs' built-in renderer,
    person by person); scale_stick_for_xinsr_cn: limbs thicker with the map size, as comfyui_controlnet_aux
    draws them for xinsir's SDXL OpenPose ControlNet.
    """

    include_body: bool = True
    include_hand: bool = True
    include_face: bool = True
    include_foot: bool = False
    threshold: float = THRESHOLD
    stick_width: int = STICK_WIDTH
    style: str = "controlnet"
    scale_stick_for_xinsr_cn: bool = False

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, got {self.style!r}")
        for field in ("include_body", "include_hand", "include_face", "include_foot", "scale_stick_for_xinsr_cn"):
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
    stick_width = options.stick_width * (xinsir_stick_scale(poses.width, poses.height)
                                         if options.scale_stick_for_xinsr_cn else 1)
    if options.style == "sd-webui-controlnet":
        return _draw_person_by_person(canvas, poses, options, stick_width)
    visible = poses.visible(options.threshold)
    points = poses.normalized(options.threshold, visible)
    with np.errstate(invalid="ignore", over="ignore"):  # absurd coordinates are simply not drawn
        drawable = _drawable(points * np.array([float(poses.width), float(poses.height)]), visible)
    scale = (float(poses.width), float(poses.height))
    if options.include_body:
        canvas = draw_bodies(canvas, points[:, BODY], drawable[:, BODY], stick_width)
    if options.include_foot:
        for feet, ok in zip(points[:, FEET], drawable[:, FEET]):
            _draw_linked_points(canvas, feet, ok, scale, FOOT_EDGES, FOOT_COLORS)
    if options.include_hand:
        for hand, ok in zip(np.concatenate([points[:, LEFT_HAND], points[:, RIGHT_HAND]]),
                            np.concatenate([drawable[:, LEFT_HAND], drawable[:, RIGHT_HAND]])):
            _draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_COLORS)
    if options.include_face:
        for face, ok in zip(points[:, FACE], drawable[:, FACE]):
            _draw_face(canvas, face, ok, scale)
    return canvas


def xinsir_stick_scale(width: int, height: int) -> int:
    """comfyui_controlnet_aux's scale_stick_for_xinsr_cn (dwpose/util.py draw_bodypose), for xinsir's
    controlnet-openpose-sdxl-1.0: 1 below 500 px on the longer side, then 2 + (longer side // 1000), at
    most 7. Only the limbs' half-width is scaled; joints, hands and faces keep their sizes."""
    longer = max(width, height)
    return 1 if longer < 500 else min(2 + longer // 1000, 7)


def _drawable(pixels: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Visible points whose pixel coordinates OpenCV can take."""
    with np.errstate(invalid="ignore", over="ignore"):
        return visible & np.isfinite(pixels).all(axis=-1) & (np.abs(pixels) < MAX_COORD).all(axis=-1)


def _limb(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, stick_width: int, color) -> None:
    """One limb between two points (pixel coordinates, float64) as the reference fills it."""
    mean_y, mean_x = np.mean(ys), np.mean(xs)
    length = ((ys[0] - ys[1]) ** 2 + (xs[0] - xs[1]) ** 2) ** 0.5
    angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
    polygon = cv2.ellipse2Poly((int(mean_x), int(mean_y)), (int(length / 2), stick_width), int(angle), 0, 360, 1)
    cv2.fillConvexPoly(canvas, polygon, color)


def draw_bodies(canvas: np.ndarray, body: np.ndarray, drawable: np.ndarray, stick_width: int = STICK_WIDTH) -> np.ndarray:
    """Limbs as filled ellipses limb by limb over all persons, dim by 0.6, then joints (radius 4)."""
    height, width = canvas.shape[:2]
    for limb in range(DRAWN_LIMBS):
        a, b = LIMBS[limb][0] - 1, LIMBS[limb][1] - 1
        for n in range(len(body)):
            if drawable[n, a] and drawable[n, b]:
                # Same float64 operations as the reference: x scaled by W, y by H, int() truncation.
                _limb(canvas, body[n, [a, b], 0] * float(width), body[n, [a, b], 1] * float(height), stick_width,
                      COLORS[limb])
    canvas = cv2.LUT(canvas, DIM_LUT)
    for joint in range(len(COLORS)):
        for n in range(len(body)):
            if drawable[n, joint]:
                x, y = body[n, joint]
                cv2.circle(canvas, (int(x * width), int(y * height)), 4, COLORS[joint], thickness=-1)
    return canvas


def _draw_linked_points(canvas, points, ok, scale, edges, edge_colors) -> None:
    """A hand (or a foot): each edge a 2-px line in its HSV colour, then every point a radius-4 dot.
    Pixels are int(x * scale[0]), int(y * scale[1])."""
    pixels = [(int(x * scale[0]), int(y * scale[1])) if shown else None for (x, y), shown in zip(points, ok)]
    for (i, j), color in zip(edges, edge_colors):
        if pixels[i] and pixels[j] and min(*pixels[i], *pixels[j]) > EPS:
            cv2.line(canvas, pixels[i], pixels[j], color, thickness=2)
    for pixel in pixels:
        if pixel and min(pixel) > EPS:
            cv2.circle(canvas, pixel, 4, HAND_POINT_COLOR, thickness=-1)


def _draw_face(canvas, points, ok, scale) -> None:
    """Every face point a white radius-3 dot."""
    for (x, y), shown in zip(points, ok):
        if shown:
            pixel = (int(x * scale[0]), int(y * scale[1]))
            if min(pixel) > EPS:
                cv2.circle(canvas, pixel, 3, FACE_COLOR, thickness=-1)


# sd-webui-controlnet's renderer (annotator/openpose/util.py draw_bodypose / draw_handpose / draw_facepose and
# __init__.py draw_poses, as in the versions with is_normalized; Forge's legacy preprocessors carry the same):
# person by person, each limb filled in int(colour * 0.6) with no dimming of the canvas, then that
# person's joints, hands and 70 face points (68 + the body's points 14 and 15). A point is shown when its
# score is >= threshold (its wholebody.py format_result), a part with no point shown is skipped, and the
# points are pixel coordinates unless every shown point of the part lies in [0, 1] (is_normalized), in
# which case they are scaled by the canvas size.
WEBUI_LIMB_COLORS = [[int(float(c) * 0.6) for c in color] for color in COLORS]


def _draw_person_by_person(canvas: np.ndarray, poses: Poses, options: PoseMapOptions, stick_width: int) -> np.ndarray:
    pixels = poses.exact_keypoints
    scores = np.asarray(poses.scores, dtype=np.float64)
    drawable = _drawable(pixels, scores >= options.threshold)
    canvas_scale = (float(poses.width), float(poses.height))
    for n in range(len(poses)):
        body, body_ok = pixels[n, BODY], drawable[n, BODY]
        if options.include_body:
            sx, sy = _webui_scale(body, body_ok, canvas_scale)
            for limb in range(DRAWN_LIMBS):
                a, b = LIMBS[limb][0] - 1, LIMBS[limb][1] - 1
                if body_ok[a] and body_ok[b]:
                    _limb(canvas, body[[a, b], 0] * sx, body[[a, b], 1] * sy, stick_width, WEBUI_LIMB_COLORS[limb])
            for joint in range(len(COLORS)):
                if body_ok[joint]:
                    cv2.circle(canvas, (int(body[joint, 0] * sx), int(body[joint, 1] * sy)), 4, COLORS[joint],
                               thickness=-1)
        if options.include_foot:
            _draw_webui_part(canvas, pixels[n, FEET], drawable[n, FEET], canvas_scale, _draw_linked_points,
                             FOOT_EDGES, FOOT_COLORS)
        if options.include_hand:
            for hand in (LEFT_HAND, RIGHT_HAND):
                _draw_webui_part(canvas, pixels[n, hand], drawable[n, hand], canvas_scale, _draw_linked_points,
                                 HAND_EDGES, HAND_COLORS)
        if options.include_face and drawable[n, FACE].any():
            eyes = [R_EYE, L_EYE]
            _draw_webui_part(canvas, np.concatenate([pixels[n, FACE], body[eyes]]),
                             np.concatenate([drawable[n, FACE], body_ok[eyes]]), canvas_scale, _draw_face)
    return canvas


def _webui_scale(points: np.ndarray, ok: np.ndarray, canvas_scale) -> tuple:
    """is_normalized: the canvas size when every shown point lies in [0, 1], else 1 (pixels as they are)."""
    shown = np.abs(points[ok])
    normalized = len(shown) > 0 and bool(((shown >= 0) & (shown <= 1)).all())
    return canvas_scale if normalized else (1.0, 1.0)


def _draw_webui_part(canvas, points, ok, canvas_scale, draw, *args) -> None:
    if ok.any():  # a part with no point shown is None there, and nothing is drawn
        draw(canvas, points, ok, _webui_scale(points, ok, canvas_scale), *args)
