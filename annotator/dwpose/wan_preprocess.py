"""Wan 2.2 Animate's preprocessing steps, each as its official code does it (Wan-Video/Wan2.2 @ 42bf4cf,
wan/modules/animate/preprocess/: process_pipepline.py ProcessPipeline.__call__, utils.py), written from those
facts; where the official code crashes, the step says what it does instead.

    sampled_frame_indices   which frames of the driving video are used, for a target fps
    resize_by_area          the reference image (and, for replacement, the frames) to an area, sides of `divisor`
    padding_resize          into a height x width canvas, the aspect ratio kept, centred, black bars
    face_box, face_crop     the face video's frames: a box from the 68 face points, cropped from the frame, 512x512
    dilated_mask, blocky_mask  replacement mode: the body mask grown (get_mask_body_img) and made blocky (get_aug_mask)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

FACE_SIZE = 512  # the face video's frames
FACE_SCALE = 1.3  # the face box's area, relative to the face points' box


def sampled_frame_indices(frame_num: int, video_fps: float, fps: float | None) -> list[int]:
    """The indices of the frames the official pipeline keeps from a video of `frame_num` frames at `video_fps`,
    resampled to `fps` (None or -1: the video's own): target_num = int(frame_num / video_fps * fps) frames,
    frame k = round(k / fps * video_fps), clipped to the last frame (utils.py get_frame_indices)."""
    if not fps or fps == -1:
        fps = video_fps
    target_num = int(frame_num / video_fps * fps)
    times = np.arange(0, target_num) / fps
    return np.clip(np.round(times * video_fps).astype(int), 0, frame_num - 1).tolist()


def area_size(width: int, height: int, target_area: int, divisor: int = 64) -> tuple[int, int]:
    """(width, height) that resize_by_area gives: the official calculate_new_size always raises (it calls
    check_valid with one argument too many, inside a bare try), so its fallback is what runs: h = sqrt(area /
    (w / h)), w = area / h, each floored to a multiple of `divisor`."""
    aspect_ratio = width / height
    new_h = math.sqrt(target_area / aspect_ratio)
    new_w = target_area / new_h
    new_w, new_h = int((new_w // divisor) * divisor), int((new_h // divisor) * divisor)
    if new_w < 1 or new_h < 1:
        raise ValueError(f"an area of {target_area} gives a {width}x{height} image no side of {divisor} pixels")
    return new_w, new_h


def resize_by_area(image: np.ndarray, target_area: int, divisor: int = 64) -> np.ndarray:
    """`image` resized into area_size's canvas with padding_resize: INTER_AREA when the canvas has fewer pixels
    than the image, else INTER_LINEAR."""
    height, width = image.shape[:2]
    new_w, new_h = area_size(width, height, target_area, divisor)
    interpolation = cv2.INTER_AREA if new_w * new_h < width * height else cv2.INTER_LINEAR
    return padding_resize(image, new_h, new_w, interpolation)


def padding_resize(image: np.ndarray, height: int, width: int, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    """`image` (H x W x C uint8) resized to fit a black height x width canvas, the aspect ratio kept: the side that
    binds is filled, the other is int(side * ratio) wide and centred at int((canvas - side) / 2)."""
    src_h, src_w = image.shape[:2]
    canvas = np.zeros((height, width, image.shape[2]), dtype=np.uint8)
    if src_h / src_w > height / width:
        new_w = int(height / src_h * src_w)
        resized = cv2.resize(image, (new_w, height), interpolation=interpolation).reshape(height, new_w, -1)
        left = int((width - new_w) / 2)
        canvas[:, left:left + new_w] = resized
    else:
        new_h = int(width / src_w * src_h)
        resized = cv2.resize(image, (width, new_h), interpolation=interpolation).reshape(new_h, width, -1)
        top = int((height - new_h) / 2)
        canvas[top:top + new_h] = resized
    return canvas


def face_box(face_points: np.ndarray, width: int, height: int, scale: float = FACE_SCALE) -> tuple[int, int, int, int]:
    """The face box (x1, x2, y1, y2), ints, of 68 face points given relative to a width x height frame (utils.py
    get_face_bboxes, the second definition, which is the one called): the points' box grown to `scale` times
    its area keeping its aspect ratio, by half the growth on each side horizontally and 3/4 of it upward, 1/4
    downward, clipped to the frame."""
    points = np.asarray(face_points, dtype=np.float64) * (width, height)
    min_x, min_y = points.min(axis=0)
    max_x, max_y = points.max(axis=0)
    box_w, box_h = max_x - min_x, max_y - min_y
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat box: NaN growth, as the official computes it
        area = box_w * box_h * scale
        grown_w = np.sqrt(area * (box_w / box_h))
        grown_h = np.sqrt(area * (box_h / box_w))
    delta_w, delta_h = (grown_w - box_w) / 2, (grown_h - box_h) / 4
    x1, x2 = max(min_x - delta_w, 0), min(max_x + delta_w, width)
    y1, y2 = max(min_y - 3 * delta_h, 0), min(max_y + delta_h, height)
    if not all(math.isfinite(v) for v in (x1, x2, y1, y2)):
        return 0, 0, 0, 0
    return int(x1), int(x2), int(y1), int(y2)


def face_crop(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The frame's face box resized to 512 x 512 (cv2.resize's default INTER_LINEAR), or None where the box is
    empty (the official cv2.resize raises there: a face off the frame, or a frame with nobody)."""
    x1, x2, y1, y2 = box
    face = frame[y1:y2, x1:x2]
    if face.shape[0] == 0 or face.shape[1] == 0:
        return None
    return cv2.resize(face, (FACE_SIZE, FACE_SIZE))


def dilated_mask(mask: np.ndarray, k: int = 7, iterations: int = 1) -> np.ndarray:
    """The uint8 0/1 mask dilated by a k x k square `iterations` times (utils.py get_mask_body_img)."""
    return cv2.dilate(mask, np.ones((k, k), np.uint8), iterations=iterations)


def blocky_mask(mask: np.ndarray, w_len: int = 10, h_len: int = 20) -> np.ndarray:
    """The mask (uint8 0/1, changed in place and returned) with every cell of a w_len x h_len grid over its box
    that holds any of it filled (utils.py get_aug_mask; its box is the nonzero pixels' min/max, the cells
    int(box side / len) wide, the last row and column of the box never filled). An empty mask, or a box
    narrower than w_len (the official range() step of 0 raises), is returned as it is."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return mask
    x_min, y_min, x_max, y_max = int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
    w_slice, h_slice = int((x_max - x_min) / w_len), int((y_max - y_min) / h_len)
    if w_slice < 1 or h_slice < 1:
        return mask
    for x in range(x_min, x_max, w_slice):
        x_end = min(x + w_slice, x_max)
        for y in range(y_min, y_max, h_slice):
            y_end = min(y + h_slice, y_max)
            if mask[y:y_end, x:x_end].sum() > 0:
                mask[y:y_end, x:x_end] = 1
    return mask
