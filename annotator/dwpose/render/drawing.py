"""What the renderers share: the reference's limb, joint, hand and face drawing, in pixels OpenCV can take."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..opencv4 import line
from ..skeleton import (BODY_LIMBS, COLORS, FACE, FACE_COLOR, HAND_COLORS, HAND_EDGES, HAND_POINT_COLOR, LEFT_HAND,
                        RIGHT_HAND)

STICK_WIDTH = 4
EPS = 0.01
MAX_COORD = 2**30  # keeps OpenCV's int32 point arithmetic from overflowing
# (canvas * 0.6).astype(uint8) for every uint8 value, as a lookup table.
DIM_LUT = (np.arange(256, dtype=np.uint8) * 0.6).astype(np.uint8)


def blank_canvas(poses) -> np.ndarray:
    """A black HxWx3 uint8 canvas of the image size `poses` refer to."""
    return np.zeros((poses.height, poses.width, 3), dtype=np.uint8)


def stacked_hands(values: np.ndarray) -> np.ndarray:
    """Every person's left hand, then every person's right hand (the order the pose dicts stack them in)."""
    return np.concatenate([values[:, LEFT_HAND], values[:, RIGHT_HAND]])


def xinsir_stick_scale(width: int, height: int) -> int:
    """comfyui_controlnet_aux's scale_stick_for_xinsr_cn (dwpose/util.py draw_bodypose), for xinsir's
    controlnet-openpose-sdxl-1.0: 1 below 500 px on the longer side, then 2 + (longer side // 1000), at
    most 7. Only the limbs' half-width is scaled; joints, hands and faces keep their sizes."""
    longer = max(width, height)
    return 1 if longer < 500 else min(2 + longer // 1000, 7)


STICK_RULES = ("fixed", "xinsir", "wan")


def wan_stick_width(width: int, height: int) -> int:
    """Wan 2.2 Animate's limb half-width (Wan-Video/Wan2.2 @ 42bf4cf, wan/modules/animate/preprocess/
    human_visualization.py draw_aapose_new, its default stickwidth_type 'v2', which draw_aapose_by_meta_new
    uses): max(int(min(H, W) / 200) - 1, 1), the ellipses' second axis as ours."""
    return max(int(min(height, width) / 200) - 1, 1)


def limb_half_width(rule: str, stick_width: int, width: int, height: int) -> int:
    """The body limbs' half-width on a width x height canvas: "fixed" stick_width (the reference's 4), "xinsir"
    stick_width x xinsir_stick_scale, "wan" wan_stick_width (stick_width not used)."""
    if rule == "wan":
        return wan_stick_width(width, height)
    return stick_width * (xinsir_stick_scale(width, height) if rule == "xinsir" else 1)


def drawable_mask(points: np.ndarray, visible: np.ndarray, scale=None) -> np.ndarray:
    """Visible points whose pixel coordinates OpenCV can take: `points` themselves, or `points` times
    `scale` (width, height) for normalised points. Absurd coordinates are simply not drawn (no warning)."""
    with np.errstate(invalid="ignore", over="ignore"):
        pixels = points if scale is None else points * np.array(scale)
        return visible & np.isfinite(pixels).all(axis=-1) & (np.abs(pixels) < MAX_COORD).all(axis=-1)


def fill_limb(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, stick_width, color) -> None:
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
                color = colors[limb] if scores is None else shaded(colors[limb], scores[n, a] * scores[n, b])
                # Same float64 operations as the reference: x scaled by W, y by H, int() truncation.
                fill_limb(canvas, body[n, [a, b], 0] * float(width), body[n, [a, b], 1] * float(height), stick_width,
                      color)
    canvas = cv2.LUT(canvas, DIM_LUT)
    for joint in range(len(colors)):
        for n in range(len(body)):
            if drawable[n, joint]:
                x, y = body[n, joint]
                color = colors[joint] if scores is None else shaded(colors[joint], scores[n, joint])
                cv2.circle(canvas, (int(x * width), int(y * height)), 4, color, thickness=-1)
    return canvas


def shaded(color, alpha) -> list:
    """MimicMotion's alpha_blend_color: [int(c * alpha) for c in color] (OpenCV saturates the result)."""
    return [int(c * alpha) for c in color]


def draw_linked_points(canvas, points, ok, scale, edges, edge_colors, scores=None, thickness=2, radius=4) -> None:
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
            line(canvas, pixels[i], pixels[j], color, thickness=width)  # OpenCV 4's, whatever is installed
    for k, pixel in enumerate(pixels):
        if pixel and min(pixel) > EPS:
            color = HAND_POINT_COLOR if scores is None else (0, 0, int(scores[k] * 255))
            cv2.circle(canvas, pixel, radius, color, thickness=-1)


def draw_hands(canvas: np.ndarray, points: np.ndarray, drawable: np.ndarray, scale) -> None:
    """Every left hand, then every right hand of the (N, 134, 2) relative `points` (where `drawable`), as the
    reference draws them on a canvas of `scale` (width, height)."""
    for hand, ok in zip(stacked_hands(points), stacked_hands(drawable)):
        draw_linked_points(canvas, hand, ok, scale, HAND_EDGES, HAND_COLORS)


def draw_faces(canvas: np.ndarray, points: np.ndarray, drawable: np.ndarray, scale) -> None:
    """Every face of the (N, 134, 2) relative `points` (where `drawable`), as the reference draws them."""
    for face, ok in zip(points[:, FACE], drawable[:, FACE]):
        draw_face(canvas, face, ok, scale)


def draw_face(canvas, points, ok, scale, scores=None) -> None:
    """Every face point a white radius-3 dot; with scores (MimicMotion) a grey one, int(s * 255)."""
    for k, ((x, y), shown) in enumerate(zip(points, ok)):
        if shown:
            pixel = (int(x * scale[0]), int(y * scale[1]))
            if min(pixel) > EPS:
                color = FACE_COLOR if scores is None else (int(scores[k] * 255),) * 3
                cv2.circle(canvas, pixel, 3, color, thickness=-1)
