"""ViTPose / ViTPose++ heatmap pose models (Wan 2.2 Animate's `vitpose_h_wholebody` ONNX, easy_ViTPose's
files): box -> crop -> heatmaps [N, K, H/4, W/4] -> DARK decode -> image pixels.

The same interface as rtmpose.RTMPose (`crops`, `__call__`, `input_wh`, `num_keypoints`, `batched`), so the
pipeline, tracking, batch jobs and hosts use either kind alike.

Two ways to crop a person box for the model (`ViTPose.mode`):

- "wan" (the default): Wan 2.2 Animate's Pose2d exactly (Wan-Video/Wan2.2 at 42bf4cf,
  wan/modules/animate/preprocess/pose2d.py and pose2d_utils.py). The box gives a center and a scale of
  max(w * H/W, h) by W/H of that, x 1.25 (bbox_from_detector); the crop is the whole-pixel region
  round(center -+ scale / 2) of the image, zero outside it, resized to the input size with cv2.resize
  INTER_LINEAR (crop); the pixels are in BGR order (Pose2d.load_images converts its RGB frames "BGR2RGB",
  the detector's read_img swaps them back, the pose model gets the swapped ones) and normalised as
  (v / 255 - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225). A box narrower or lower than 10 pixels is
  replaced by the whole image (ViTPose.preprocess; it does so for "no person" too, which the pipeline's
  whole-image fallback box already is). Pose2d always crops to 256x192 (its preprocess default, the Wan
  file's input); here the crop is the model's input size, 256x192 where the file leaves it open.
- "dwpose": the crop RTMPose uses (the conventions' center / scale x 1.25 rule, the shorter side widened
  to the input's aspect ratio, OpenCV 4's sub-pixel affine warp, RGB, the same mean / std x 255).

Why "wan" is the default: these models come to this project for Wan 2.2 Animate, whose pose videos are
made by Pose2d; the project's rule is that the default reproduces the reference bit for bit and anything
else is an opt-in. With the same person box, mode "wan" gives Pose2d's keypoints to the last bit (as
Pose2d computes them with numpy < 2, which Wan's requirements.txt pins). "dwpose" is the opt-in: it feeds
RGB, as ViTPose was trained, through the crop the SimCC models get, so that changing the pose model
changes nothing else. Set it with `detector.pose_model.mode = "dwpose"`.

Both modes decode as Pose2d does (ViTPose.forward: keypoints_from_heatmaps(unbiased=True, use_udp=False),
which with its default post_process='default' and kernel=11 becomes post_process='unbiased'):
argmax over each heatmap (score = its maximum; location -1 where the score <= 0), then DARK: the heatmap
blurred with an 11x11 Gaussian (sigma 2) after zero padding by 5, rescaled to its old maximum, log of
max(., 1e-10), one Newton step from the argmax cell where it lies 2 or more cells inside the map. Back to
image pixels: x = x_heatmap * scale / W_heatmap + center - scale / 2 (no UDP).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..runtime import ModelSession
from .rtmpose import input_geometry, reference_crop

MODES = ("wan", "dwpose")
DEFAULT_MODE = "wan"

# Wan's Pose2d (pose2d.py ViTPose.preprocess, lines 324-343): box padding, the ImageNet mean / std of
# 0..1 values, and the smallest box side it keeps.
WAN_RESCALE = 1.25
WAN_MEAN = np.array([0.485, 0.456, 0.406])
WAN_STD = np.array([0.229, 0.224, 0.225])
WAN_MIN_BOX_SIDE = 10
# Wan's scale unit: bbox_from_detector divides by 200, keypoints_from_heatmaps gets scale * 200.
WAN_SCALE_UNIT = 200.0
DARK_KERNEL = 11  # keypoints_from_heatmaps' default kernel, the one Pose2d runs
# Pose2d's crop size (ViTPose.preprocess input_resolution=(256, 192), whatever the model file says), used where
# the model's input height and width are not fixed.
WAN_INPUT_WH = (192, 256)


# --------------------------------------------------------------------------------------- the decode


def decode_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints in heatmap cells (N, K, 2) float32, x then y, and scores (N, K) float32 of heatmaps
    (N, K, H, W): the argmax cell (-1 where the score <= 0) moved by one DARK step.

    The arithmetic is Wan's keypoints_from_heatmaps(unbiased=True) as numpy < 2 runs it (Wan pins
    numpy < 2), whichever numpy is installed: see dark_refine."""
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, h * w)
    cells = np.argmax(flat, axis=2)
    scores = np.amax(flat, axis=2)
    locs = np.stack([cells % w, cells // w], axis=-1).astype(np.float32)
    locs[~(scores > 0.0)] = -1  # NaN scores too, as Wan's np.where(maxvals > 0, ...)
    return dark_refine(log_blurred(heatmaps), locs), scores


def log_blurred(heatmaps: np.ndarray, kernel: int = DARK_KERNEL) -> np.ndarray:
    """DARK's modulation of heatmaps (N, K, H, W) float32: each map zero-padded by kernel // 2, blurred
    with cv2.GaussianBlur (kernel x kernel, sigma from the size: 2 for 11), unpadded, scaled back to its
    old maximum, then log(max(., 1e-10)); float32. (pose2d_utils.py _gaussian_blur, lines 715-754, and
    keypoints_from_heatmaps, lines 909-910.)"""
    border = kernel // 2
    out = np.empty_like(heatmaps, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):  # an all-zero map: 0 / 0, as in Wan (never refined)
        for index in np.ndindex(heatmaps.shape[:2]):
            padded = np.pad(heatmaps[index], border)
            blurred = cv2.GaussianBlur(padded, (kernel, kernel), 0)[border:-border, border:-border]
            out[index] = blurred * (heatmaps[index].max() / blurred.max())
    return np.log(np.maximum(out, np.float32(1e-10)))


def dark_refine(log_maps: np.ndarray, locs: np.ndarray) -> np.ndarray:
    """`locs` (N, K, 2) float32 argmax cells moved by one Newton step on `log_maps` (N, K, H, W) float32,
    for cells 2 or more inside the map (2 <= x <= W - 3, 2 <= y <= H - 3) whose Hessian has a nonzero
    determinant; the others are kept. Returns new float32 locations.

    pose2d_utils.py _taylor (lines 614-648) with numpy < 2's types: the first differences and the mixed
    one are float32, 2 * h[y, x] promotes the second differences to float64, the 0.5 / 0.25 factors make
    every derivative float64, the Hessian is inverted in float64 and the step is added in float64 and
    rounded to float32."""
    _, _, h, w = log_maps.shape
    locs = locs.copy()
    px, py = locs[..., 0].astype(np.int64), locs[..., 1].astype(np.int64)
    inside = (px > 1) & (px < w - 2) & (py > 1) & (py < h - 2)
    n_i, k_i = np.nonzero(inside)
    x, y = px[n_i, k_i], py[n_i, k_i]

    def at(dy: int, dx: int) -> np.ndarray:
        return log_maps[n_i, k_i, y + dy, x + dx]

    f64 = np.float64
    centre = at(0, 0).astype(f64)
    dx = 0.5 * (at(0, 1) - at(0, -1)).astype(f64)
    dy = 0.5 * (at(1, 0) - at(-1, 0)).astype(f64)
    dxx = 0.25 * ((at(0, 2).astype(f64) - 2.0 * centre) + at(0, -2).astype(f64))
    dyy = 0.25 * ((at(2, 0).astype(f64) - 2.0 * centre) + at(-2, 0).astype(f64))
    dxy = 0.25 * (((at(1, 1) - at(-1, 1)) - at(1, -1)) + at(-1, -1)).astype(f64)
    solvable = dxx * dyy - dxy ** 2 != 0
    hessian = np.stack([dxx, dxy, dxy, dyy], axis=-1).reshape(-1, 2, 2)[solvable]
    gradient = np.stack([dx, dy], axis=-1).reshape(-1, 2, 1)[solvable]
    step = (-np.linalg.inv(hessian) @ gradient)[..., 0]
    n_i, k_i = n_i[solvable], k_i[solvable]
    locs[n_i, k_i] = (locs[n_i, k_i].astype(f64) + step).astype(np.float32)
    return locs


# ------------------------------------------------------------------------------------- Wan's crop


def wan_center_scale(box, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Center (x, y) and scale (w, h) in pixels, both float64, of an x1 y1 x2 y2 box for a model input of
    `input_hw` (height, width): pose2d_utils.py bbox_from_detector (lines 1044-1066) with rescale 1.25, the
    box's height, or its width x H/W if that is more, by W/H of that, / 200, x 1.25; then x 200 as
    pose2d.py line 317 hands it to the decode (the same bits as Wan's, unit and all)."""
    in_h, in_w = input_hw
    aspect = in_h / float(in_w)
    x1, y1, x2, y2 = box[:4]
    center = np.array([(x1 + x2) / 2.0, (y1 + y2) / 2.0])
    size = max((x2 - x1) * aspect, y2 - y1)
    scale = np.array([size / aspect, size]) / WAN_SCALE_UNIT
    scale *= WAN_RESCALE
    return center, scale * WAN_SCALE_UNIT


def wan_crop_region(center: np.ndarray, scale: np.ndarray, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The whole-pixel region [ul, br) (x, y int arrays) Wan crops for `center` and `scale` (pixels, from
    wan_center_scale): pose2d_utils.py get_transform / transform / crop (lines 1004-1041, 1075-1077) for a
    square unit of max(scale), the input's corners (0, 0) and (W, H) mapped back with the inverse matrix
    and rounded half to even."""
    in_h, in_w = input_hw
    side = max(scale)  # Wan's 200 * max(scale / 200): the same product
    width = side / (in_h / float(in_w))
    to_input = np.zeros((3, 3))
    to_input[0, 0] = float(in_w) / width
    to_input[1, 1] = float(in_h) / side
    to_input[0, 2] = in_w * (-float(center[0]) / width + .5)
    to_input[1, 2] = in_h * (-float(center[1]) / side + .5)
    to_input[2, 2] = 1
    to_image = np.linalg.inv(to_input)

    def corner(u: float, v: float) -> np.ndarray:
        point = np.dot(to_image, np.array([u, v, 1.0]))
        return np.array([round(point[0]), round(point[1])], dtype=int)

    return corner(0.0, 0.0), corner(float(in_w), float(in_h))


def wan_crop(image: np.ndarray, center: np.ndarray, scale: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """Wan's crop of `image` (HxWx3 uint8) for `center` and `scale` (pixels, from wan_center_scale) as
    float32 (in_h, in_w, 3), values 0..255: the region of
    wan_crop_region copied into zeros (the parts outside the image stay 0), resized with cv2.resize
    INTER_LINEAR (pose2d_utils.py crop, lines 1069-1099). The copy uses Python's slice bounds as Wan's does,
    so a region that a bound wraps around or that misses the image stays all zeros, as there."""
    in_h, in_w = input_hw
    (ul_x, ul_y), (br_x, br_y) = wan_crop_region(center, scale, input_hw)
    height, width = image.shape[:2]
    region = np.zeros((br_y - ul_y, br_x - ul_x, image.shape[2]), dtype=np.float32)
    to_x = max(0, -ul_x), min(br_x, width) - ul_x
    to_y = max(0, -ul_y), min(br_y, height) - ul_y
    from_x = max(0, ul_x), min(width, br_x)
    from_y = max(0, ul_y), min(height, br_y)
    try:
        region[to_y[0]:to_y[1], to_x[0]:to_x[1]] = image[from_y[0]:from_y[1], from_x[0]:from_x[1]]
    except ValueError:  # the two slices differ in shape: Wan prints the error and keeps the zeros
        pass
    return cv2.resize(region, (in_w, in_h))


def wan_normalise(crop: np.ndarray) -> np.ndarray:
    """A float32 (H, W, 3) crop in 0..255 as the model input (3, H, W) float32: (v / 255 - mean) / std in
    float64 (pose2d.py lines 339-342)."""
    return ((crop / 255. - WAN_MEAN) / WAN_STD).transpose(2, 0, 1).astype(np.float32)


def wan_to_image(locs: np.ndarray, heatmap_wh: tuple[int, int], center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Heatmap locations (K, 2) float32 of one person in image pixels (K, 2) float32 for its `center` and
    `scale` (pixels, from wan_center_scale), Wan's way: pose2d_utils.py transform_preds (lines 279-323,
    use_udp=False) in numpy < 2's arithmetic: a float32 array with a float64 number stays float32, so
    each step is float32."""
    out = np.empty_like(locs, dtype=np.float32)
    for axis in (0, 1):
        step = np.float32(scale[axis] / heatmap_wh[axis])
        out[:, axis] = locs[:, axis] * step + np.float32(center[axis]) - np.float32(scale[axis] * 0.5)
    return out


# --------------------------------------------------------------------------------------- the model


class ViTPose:
    """Top-down heatmap model: input [N, 3, H, W], one output [N, K, H/4, W/4] of heatmaps (K = 133
    COCO-WholeBody or 17 COCO body points)."""

    def __init__(self, session: ModelSession, max_batch: int = 16, mode: str = DEFAULT_MODE):
        """`max_batch`: most persons per run of a dynamic-batch model. `mode`: "wan" (Wan 2.2 Animate's
        crop, BGR) or "dwpose" (RTMPose's crop, RGB); see the module's docstring."""
        self.session = session
        self.max_batch = max(1, int(max_batch))
        self.mode = mode
        # a dynamic batch: several persons per run; a dynamic height / width: Pose2d's 256 x 192
        self.input_name, self.input_wh, self.batched = input_geometry(session, default_wh=WAN_INPUT_WH)
        output = session.get_outputs()[0]
        self.output_names = [output.name]
        self.num_keypoints = output.shape[1]

    @staticmethod
    def accepts(session: ModelSession) -> bool:
        """True for one 4-D input and one 4-D output [N, K, H, W] with a fixed K (a SimCC model has two
        3-D outputs)."""
        inputs, outputs = session.get_inputs(), session.get_outputs()
        return (len(inputs) == 1 and len(inputs[0].shape) == 4 and len(outputs) == 1
                and len(outputs[0].shape) == 4 and isinstance(outputs[0].shape[1], int))

    def crops(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model inputs (N, 3, H, W) float32 for the boxes (N, 4) of `image` (HxWx3 uint8 RGB), and each
        box's center and scale (w, h of the region cropped) (N, 2) float64 in pixels."""
        if self.mode not in MODES:
            raise ValueError(f"ViTPose.mode must be one of {MODES}, got {self.mode!r}")
        in_w, in_h = self.input_wh
        blob = np.empty((len(boxes), 3, in_h, in_w), dtype=np.float32)
        centers = np.empty((len(boxes), 2))
        scales = np.empty((len(boxes), 2))
        for i, box in enumerate(boxes):
            if self.mode == "dwpose":
                blob[i], centers[i], scales[i] = reference_crop(image, box, self.input_wh)
            else:
                height, width = image.shape[:2]
                if box[2] - box[0] < WAN_MIN_BOX_SIDE or box[3] - box[1] < WAN_MIN_BOX_SIDE:
                    box = np.array([0, 0, width, height])
                centers[i], scales[i] = wan_center_scale(box, (in_h, in_w))
                bgr = image[..., ::-1]  # Pose2d's pose model sees its frames with the channels swapped
                blob[i] = wan_normalise(wan_crop(bgr, centers[i], scales[i], (in_h, in_w)))
        return blob, centers, scales

    def heatmaps(self, blob: np.ndarray) -> np.ndarray:
        """The model's heatmaps (N, K, h, w) float32 for inputs (N, 3, H, W), max_batch persons per run
        (one for a static batch of 1)."""
        step = self.max_batch if self.batched else 1
        runs = [self.session.run(self.output_names, {self.input_name: blob[i:i + step]})[0]
                for i in range(0, len(blob), step)]
        return np.concatenate(runs).astype(np.float32, copy=False)

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints (N, K, 2) float64 in pixels of `image` (HxWx3 uint8 RGB) and scores (N, K) float32
        for each box (N, 4) x1 y1 x2 y2."""
        blob, centers, scales = self.crops(image, boxes)
        if len(blob) == 0:
            return np.zeros((0, self.num_keypoints, 2)), np.zeros((0, self.num_keypoints), np.float32)
        heatmaps = self.heatmaps(blob)
        locs, scores = decode_heatmaps(heatmaps)
        heatmap_wh = (heatmaps.shape[3], heatmaps.shape[2])
        if self.mode == "dwpose":  # as RTMPose: float32 locations promoted to float64
            keypoints = locs / np.array(heatmap_wh) * scales[:, None] + centers[:, None] - scales[:, None] / 2
        else:
            keypoints = np.stack([wan_to_image(locs[i], heatmap_wh, centers[i], scales[i])
                                  for i in range(len(locs))]).astype(np.float64)
        return keypoints, scores
