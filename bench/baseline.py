"""The baseline the benchmark compares against: the DWPose reference pipeline's steps, written plainly.

For comparison only, never imported by the library. It does what the published reference does on
every call: a default onnxruntime session, the YOLOX letterbox built as a float32 copy, anchor grids
rebuilt per call, class-aware NMS over all 80 classes, float64 normalisation of every crop, one pose
run per person (the crop handed to onnxruntime as a list, which it converts), float64 post-processing
and the reference renderer (matplotlib HSV colours for hands).
"""

from __future__ import annotations

import math

import cv2
import matplotlib.colors
import numpy as np
import onnxruntime as ort

MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def _nms(boxes, scores, iou_threshold):
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        overlap = w * h / (areas[best] + areas[rest] - w * h)
        order = rest[overlap <= iou_threshold]
    return keep


def detect_people(session, image):
    """YOLOX person boxes (x1 y1 x2 y2, float64) the way the reference finds them."""
    DET_SIZE = tuple(session.get_inputs()[0].shape[2:])  # the reference hard-codes (640, 640), yolox_l's size
    ratio = min(DET_SIZE[0] / image.shape[0], DET_SIZE[1] / image.shape[1])
    new_w, new_h = int(image.shape[1] * ratio), int(image.shape[0] * ratio)
    padded = np.ones((*DET_SIZE, 3), dtype=np.uint8) * 114
    padded[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR).astype(np.uint8)
    blob = np.ascontiguousarray(padded.transpose(2, 0, 1), dtype=np.float32)[None]
    out = session.run(None, {session.get_inputs()[0].name: blob})[0]

    grids, strides = [], []
    for stride in (8, 16, 32):
        xs, ys = np.meshgrid(np.arange(DET_SIZE[1] // stride), np.arange(DET_SIZE[0] // stride))
        grid = np.stack((xs, ys), 2).reshape(1, -1, 2)
        grids.append(grid)
        strides.append(np.full((*grid.shape[:2], 1), stride))
    grids, strides = np.concatenate(grids, 1), np.concatenate(strides, 1)
    out[..., :2] = (out[..., :2] + grids) * strides
    out[..., 2:4] = np.exp(out[..., 2:4]) * strides
    pred = out[0]
    scores = pred[:, 4:5] * pred[:, 5:]
    boxes = np.ones_like(pred[:, :4])
    boxes[:, 0], boxes[:, 1] = pred[:, 0] - pred[:, 2] / 2.0, pred[:, 1] - pred[:, 3] / 2.0
    boxes[:, 2], boxes[:, 3] = pred[:, 0] + pred[:, 2] / 2.0, pred[:, 1] + pred[:, 3] / 2.0
    boxes /= ratio

    found = []
    for cls in range(scores.shape[1]):  # class-aware NMS over every class, as the reference does
        mask = scores[:, cls] > 0.1
        if mask.any():
            keep = _nms(boxes[mask], scores[mask, cls], 0.45)
            found += [(*boxes[mask][k], scores[mask, cls][k], cls) for k in keep]
    dets = np.array(found, dtype=np.float64).reshape(-1, 6)
    return dets[(dets[:, 4] > 0.3) & (dets[:, 5] == 0), :4]


def _warp_matrix(center, scale, out_w, out_h):
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0] = center
    src[1] = center + np.array([0.0, scale[0] * -0.5])
    src[2] = src[1] + np.r_[-(src[0] - src[1])[1], (src[0] - src[1])[0]]
    dst[0] = [out_w * 0.5, out_h * 0.5]
    dst[1] = dst[0] + np.array([0.0, out_w * -0.5])
    dst[2] = dst[1] + np.r_[-(dst[0] - dst[1])[1], (dst[0] - dst[1])[0]]
    return cv2.getAffineTransform(np.float32(src), np.float32(dst))


def estimate_poses(session, boxes, image):
    """(N, 133, 2) float64 keypoints and (N, 133) scores, one model run per box."""
    in_h, in_w = session.get_inputs()[0].shape[2:]
    if len(boxes) == 0:
        boxes = [[0, 0, image.shape[1], image.shape[0]]]
    keypoints, scores = [], []
    for box in boxes:
        x1, y1, x2, y2 = box
        center = np.array([x1 + x2, y1 + y2]) * 0.5
        w, h = (x2 - x1) * 1.25, (y2 - y1) * 1.25
        aspect = in_w / in_h
        scale = np.array([w, w / aspect]) if w > h * aspect else np.array([h * aspect, h])
        crop = cv2.warpAffine(image, _warp_matrix(center, scale, in_w, in_h), (in_w, in_h), flags=cv2.INTER_LINEAR)
        crop = (crop - MEAN) / STD  # float64
        outputs = [o.name for o in session.get_outputs()]
        simcc_x, simcc_y = session.run(outputs, {session.get_inputs()[0].name: [crop.transpose(2, 0, 1)]})
        n, k, _ = simcc_x.shape
        sx, sy = simcc_x.reshape(n * k, -1), simcc_y.reshape(n * k, -1)
        locs = np.stack((np.argmax(sx, axis=1), np.argmax(sy, axis=1)), axis=-1).astype(np.float32)
        best_x, best_y = np.amax(sx, axis=1), np.amax(sy, axis=1)
        best = np.where(best_x > best_y, best_y, best_x)
        locs[best <= 0.0] = -1
        locs = locs.reshape(n, k, 2) / 2.0
        keypoints.append((locs / np.array([in_w, in_h]) * scale + center - scale / 2)[0])
        scores.append(best.reshape(n, k)[0])
    return np.array(keypoints), np.array(scores)


def to_openpose(keypoints, scores):
    info = np.concatenate((keypoints, scores[..., None]), axis=-1)
    neck = np.mean(info[:, [5, 6]], axis=1)
    neck[:, 2:4] = np.logical_and(info[:, 5, 2:4] > 0.3, info[:, 6, 2:4] > 0.3).astype(int)
    info = np.insert(info, 17, neck, axis=1)
    info[:, [1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17]] = info[:, [17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15,
                                                                             2, 1, 4, 3]]
    return info[..., :2], info[..., 2]


LIMBS = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13], [13, 14],
         [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]
