"""RTMPose / DWPose SimCC pose model: box -> affine crop -> normalise -> SimCC argmax -> image pixels.

Every step keeps the dtypes of the DWPose reference (float64 box maths, float32 affine points,
float32 argmax locations), so keypoints agree with it to the last bit.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from ..opencv4 import warp_affine_linear
from ..runtime import ModelSession

MEAN_RGB = (123.675, 116.28, 103.53)
STD_RGB = (58.395, 57.12, 57.375)
BOX_PADDING = 1.25

# float32((v - mean) / std) computed in float64 for every uint8 value v, per RGB channel: exactly what
# the reference hands onnxruntime (float64 maths cast to float32), as a table lookup.
NORMALISE_LUT = np.stack(
    [((np.arange(256, dtype=np.float64) - mean) / std).astype(np.float32) for mean, std in zip(MEAN_RGB, STD_RGB)]
)
_LUT_FOR_CV2 = np.ascontiguousarray(NORMALISE_LUT.T.reshape(1, 256, 3))  # cv2.LUT's layout: one table per channel


def box_to_center_scale(box: np.ndarray, aspect_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Center and padded scale (w, h) of an x1 y1 x2 y2 box, the shorter side widened to `aspect_ratio`."""
    x1, y1, x2, y2 = (float(v) for v in box)
    center = np.array([x1 + x2, y1 + y2]) * 0.5
    w, h = np.array([x2 - x1, y2 - y1]) * BOX_PADDING
    scale = np.array([w, w / aspect_ratio]) if w > h * aspect_ratio else np.array([h * aspect_ratio, h])
    return center, scale


def crop_matrix(center: np.ndarray, scale: np.ndarray, input_wh: tuple[int, int]) -> np.ndarray:
    """2x3 affine matrix mapping the box region onto the model input (no rotation)."""

    def third_point(a, b):
        direction = a - b
        return b + np.array([-direction[1], direction[0]], dtype=direction.dtype)

    in_w, in_h = input_wh
    src = np.zeros((3, 2), dtype=np.float32)
    src[0] = center
    src[1] = center + np.array([0.0, scale[0] * -0.5])
    src[2] = third_point(src[0], src[1])
    dst = np.zeros((3, 2), dtype=np.float32)
    dst[0] = [in_w * 0.5, in_h * 0.5]
    dst[1] = np.array([in_w * 0.5, in_h * 0.5]) + np.array([0.0, in_w * -0.5])
    dst[2] = third_point(dst[0], dst[1])
    return cv2.getAffineTransform(src, dst)


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Argmax locations in model-input pixels (float32, -1 where the score <= 0) and scores."""
    n, k, _ = simcc_x.shape
    simcc_x = simcc_x.reshape(n * k, -1)
    simcc_y = simcc_y.reshape(n * k, -1)
    return decode_argmax((np.argmax(simcc_x, axis=1), np.amax(simcc_x, axis=1)),
                         (np.argmax(simcc_y, axis=1), np.amax(simcc_y, axis=1)), n, k, split_ratio)


def reference_crop(image: np.ndarray, box: np.ndarray, input_wh: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """The reference's crop of one box (x1, y1, x2, y2) of `image` (HxWx3 uint8 RGB): the normalised model input
    (3, H, W) float32 and the box's center and scale (2,) float64 in pixels."""
    in_w, in_h = input_wh
    center, scale = box_to_center_scale(box, in_w / in_h)
    # OpenCV 4's warpAffine (the reference's crop) whatever OpenCV is installed: opencv4.py
    crop = warp_affine_linear(image, crop_matrix(center, scale, input_wh), (in_w, in_h))
    return cv2.LUT(crop, _LUT_FOR_CV2).transpose(2, 0, 1), center, scale


def input_geometry(session: ModelSession, default_wh: tuple[int, int] | None = None) -> tuple[str, tuple[int, int], bool]:
    """A top-down pose model's input name, its (width, height), and whether its batch is dynamic (several
    persons per run); where the height or width is not fixed, `default_wh`, else ValueError."""
    model_input = session.get_inputs()[0]
    batch, _, in_h, in_w = model_input.shape
    if not (isinstance(in_h, int) and isinstance(in_w, int)):
        if default_wh is None:
            raise ValueError(f"the pose model's input {model_input.shape} must have a fixed height and width")
        in_w, in_h = default_wh
    return model_input.name, (in_w, in_h), not (isinstance(batch, int) and batch == 1)


