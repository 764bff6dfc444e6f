"""Small ONNX heatmap pose models (the ViTPose contract: input [N, 3, H, W], one output [N, K, H/4, W/4]),
built with the `onnx` package in milliseconds, whose outputs a test can predict:

- `heatmap_peak_model`: Gaussian peaks at chosen sub-cell positions of the heatmaps, whatever the input
  (the decode's sub-pixel refinement must find them);
- `heatmap_marker_model`: heatmaps that peak where the crop is bright, per keypoint in one colour channel,
  so a bright square in the image comes back at its own position (checks crop, channel order and decode
  end to end);
- `save_with_external_data`: a model saved with its tensors in a `<stem>_data.bin` file beside it, as Wan's
  vitpose_h_wholebody file is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

import stand_in_models as sim

STRIDE = 4  # heatmap cells per input pixel, both ways
MARKER_THRESHOLD = 1.0  # normalised values above it count as bright (about 180 of 255 in either mode)


def _heatmap_io(input_hw, num_keypoints, batch, heatmap_hw=None):
    h, w = input_hw
    hh, hw = heatmap_hw or (h // STRIDE, w // STRIDE)
    return ([helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, h, w])],
            [helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT, [batch, num_keypoints, hh, hw])])


def gaussian_heatmaps(peaks_xy, sigma: float = 1.5, values=1.0, heatmap_hw=(64, 48)) -> np.ndarray:
    """(K, h, w) float32 heatmaps: keypoint k is values[k] * exp(-d^2 / (2 sigma^2)) around peaks_xy[k]
    (x, y in cells, fractions allowed)."""
    peaks_xy = np.asarray(peaks_xy, dtype=np.float64).reshape(-1, 2)
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), (len(peaks_xy),))
    yy, xx = np.mgrid[0:heatmap_hw[0], 0:heatmap_hw[1]]
    d2 = (xx - peaks_xy[:, 0, None, None]) ** 2 + (yy - peaks_xy[:, 1, None, None]) ** 2
    return (values[:, None, None] * np.exp(-d2 / (2 * sigma ** 2))).astype(np.float32)


def heatmap_peak_model(peaks_xy, sigma: float = 1.5, values=1.0, input_hw=(256, 192), batch=1,
                       heatmap_hw=None) -> onnx.ModelProto:
    """Every person's heatmaps are gaussian_heatmaps(peaks_xy, sigma, values) (K = len(peaks_xy)), tied to
    the input by 0 * sum(input); `batch` is 1 (static) or a name (dynamic); `heatmap_hw` defaults to the
    input / 4."""
    heatmap_hw = heatmap_hw or (input_hw[0] // STRIDE, input_hw[1] // STRIDE)
    maps = gaussian_heatmaps(peaks_xy, sigma, values, heatmap_hw)
    nodes, inits = sim._zero_of_input("input", "z_")  # [N, 1, 1]
    nodes += [helper.make_node("Unsqueeze", ["z_zero", "last"], ["z_zero_nchw"]),  # [N, 1, 1, 1]
              helper.make_node("Add", ["z_zero_nchw", "maps"], ["heatmaps"])]
    inits += [sim._const("last", np.array([3], dtype=np.int64)), sim._const("maps", maps[None])]
    return sim._model(nodes, *_heatmap_io(input_hw, len(maps), batch, heatmap_hw), inits)


def heatmap_marker_model(input_hw=(256, 192), num_keypoints=133, batch=1, channels=None,
                         sigma: float = 4.0) -> onnx.ModelProto:
    """Keypoint k's heatmap is relu(input[channels[k]] - MARKER_THRESHOLD) blurred with a Gaussian of
    `sigma` input pixels and sampled every 4 pixels: cell (i, j) is centred on input pixel (4i, 4j), the
    heatmap convention of the decode, so the peak of a bright square's heatmap lies at its centre / 4.
    `channels` (K,) defaults to k % 3: a white square is found by every keypoint; a pure red one (RGB) by
    keypoints 0, 3, 6, ... when the model gets RGB, by 2, 5, 8, ... when it gets BGR."""
    channels = np.arange(num_keypoints) % 3 if channels is None else np.asarray(channels)
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    g = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma ** 2))
    blur = np.repeat((g / 8.0)[None, None], 3, axis=0).astype(np.float32)  # [3, 1, k, k], one per channel
    select = np.zeros((num_keypoints, 3, 1, 1), dtype=np.float32)
    select[np.arange(num_keypoints), channels, 0, 0] = 1.0
    nodes = [
        helper.make_node("Sub", ["input", "threshold"], ["shifted"]),
        helper.make_node("Relu", ["shifted"], ["bright"]),
        helper.make_node("Conv", ["bright", "blur"], ["cells"], group=3, kernel_shape=[2 * radius + 1] * 2,
                         strides=[STRIDE, STRIDE], pads=[radius] * 4),
        helper.make_node("Conv", ["cells", "select"], ["heatmaps"], kernel_shape=[1, 1]),
    ]
    inits = [sim._const("threshold", np.array(MARKER_THRESHOLD, dtype=np.float32)), sim._const("blur", blur),
             sim._const("select", select)]
    return sim._model(nodes, *_heatmap_io(input_hw, num_keypoints, batch), inits)


def save_with_external_data(model: onnx.ModelProto, path: str | Path) -> Path:
    """Save `model` to `path` with every tensor in `<stem>_data.bin` beside it (the graph file alone cannot
    be loaded without it). Returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=f"{path.stem}_data.bin", size_threshold=0)
    return path
