"""Small ONNX models with the published DWPose contracts, built with the `onnx` package in milliseconds.

Their outputs are constructed so a test knows where every keypoint and box must land:
- `yolox_model`: a YOLOX-format detector returning chosen raw anchor rows; `yolox_people_model`
  builds those rows for chosen person boxes;
- `rtmdet_model`: an RTMDet-format detector (NMS in graph) returning chosen dets and labels;
- `simcc_peak_model`: a SimCC pose model whose logits peak at chosen bins;
- `simcc_marker_model`: a SimCC pose model that finds the brightest column and row of its crop,
  so a white square in the image must come back at its own position (checks the crop geometry);
- `simcc_colour_marker_model`: the same per colour (red: even keypoints, green: odd ones), so a
  person drawn as a red head and green feet has keypoints that span it (tracking, zoom);
- `simcc_random_model`: a small random CNN with the contract, for outputs that look like a real
  model's (varied peaks and scores), used by the command line and the done-when example.

Run `python tests/stand_in_models.py OUT_DIR` to write stand-ins of the published files
(dw-ll_ucoco_384.onnx and, for tests, the others) into OUT_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # onnxruntime releases reject the newest IR versions that onnx writes by default
YOLOX_STRIDES = (8, 16, 32)


def num_anchors(input_size: int) -> int:
    return sum((input_size // s) ** 2 for s in YOLOX_STRIDES)


def anchor_index(input_size: int, stride: int, row: int, col: int) -> int:
    """Row of the YOLOX output that belongs to grid cell (row, col) of `stride`."""
    offset = 0
    for s in YOLOX_STRIDES:
        if s == stride:
            return offset + row * (input_size // s) + col
        offset += (input_size // s) ** 2
    raise ValueError(stride)


def _model(nodes, inputs, outputs, initializers) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "stand_in", inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


def _const(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


def _zero_of_input(input_name: str, prefix: str) -> list:
    """Nodes computing `<prefix>zero` = 0 * sum(input) with shape [N, 1, 1]: ties outputs to the input."""
    return [
        helper.make_node("ReduceSum", [input_name, f"{prefix}axes"], [f"{prefix}sum"], keepdims=1),
        helper.make_node("Mul", [f"{prefix}sum", f"{prefix}zero_f"], [f"{prefix}zero4"]),
        helper.make_node("Squeeze", [f"{prefix}zero4", f"{prefix}sq_axes"], [f"{prefix}zero"]),
    ], [
        _const(f"{prefix}axes", np.array([1, 2, 3], dtype=np.int64)),
        _const(f"{prefix}zero_f", np.array(0.0, dtype=np.float32)),
        _const(f"{prefix}sq_axes", np.array([3], dtype=np.int64)),
    ]


def yolox_model(raw: np.ndarray, input_size: int = 416) -> onnx.ModelProto:
    """Input `images` [1, 3, S, S]; output `output` [1, A, 5 + C] equal to `raw` (A, 5 + C)."""
    raw = np.asarray(raw, dtype=np.float32)
    assert raw.shape[0] == num_anchors(input_size)
    nodes, inits = _zero_of_input("images", "z_")
    nodes.append(helper.make_node("Add", ["z_zero", "raw"], ["output"]))
    inits.append(_const("raw", raw[None]))
    return _model(
        nodes,
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, input_size, input_size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, raw.shape[0], raw.shape[1]])],
        inits,
    )


def yolox_people_model(boxes, input_size: int = 416, score=0.9) -> onnx.ModelProto:
    """A YOLOX-format detector that finds persons at `boxes` (x1 y1 x2 y2 in model-input pixels, at most
    one centre per stride-32 cell) with objectness and class score `score` (one for all, or one per box),
    whatever the image."""
    raw = np.zeros((num_anchors(input_size), 85), dtype=np.float32)
    boxes = np.asarray(boxes, dtype=np.float64)
    scores = np.broadcast_to(np.asarray(score, dtype=np.float32), (len(boxes),))
    for (x1, y1, x2, y2), score in zip(boxes, scores):
        cx, cy, stride = (x1 + x2) / 2, (y1 + y2) / 2, 32
        row, col = int(cy // stride), int(cx // stride)
        i = anchor_index(input_size, stride, row, col)
        assert raw[i, 4] == 0, "two boxes centred in one cell"
        raw[i, :4] = [cx / stride - col, cy / stride - row, np.log((x2 - x1) / stride), np.log((y2 - y1) / stride)]
        raw[i, 4] = raw[i, 5] = score
    return yolox_model(raw, input_size)


def rtmdet_model(dets: np.ndarray, labels: np.ndarray) -> onnx.ModelProto:
    """Input `input` [B, 3, H, W] (dynamic); outputs `dets` [B, N, 5] and `labels` [B, N] int64."""
    dets = np.asarray(dets, dtype=np.float32).reshape(-1, 5)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    nodes, inits = _zero_of_input("input", "z_")
    nodes += [
        helper.make_node("Add", ["z_zero", "dets_c"], ["dets"]),
        helper.make_node("Cast", ["z_zero"], ["z_int"], to=TensorProto.INT64),
        helper.make_node("Squeeze", ["z_int", "last"], ["z_int2"]),
        helper.make_node("Add", ["z_int2", "labels_c"], ["labels"]),
    ]
    inits += [_const("dets_c", dets[None]), _const("labels_c", labels[None]), _const("last", np.array([2]))]
    return _model(
        nodes,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("dets", TensorProto.FLOAT, ["batch", len(dets), 5]),
         helper.make_tensor_value_info("labels", TensorProto.INT64, ["batch", len(dets)])],
        inits,
    )


def _pose_io(input_hw, num_keypoints, batch):
    h, w = input_hw
    return (
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, h, w])],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [batch, num_keypoints, 2 * w]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [batch, num_keypoints, 2 * h])],
    )


def simcc_peak_model(bins_xy: np.ndarray, values: np.ndarray, input_hw=(384, 288), batch=1) -> onnx.ModelProto:
    """Keypoint k's logits are `values[k]` at bin `bins_xy[k]` (x bin, y bin) and -1 elsewhere,
    for every person; `batch` is 1 (static, like the published file) or a name (dynamic)."""
    h, w = input_hw
    bins_xy = np.asarray(bins_xy, dtype=np.int64)
    k = len(bins_xy)
    sx = np.full((1, k, 2 * w), -1.0, dtype=np.float32)
    sy = np.full((1, k, 2 * h), -1.0, dtype=np.float32)
    sx[0, np.arange(k), bins_xy[:, 0]] = values
    sy[0, np.arange(k), bins_xy[:, 1]] = values
    nodes, inits = _zero_of_input("input", "z_")
    nodes += [helper.make_node("Add", ["z_zero", "sx"], ["simcc_x"]),
              helper.make_node("Add", ["z_zero", "sy"], ["simcc_y"])]
    inits += [_const("sx", sx), _const("sy", sy)]
    return _model(nodes, *_pose_io(input_hw, k, batch), inits)


def simcc_marker_model(input_hw=(384, 288), num_keypoints=133, batch=1) -> onnx.ModelProto:
    """Every keypoint's x logits are the per-column maximum of the (normalised) crop, each column
    feeding its two bins (argmax takes the first: x = column), y likewise per row; + 3 keeps the
    scores positive, so a bright square is found at its own column and row."""
    h, w = input_hw
    nodes = [
        helper.make_node("ReduceMax", ["input"], ["col_max"], axes=[1, 2], keepdims=0),  # [N, W]
        helper.make_node("ReduceMax", ["input"], ["row_max"], axes=[1, 3], keepdims=0),  # [N, H]
        helper.make_node("MatMul", ["col_max", "to_bins_x"], ["bins_x"]),
        helper.make_node("MatMul", ["row_max", "to_bins_y"], ["bins_y"]),
        helper.make_node("Add", ["bins_x", "three"], ["bins_x3"]),
        helper.make_node("Add", ["bins_y", "three"], ["bins_y3"]),
        helper.make_node("Unsqueeze", ["bins_x3", "one"], ["ux"]),
        helper.make_node("Unsqueeze", ["bins_y3", "one"], ["uy"]),
        helper.make_node("Mul", ["ux", "per_keypoint"], ["simcc_x"]),
        helper.make_node("Mul", ["uy", "per_keypoint"], ["simcc_y"]),
    ]
    inits = [
        _const("to_bins_x", np.repeat(np.eye(w, dtype=np.float32), 2, axis=1)),
        _const("to_bins_y", np.repeat(np.eye(h, dtype=np.float32), 2, axis=1)),
        _const("three", np.array(3.0, dtype=np.float32)),
        _const("one", np.array([1], dtype=np.int64)),
        _const("per_keypoint", np.ones((1, num_keypoints, 1), dtype=np.float32)),
    ]
    return _model(nodes, *_pose_io(input_hw, num_keypoints, batch), inits)


def simcc_colour_marker_model(input_hw=(384, 288), num_keypoints=133, batch=1) -> onnx.ModelProto:
    """Like `simcc_marker_model`, per colour: even keypoints find the reddest column and row of the crop
    (channel 0), odd keypoints the greenest (channel 1). A person drawn as a red square (head) and a
    green square (feet) gets keypoints that span its height, so boxes made from them follow it."""
    h, w = input_hw
    nodes, inits = [], []
    for channel, colour in enumerate(("red", "green")):
        nodes += [
            helper.make_node("Slice", ["input", f"{colour}_start", f"{colour}_end", "channel_axis"], [colour]),
            helper.make_node("ReduceMax", [colour], [f"{colour}_cols"], axes=[1, 2], keepdims=0),  # [N, W]
            helper.make_node("ReduceMax", [colour], [f"{colour}_rows"], axes=[1, 3], keepdims=0),  # [N, H]
            helper.make_node("MatMul", [f"{colour}_cols", "to_bins_x"], [f"{colour}_bx"]),
            helper.make_node("MatMul", [f"{colour}_rows", "to_bins_y"], [f"{colour}_by"]),
            helper.make_node("Unsqueeze", [f"{colour}_bx", "one"], [f"{colour}_ux"]),
            helper.make_node("Unsqueeze", [f"{colour}_by", "one"], [f"{colour}_uy"]),
            helper.make_node("Mul", [f"{colour}_ux", f"{colour}_keypoints"], [f"{colour}_x"]),
            helper.make_node("Mul", [f"{colour}_uy", f"{colour}_keypoints"], [f"{colour}_y"]),
        ]
        mask = np.zeros((1, num_keypoints, 1), dtype=np.float32)
        mask[:, channel::2] = 1.0
        inits += [_const(f"{colour}_start", np.array([channel], dtype=np.int64)),
                  _const(f"{colour}_end", np.array([channel + 1], dtype=np.int64)),
                  _const(f"{colour}_keypoints", mask)]
    nodes += [
        helper.make_node("Add", ["red_x", "green_x"], ["sum_x"]),
        helper.make_node("Add", ["red_y", "green_y"], ["sum_y"]),
        helper.make_node("Add", ["sum_x", "three"], ["simcc_x"]),  # + 3 keeps the scores positive
        helper.make_node("Add", ["sum_y", "three"], ["simcc_y"]),
    ]
    inits += [
        _const("channel_axis", np.array([1], dtype=np.int64)),
        _const("to_bins_x", np.repeat(np.eye(w, dtype=np.float32), 2, axis=1)),
        _const("to_bins_y", np.repeat(np.eye(h, dtype=np.float32), 2, axis=1)),
        _const("three", np.array(3.0, dtype=np.float32)),
        _const("one", np.array([1], dtype=np.int64)),
    ]
    return _model(nodes, *_pose_io(input_hw, num_keypoints, batch), inits)


def simcc_random_model(input_hw=(384, 288), num_keypoints=133, batch=1, seed=0) -> onnx.ModelProto:
    """Two strided convolutions and linear SimCC heads with seeded random weights."""
    h, w = input_hw
    rng = np.random.default_rng(seed)
    fh, fw = h // 16, w // 16
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], kernel_shape=[3, 3], strides=[4, 4], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], strides=[4, 4], pads=[1, 1, 1, 1]),
        helper.make_node("ReduceMean", ["c2"], ["along_x"], axes=[2], keepdims=0),  # [N, K, fw]
        helper.make_node("ReduceMean", ["c2"], ["along_y"], axes=[3], keepdims=0),  # [N, K, fh]
        helper.make_node("MatMul", ["along_x", "hx"], ["simcc_x"]),
        helper.make_node("MatMul", ["along_y", "hy"], ["simcc_y"]),
    ]
    inits = [
        _const("w1", rng.normal(0, 0.2, (16, 3, 3, 3)).astype(np.float32)),
        _const("b1", rng.normal(0, 0.1, 16).astype(np.float32)),
        _const("w2", rng.normal(0, 0.1, (num_keypoints, 16, 3, 3)).astype(np.float32)),
        _const("b2", rng.normal(0, 0.1, num_keypoints).astype(np.float32)),
        _const("hx", rng.normal(0, 0.5, (fw, 2 * w)).astype(np.float32)),
        _const("hy", rng.normal(0, 0.5, (fh, 2 * h)).astype(np.float32)),
    ]
    return _model(nodes, *_pose_io(input_hw, num_keypoints, batch), inits)


def save(model: onnx.ModelProto, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


def main(out_dir: str) -> None:
    out = Path(out_dir)
    written = [
        save(simcc_random_model(), out / "dw-ll_ucoco_384.onnx"),
        save(simcc_random_model(batch="batch"), out / "dw-ll_ucoco_384_dynamic.onnx"),
        save(simcc_marker_model(), out / "simcc_marker.onnx"),
    ]
    for path in written:
        print(path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/stand_in_models.py OUT_DIR")
    main(sys.argv[1])