def decode_argmax(x: tuple, y: tuple, n: int, k: int, split_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """decode_simcc from the (argmax, max) of the (N*K, bins) x and y logits."""
    locs = np.stack((x[0], y[0]), axis=-1).astype(np.float32)
    max_x, max_y = x[1], y[1]
    scores = np.where(max_x > max_y, max_y, max_x)
    locs[scores <= 0.0] = -1
    locs /= split_ratio
    return locs.reshape(n, k, 2), scores.reshape(n, k)


class RTMPose:
    """Top-down SimCC model: input [N, 3, H, W] RGB, outputs simcc_x [N, K, W*r], simcc_y [N, K, H*r]."""

    def __init__(self, session: ModelSession, max_batch: int = 16):
        """`max_batch`: most persons per run of a dynamic-batch model (bounds the memory a crowd takes)."""
        self.session = session
        self.max_batch = max(1, int(max_batch))
        self._buffers = threading.local()
        self.input_name, self.input_wh, self.batched = input_geometry(session)  # dynamic: all persons in one run
        in_w = self.input_wh[0]
        outputs = {o.name: o for o in session.get_outputs()}
        x_out, y_out = (outputs["simcc_x"], outputs["simcc_y"]) if "simcc_x" in outputs else session.get_outputs()[:2]
        self.output_names = [x_out.name, y_out.name]
        self.num_keypoints = x_out.shape[1]
        bins = x_out.shape[2]
        self.split_ratio = bins / in_w if isinstance(bins, int) else 2.0

    @staticmethod
    def accepts(session: ModelSession) -> bool:
        inputs, outputs = session.get_inputs(), session.get_outputs()
        return (
            len(inputs) == 1
            and len(inputs[0].shape) == 4
            and len(outputs) == 2
            and all(len(o.shape) == 3 and isinstance(o.shape[1], int) for o in outputs)
        )

    def crops(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normalised crops (N, 3, H, W) float32 and the centers and scales (N, 2) float64 of the boxes.

        The crops live in a buffer this thread reuses: valid until its next call.
        """
        in_w, in_h = self.input_wh
        buffer = getattr(self._buffers, "blob", None)
        if buffer is None or len(buffer) < len(boxes):  # reused across calls, grown for bigger crowds
            buffer = self._buffers.blob = np.empty((max(len(boxes), 1), 3, in_h, in_w), dtype=np.float32)
        blob = buffer[:len(boxes)]
        centers = np.empty((len(boxes), 2))
        scales = np.empty((len(boxes), 2))
        for i, box in enumerate(boxes):
            blob[i], centers[i], scales[i] = reference_crop(image, box, self.input_wh)
        return blob, centers, scales

    def _run_and_decode(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Locations and scores of one run. A session with `run_on_device` (the torch backend) takes the
        argmax where the logits are and copies back only the locations and scores."""
        run_on_device = getattr(self.session, "run_on_device", None)
        if run_on_device is None:
            simcc_x, simcc_y = self.session.run(self.output_names, {self.input_name: blob})
            return decode_simcc(simcc_x, simcc_y, self.split_ratio)
        simcc_x, simcc_y = run_on_device(self.output_names, {self.input_name: blob})
        n, k, _ = simcc_x.shape
        simcc_x, simcc_y = simcc_x.reshape(n * k, -1), simcc_y.reshape(n * k, -1)
        # torch's argmax, like numpy's, gives the first of equal maxima.
        picked = [(logits.argmax(dim=1).cpu().numpy(), logits.amax(dim=1).cpu().numpy()) for logits in (simcc_x, simcc_y)]
        return decode_argmax(picked[0], picked[1], n, k, self.split_ratio)

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints (N, K, 2) float64 in image pixels and scores (N, K) float32 for each box."""
        blob, centers, scales = self.crops(image, boxes)
        step = self.max_batch if self.batched else 1
        # Each row decodes on its own, so decoding run by run gives what decoding all at once would.
        decoded = [self._run_and_decode(blob[i:i + step]) for i in range(0, len(blob), step)]
        locs = np.concatenate([run[0] for run in decoded])
        scores = np.concatenate([run[1] for run in decoded])
        # float32 locations / int input size promote to float64, as in the reference.
        keypoints = locs / np.array(self.input_wh) * scales[:, None] + centers[:, None] - scales[:, None] / 2
        return keypoints, scores
