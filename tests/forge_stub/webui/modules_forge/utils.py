"""Stand-in of modules_forge/utils.py: HWC3 and resize_image_with_pad."""

import cv2
import numpy as np


def HWC3(x):
    assert x.dtype == np.uint8
    if x.ndim == 2:
        x = x[:, :, None]
    channels = x.shape[2]
    if channels == 3:
        return x
    if channels == 1:
        return np.concatenate([x, x, x], axis=2)
    color = x[:, :, 0:3].astype(np.float32)
    alpha = x[:, :, 3:4].astype(np.float32) / 255.0
    return (color * alpha + 255.0 * (1.0 - alpha)).clip(0, 255).astype(np.uint8)


def pad64(x):
    return int(np.ceil(float(x) / 64.0) * 64 - x)


def safer_memory(x):
    return np.ascontiguousarray(x.copy()).copy()


def resize_image_with_pad(img, resolution):
    """Shorter side to `resolution` (cubic up, area down), edge-padded to multiples of 64; returns the padded
    image and remove_pad, which crops a result back to the resized (unpadded) size."""
    H_raw, W_raw, _ = img.shape
    k = float(resolution) / float(min(H_raw, W_raw))
    interpolation = cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA
    H_target, W_target = int(np.round(float(H_raw) * k)), int(np.round(float(W_raw) * k))
    img = cv2.resize(img, (W_target, H_target), interpolation=interpolation)
    padded = np.pad(img, [[0, pad64(H_target)], [0, pad64(W_target)], [0, 0]], mode="edge")

    def remove_pad(x):
        return safer_memory(x[:H_target, :W_target])

    return safer_memory(padded), remove_pad