COLORS = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
          [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
          [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]
HAND_EDGES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11], [11, 12],
              [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]


def draw(keypoints, scores, height, width):
    candidate = keypoints.copy()
    candidate[..., 0] /= float(width)
    candidate[..., 1] /= float(height)
    n = len(candidate)
    body = candidate[:, :18].reshape(n * 18, 2)
    subset = np.where(scores[:, :18] > 0.3, np.arange(n * 18).reshape(n, 18), -1)
    candidate[scores < 0.3] = -1
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    for i, (a, b) in enumerate(LIMBS):
        for person in subset:
            index = person[[a - 1, b - 1]]
            if -1 in index:
                continue
            xs, ys = body[index, 0] * float(width), body[index, 1] * float(height)
            length = ((ys[0] - ys[1]) ** 2 + (xs[0] - xs[1]) ** 2) ** 0.5
            angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
            polygon = cv2.ellipse2Poly((int(np.mean(xs)), int(np.mean(ys))), (int(length / 2), 4), int(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, COLORS[i])
    canvas = (canvas * 0.6).astype(np.uint8)
    for i in range(18):
        for person in subset:
            if person[i] != -1:
                x, y = body[person[i]]
                cv2.circle(canvas, (int(x * width), int(y * height)), 4, COLORS[i], thickness=-1)
    hands = np.vstack([candidate[:, 92:113], candidate[:, 113:]])
    for hand in hands:
        pixels = [(int(x * width), int(y * height)) for x, y in hand]
        for e, (i, j) in enumerate(HAND_EDGES):
            if min(*pixels[i], *pixels[j]) > 0.01:
                color = matplotlib.colors.hsv_to_rgb([e / float(len(HAND_EDGES)), 1.0, 1.0]) * 255
                cv2.line(canvas, pixels[i], pixels[j], color, thickness=2)
        for pixel in pixels:
            if min(pixel) > 0.01:
                cv2.circle(canvas, pixel, 4, (0, 0, 255), thickness=-1)
    for face in candidate[:, 24:92]:
        for x, y in face:
            pixel = (int(x * width), int(y * height))
            if min(pixel) > 0.01:
                cv2.circle(canvas, pixel, 3, (255, 255, 255), thickness=-1)
    return canvas


def resize_image(image, resolution):
    height, width = image.shape[:2]
    k = float(resolution) / min(height, width)
    new_h, new_w = int(np.round(height * k / 64.0)) * 64, int(np.round(width * k / 64.0)) * 64
    return cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LANCZOS4 if k > 1 else cv2.INTER_AREA)


class BaselinePipeline:
    """detect_resolution / image_resolution pose map, as ControlNet's reference annotator makes it."""

    def __init__(self, det_path, pose_path):
        self.det_session = ort.InferenceSession(det_path, providers=["CPUExecutionProvider"])
        self.pose_session = ort.InferenceSession(pose_path, providers=["CPUExecutionProvider"])
        self.find_people = detect_people  # the benchmark swaps in fixed person boxes after the model runs

    def __call__(self, image, detect_resolution=512, image_resolution=512):
        detect_image = resize_image(image, detect_resolution)
        boxes = self.find_people(self.det_session, detect_image)
        keypoints, scores = to_openpose(*estimate_poses(self.pose_session, boxes, detect_image))
        pose_map = draw(keypoints, scores, *detect_image.shape[:2])
        out = resize_image(image, image_resolution)
        return cv2.resize(pose_map, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_LINEAR), keypoints
