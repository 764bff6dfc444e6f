"""The ControlNet 1.1 / DWPose OpenPose renderer, pixel for pixel, on a black RGB canvas, and the
renderers of the tools and pose-guided video models that draw DWPose poses their own way (STYLES).

Order: body limbs limb-major over all persons, canvas dimmed by 0.6, body joints; then every left
hand and every right hand; then every face. Feet (off by default) are drawn after the bodies.
Points with non-finite or absurdly large coordinates are treated as hidden, where the reference
would crash inside OpenCV.

The other styles, each pixel for pixel as its source draws the dict its detector builds from the same
keypoints (Poses.to_pose_dict):
* "sd-webui-controlnet": the web UIs' built-in renderer, person by person (see _draw_person_by_person).
* "mimicmotion" (Tencent/MimicMotion mimicmotion/dwpose/util.py draw_pose): drawn on a canvas whose short
  side is 2160 px (int(H * 2160 / min(H, W)) by int(W * ...)), each limb filled in int(c * s_a * s_b) and
  each joint in int(c * s); hand edges in the HSV colour times int(s_i * s_j * 255), hand points
  (0, 0, int(s * 255)), face points grey int(s * 255); then cv2.resize (INTER_LINEAR) to H x W and red
  and blue swapped (their cv2.cvtColor BGR2RGB on an RGB-drawn canvas). Body points need a score above
  the threshold (its detector's subset); no hand or face point is hidden by its score (a low score draws
  a dark dot), only by the > 0.01 pixel rule.
* "musepose" (TMElyralab/MusePose pose/script/dwpose.py draw_pose and util.py): only the first person's
  body and face, and the first two of the stacked hands (every left hand, then every right hand): the
  first person's hands when there is one person, else the left hands of the first two. Limb half-width
  and hand-line thickness from the length (musepose_width), hand points radius 3, red and blue swapped as
  all its callers do (draw_dwpose.py, pose_align.py). Its scripts draw no face (include_face=False).
* "unianimate" (ali-vilab/UniAnimate run_align_pose.py DWposeDetector and draw_pose, dwpose/util.py
  draw_body_and_foot): the first person only; two more body points, the mean of each foot's big and small
  toe (shown when both toes' scores are above the threshold), joined to the ankles; red and blue swapped
  (it writes the RGB-drawn canvas with cv2.imwrite). The maps it saves have no face (include_face=False).
* "easy-dwpose" (reallyigor/easy_dwpose draw/openpose.py, the default draw_pose): the reference's drawing,
  but faces before hands, and no hand or face point hidden by its score (its detector hides none).
In these styles include_foot has no effect (they draw no separate feet); stick_width (and the xinsir
scaling) sets the limbs' half-width except in "musepose".
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
# The unit HSV colours, which MimicMotion multiplies by a score instead of 255.
HAND_HSV = [colorsys.hsv_to_rgb(e / len(HAND_EDGES), 1.0, 1.0) for e in range(len(HAND_EDGES))]
HAND_POINT_COLOR = (0, 0, 255)
FACE_COLOR = (255, 255, 255)

# Feet (opt-in): per foot, big toe -> heel and small toe -> heel, in the same style as the hands.
FOOT_EDGES = [[0, 2], [1, 2], [3, 5], [4, 5]]
FOOT_COLORS = [tuple(255 * c for c in colorsys.hsv_to_rgb(e / len(FOOT_EDGES), 1.0, 1.0))
               for e in range(len(FOOT_EDGES))]

STYLES = ("controlnet", "sd-webui-controlnet", "mimicmotion", "musepose", "unianimate", "easy-dwpose")
MIMICMOTION_SHORT_SIDE = 2160
BODY_LIMBS = LIMBS[:DRAWN_LIMBS]
# UniAnimate's body: the 18 points and the two toe means (left, right), joined to the left and right ankle.
UNIANIMATE_LIMBS = BODY_LIMBS + [[14, 19], [11, 20]]
UNIANIMATE_COLORS = COLORS + [[170, 255, 255], [255, 255, 0]]

# (canvas * 0.6).astype(uint8) for every uint8 value, as a lookup table.
DIM_LUT = (np.arange(256, dtype=np.uint8) * 0.6).astype(np.uint8)


@dataclass(frozen=True)
class PoseMapOptions:
    """What the pose map shows and how it is drawn; the defaults draw the reference's map.

    include_body / include_hand / include_face / include_foot: the parts drawn (feet are not in the
    reference renderer); threshold: the keypoint score a point needs to be shown (and exported);
    stick_width: half-width in pixels of the body limbs (the reference's 4); style: "controlnet" (the
    ControlNet 1.1 / DWPose reference renderer), "sd-webui-controlnet" (the web UIs' built-in renderer,
    person by person), or the renderer of "mimicmotion", "musepose", "unianimate" or "easy-dwpose" (see the
    module docstring for what the switches and the threshold do there); scale_stick_for_xinsr_cn: limbs
    thicker with the map size, as comfyui_controlnet_aux draws them for xinsir's SDXL OpenPose ControlNet.
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
    if options.style == "mimicmotion":
        canvas = cv2.resize(_mimicmotion_canvas(poses, options, stick_width), (poses.width, poses.height))
        return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
    if options.style == "musepose":
        return cv2.cvtColor(_draw_musepose(canvas, poses, options), cv2.COLOR_BGR2RGB)
    if options.style == "unianimate":
        return cv2.cvtColor(_draw_unianimate(canvas, poses, options, stick_width), cv2.COLOR_BGR2RGB)
    visible = poses.visible(options.threshold)
    if options.style == "easy-dwpose":
        visible[:, FACE.start:] = np.isfinite(poses.exact_keypoints[:, FACE.start:]).all(axis=-1)
    points = poses.normalized(options.threshold, visible)
    drawable = _drawable(points, visible, (float(poses.width), float(poses.height)))
    scale = (float(poses.width), float(poses.height))
    if options.include_body:
        canvas = draw_bodies(canvas, points[:, BODY], drawable[:, BODY], stick_width)
    if options.include_foot:
        for feet, ok in zip(points[:, FEET], drawable[:, FEET]):
            _draw_linked_points(canvas, feet, ok, scale, FOOT_EDGES, FOOT_COLORS)
    if options.include_face and options.style == "easy-dwpose":
        for face, ok in zip(points[:, FACE], drawable[:, FACE]):
            _draw_face(canvas, face, ok, scale)
    if options.include_hand:
        for hand, ok in zip(_stacked_hands(points), _stacked_hands(drawable)):
            _draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_COLORS)
    if options.include_face and options.style != "easy-dwpose":
        for face, ok in zip(points[:, FACE], drawable[:, FACE]):
            _draw_face(canvas, face, ok, scale)
    return canvas


def _stacked_hands(values: np.ndarray) -> np.ndarray:
    """Every person's left hand, then every person's right hand (the order the pose dicts stack them in)."""
    return np.concatenate([values[:, LEFT_HAND], values[:, RIGHT_HAND]])


def xinsir_stick_scale(width: int, height: int) -> int:
    """comfyui_controlnet_aux's scale_stick_for_xinsr_cn (dwpose/util.py draw_bodypose), for xinsir's
    controlnet-openpose-sdxl-1.0: 1 below 500 px on the longer side, then 2 + (longer side // 1000), at
    most 7. Only the limbs' half-width is scaled; joints, hands and faces keep their sizes."""
    longer = max(width, height)
    return 1 if longer < 500 else min(2 + longer // 1000, 7)


def _drawable(points: np.ndarray, visible: np.ndarray, scale=None) -> np.ndarray:
    """Visible points whose pixel coordinates OpenCV can take: `points` themselves, or `points` times
    `scale` (width, height) for normalised points. Absurd coordinates are simply not drawn (no warning)."""
    with np.errstate(invalid="ignore", over="ignore"):
        pixels = points if scale is None else points * np.array(scale)
        return visible & np.isfinite(pixels).all(axis=-1) & (np.abs(pixels) < MAX_COORD).all(axis=-1)


def _limb(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, stick_width, color) -> None:
    """One limb between two points (pixel coordinates, float64) as the reference fills it; stick_width is the
    half-width, or a function of the limb's length giving it (MusePose)."""
    mean_y, mean_x = np.mean(ys), np.mean(xs)
    length = ((ys[0] - ys[1]) ** 2 + (xs[0] - xs[1]) ** 2) ** 0.5
    angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
    half_width = stick_width(length) if callable(stick_width) else stick_width
    polygon = cv2.ellipse2Poly((int(mean_x), int(mean_y)), (int(length / 2), half_width), int(angle), 0, 360, 1)
    cv2.fillConvexPoly(canvas, polygon, color)


def draw_bodies(canvas: np.ndarray, body: np.ndarray, drawable: np.ndarray, stick_width=STICK_WIDTH,
                scores: np.ndarray | None = None, limbs=BODY_LIMBS, colors=COLORS) -> np.ndarray:
    """Limbs as filled ellipses limb by limb over all persons, dim by 0.6, then joints (radius 4).

    limbs: 1-based index pairs, limb i in colors[i]; joint j in colors[j]. scores (MimicMotion's shading):
    limb i filled in [int(c * (s_a * s_b)) for c in colors[i]], joint j in [int(c * s_j) ...].
    """
    height, width = canvas.shape[:2]
    for limb, (a, b) in enumerate(limbs):
        a, b = a - 1, b - 1
        for n in range(len(body)):
            if drawable[n, a] and drawable[n, b]:
                color = colors[limb] if scores is None else _shaded(colors[limb], scores[n, a] * scores[n, b])
                # Same float64 operations as the reference: x scaled by W, y by H, int() truncation.
                _limb(canvas, body[n, [a, b], 0] * float(width), body[n, [a, b], 1] * float(height), stick_width,
                      color)
    canvas = cv2.LUT(canvas, DIM_LUT)
    for joint in range(len(colors)):
        for n in range(len(body)):
            if drawable[n, joint]:
                x, y = body[n, joint]
                color = colors[joint] if scores is None else _shaded(colors[joint], scores[n, joint])
                cv2.circle(canvas, (int(x * width), int(y * height)), 4, color, thickness=-1)
    return canvas


def _shaded(color, alpha) -> list:
    """MimicMotion's alpha_blend_color: [int(c * alpha) for c in color] (OpenCV saturates the result)."""
    return [int(c * alpha) for c in color]


def _draw_linked_points(canvas, points, ok, scale, edges, edge_colors, scores=None, thickness=2, radius=4) -> None:
    """A hand (or a foot): each edge a line in its HSV colour, then every point a dot in (0, 0, 255).
    Pixels are int(x * scale[0]), int(y * scale[1]). scores (MimicMotion, with the unit colours HAND_HSV):
    edge i-j in colour * int(s_i * s_j * 255), point k in (0, 0, int(s_k * 255)). thickness: the lines'
    thickness, or a function of the edge's length in pixels giving it (MusePose)."""
    pixels = [(int(x * scale[0]), int(y * scale[1])) if shown else None for (x, y), shown in zip(points, ok)]
    for (i, j), color in zip(edges, edge_colors):
        if pixels[i] and pixels[j] and min(*pixels[i], *pixels[j]) > EPS:
            if scores is not None:
                shade = int(scores[i] * scores[j] * 255)
                color = tuple(c * shade for c in color)
            width = thickness
            if callable(thickness):
                (x1, y1), (x2, y2) = pixels[i], pixels[j]
                width = thickness(((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5)
            cv2.line(canvas, pixels[i], pixels[j], color, thickness=width)
    for k, pixel in enumerate(pixels):
        if pixel and min(pixel) > EPS:
            color = HAND_POINT_COLOR if scores is None else (0, 0, int(scores[k] * 255))
            cv2.circle(canvas, pixel, radius, color, thickness=-1)


def _draw_face(canvas, points, ok, scale, scores=None) -> None:
    """Every face point a white radius-3 dot; with scores (MimicMotion) a grey one, int(s * 255)."""
    for k, ((x, y), shown) in enumerate(zip(points, ok)):
        if shown:
            pixel = (int(x * scale[0]), int(y * scale[1]))
            if min(pixel) > EPS:
                color = FACE_COLOR if scores is None else (int(scores[k] * 255),) * 3
                cv2.circle(canvas, pixel, 3, color, thickness=-1)


def _mimicmotion_canvas(poses: Poses, options: PoseMapOptions, stick_width: int) -> np.ndarray:
    """MimicMotion's drawing before its final resize and channel swap, on its 2160-px short-side canvas."""
    height, width = poses.height, poses.width
    short = min(height, width)
    ratio = MIMICMOTION_SHORT_SIDE / short if short != MIMICMOTION_SHORT_SIDE else 1
    canvas = np.zeros((int(height * ratio), int(width * ratio), 3), dtype=np.uint8)
    scale = (float(canvas.shape[1]), float(canvas.shape[0]))
    everything = np.ones(poses.scores.shape, dtype=bool)
    points = poses.normalized(visible=everything)  # its detector hides no coordinate
    # Where MimicMotion's int() would raise on a non-finite score: NaN counts as 0, infinities as +-1e30.
    scores = np.nan_to_num(poses.scores.astype(np.float64), nan=0.0, posinf=1e30, neginf=-1e30)
    drawable = _drawable(points, everything, scale)
    if options.include_body:
        body_ok = drawable[:, BODY] & poses.visible(options.threshold)[:, BODY]
        canvas = draw_bodies(canvas, points[:, BODY], body_ok, stick_width, scores=scores[:, BODY])
    if options.include_hand:
        for hand, ok, hand_scores in zip(_stacked_hands(points), _stacked_hands(drawable), _stacked_hands(scores)):
            _draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_HSV, scores=hand_scores)
    if options.include_face:
        for face, ok, face_scores in zip(points[:, FACE], drawable[:, FACE], scores[:, FACE]):
            _draw_face(canvas, face, ok, scale, scores=face_scores)
    return canvas


def musepose_width(length: float) -> int:
    """MusePose's smart_width (pose/script/util.py): a limb's half-width or a hand line's thickness from its
    length in pixels: 1 below 5, 2 below 10, 3 below 20, 4 below 40, 5 below 80, 6 below 160, 7 below 320, else 8."""
    for width, limit in enumerate((5, 10, 20, 40, 80, 160, 320), start=1):
        if length < limit:
            return width
    return 8


def _draw_musepose(canvas: np.ndarray, poses: Poses, options: PoseMapOptions) -> np.ndarray:
    visible = poses.visible(options.threshold)
    points = poses.normalized(options.threshold, visible)  # its detector sets hidden points to -1
    scale = (float(poses.width), float(poses.height))
    drawable = _drawable(points, visible, scale)
    if options.include_body:
        canvas = draw_bodies(canvas, points[:1, BODY], drawable[:1, BODY], musepose_width)
    if options.include_hand:  # its hands[:2]
        for hand, ok in zip(_stacked_hands(points)[:2], _stacked_hands(drawable)[:2]):
            _draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_COLORS, thickness=musepose_width, radius=3)
    if options.include_face:
        for face, ok in zip(points[:1, FACE], drawable[:1, FACE]):
            _draw_face(canvas, face, ok, scale)
    return canvas


def _draw_unianimate(canvas: np.ndarray, poses: Poses, options: PoseMapOptions, stick_width: int) -> np.ndarray:
    visible = poses.visible(options.threshold)[:1]
    points = poses.normalized(options.threshold)[:1]
    above = np.asarray(poses.scores[:1], dtype=np.float64) > options.threshold  # its subset rule, for the toes
    toes, toes_ok = [], []
    for big, small in ((FEET.start, FEET.start + 1), (FEET.start + 3, FEET.start + 4)):  # left foot, right foot
        toes.append((points[:, big] + points[:, small]) / 2)
        toes_ok.append(above[:, big] & above[:, small])
    body = np.concatenate([points[:, BODY], np.stack(toes, axis=1)], axis=1)
    body_ok = np.concatenate([visible[:, BODY], np.stack(toes_ok, axis=1)], axis=1)
    scale = (float(poses.width), float(poses.height))
    drawable = _drawable(points, visible, scale)
    body_drawable = _drawable(body, body_ok, scale)
    if options.include_body:
        canvas = draw_bodies(canvas, body, body_drawable, stick_width, limbs=UNIANIMATE_LIMBS, colors=UNIANIMATE_COLORS)
    if options.include_hand:
        for hand, ok in zip(_stacked_hands(points), _stacked_hands(drawable)):
            _draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_COLORS)
    if options.include_face:
        for face, ok in zip(points[:, FACE], drawable[:, FACE]):
            _draw_face(canvas, face, ok, scale)
    return canvas


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
