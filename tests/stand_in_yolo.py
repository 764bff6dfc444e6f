"""Small ONNX stand-ins of ultralytics YOLO exports, built with the `onnx` package, whose detections are known:
- `end_to_end_model` (YOLOv10 layout [1, N, 6]: x1, y1, x2, y2, score, class) and `raw_model` (YOLOv8 /
  YOLO11 layout [1, 84, A]: cx, cy, w, h, 80 class scores) return chosen rows whatever the image;
  `raw_people_model` builds the raw columns for chosen boxes, scores and classes;
- `marker_end_to_end_model` and `marker_raw_model` find a bright marker: their first detection is a person
  whose box is the extent, in model-input pixels, of the input values > 0.5 in one channel (red by default),
  so the preprocessing (resize, padding, channel order, / 255) decides where it lands;
- `output_model`: a detector-like graph with one output of any shape (for graphs that must be refused).
All boxes are in model-input pixels. Models are static [1, 3, H, W] unless `dynamic`: then the input is
[batch, 3, height, width] and the output's last side is named "anchors", as ultralytics' exporter names it.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from stand_in_models import IR_VERSION, OPSET

CLASSES = 80
STRIDES = (8, 16, 32)


def num_anchor_points(input_hw=(640, 640)) -> int:
    """Columns of a raw output for an (H, W) input: 8400 for 640 x 640."""
    return sum((input_hw[0] // s) * (input_hw[1] // s) for s in STRIDES)


def _const(name: str, array) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


def _graph(nodes, initializers, input_hw, output_shape, dynamic=False) -> onnx.ModelProto:
    """A checked model with input `images` and output `output0` (ultralytics' names)."""
    input_shape = ["batch", 3, "height", "width"] if dynamic else [1, 3, *input_hw]
    if dynamic:
        output_shape = ["batch", output_shape[1], "anchors"]
    graph = helper.make_graph(
        nodes, "yolo_stand_in",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output_shape))],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


def _constant_output(values: np.ndarray, input_hw, dynamic=False) -> onnx.ModelProto:
    """output0 = `values` [1, ...] + 0 * sum(images) (the output depends on the input, as a real one does)."""
    nodes = [helper.make_node("ReduceSum", ["images"], ["total"], keepdims=0),
             helper.make_node("Mul", ["total", "zero"], ["nothing"]),
             helper.make_node("Add", ["values", "nothing"], ["output0"])]
    inits = [_const("zero", np.float32(0.0)), _const("values", values.astype(np.float32))]
    return _graph(nodes, inits, input_hw, values.shape, dynamic)


def end_to_end_model(dets, input_hw=(640, 640), dynamic=False) -> onnx.ModelProto:
    """Output [1, N, 6] equal to `dets` (N rows of x1, y1, x2, y2, score, class)."""
    return _constant_output(np.asarray(dets, np.float32).reshape(1, -1, 6), input_hw, dynamic)


def raw_model(columns, input_hw=(640, 640), dynamic=False) -> onnx.ModelProto:
    """Output [1, 84, A] equal to `columns` (84, A), A the anchor points of `input_hw`."""
    columns = np.asarray(columns, np.float32)
    assert columns.shape == (4 + CLASSES, num_anchor_points(input_hw)), columns.shape
    return _constant_output(columns[None], input_hw, dynamic)


def raw_columns(boxes, scores, classes=0, input_hw=(640, 640)) -> np.ndarray:
    """Raw output columns (84, A) with detection i in column 7 * i: its x1 y1 x2 y2 box as cx, cy, w, h and
    score `scores[i]` for class `classes[i]` (every other class score 0)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.broadcast_to(np.asarray(scores, np.float32), (len(boxes),))
    classes = np.broadcast_to(np.asarray(classes, np.int64), (len(boxes),))
    columns = np.zeros((4 + CLASSES, num_anchor_points(input_hw)), np.float32)
    for i, ((x1, y1, x2, y2), score, cls) in enumerate(zip(boxes, scores, classes)):
        columns[:4, 7 * i] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
        columns[4 + cls, 7 * i] = score
    return columns


def raw_people_model(boxes, scores=0.9, classes=0, input_hw=(640, 640), dynamic=False) -> onnx.ModelProto:
    """A raw-output model that finds `boxes` (x1 y1 x2 y2) with `scores` and `classes` (one or one per box)."""
    return raw_model(raw_columns(boxes, scores, classes, input_hw), input_hw, dynamic)


def _marker_nodes(input_hw, channel: int) -> tuple[list, list]:
    """Nodes giving x1, y1, x2, y2 ([1, 1] each): the bounds (end exclusive) of the columns and rows where
    channel `channel` of `images` is > 0.5. x2 = max over bright columns of (column + 1); x1 = W - max over
    bright columns of (W - column); likewise y."""
    h, w = input_hw
    nodes = [
        helper.make_node("Slice", ["images", "c_start", "c_end", "c_axis"], ["plane"]),
        helper.make_node("Greater", ["plane", "half"], ["bright_bool"]),
        helper.make_node("Cast", ["bright_bool"], ["bright"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMax", ["bright"], ["cols"], axes=[1, 2], keepdims=0),  # [1, W]
        helper.make_node("ReduceMax", ["bright"], ["rows"], axes=[1, 3], keepdims=0),  # [1, H]
    ]
    for axis, size, mask in (("x", w, "cols"), ("y", h, "rows")):
        nodes += [
            helper.make_node("Mul", [mask, f"{axis}_up"], [f"{axis}_up_m"]),
            helper.make_node("ReduceMax", [f"{axis}_up_m"], [f"{axis}2"], axes=[1], keepdims=1),
            helper.make_node("Mul", [mask, f"{axis}_down"], [f"{axis}_down_m"]),
            helper.make_node("ReduceMax", [f"{axis}_down_m"], [f"{axis}_down_max"], axes=[1], keepdims=1),
            helper.make_node("Sub", [f"{axis}_size", f"{axis}_down_max"], [f"{axis}1"]),
        ]
    inits = [
        _const("c_start", np.array([channel], np.int64)), _const("c_end", np.array([channel + 1], np.int64)),
        _const("c_axis", np.array([1], np.int64)), _const("half", np.float32(0.5)),
        _const("x_up", np.arange(1, w + 1, dtype=np.float32)[None]),
        _const("x_down", np.arange(w, 0, -1, dtype=np.float32)[None]),
        _const("x_size", np.array([[w]], np.float32)),
        _const("y_up", np.arange(1, h + 1, dtype=np.float32)[None]),
        _const("y_down", np.arange(h, 0, -1, dtype=np.float32)[None]),
        _const("y_size", np.array([[h]], np.float32)),
    ]
    return nodes, inits


def marker_end_to_end_model(extra_dets=(), input_hw=(640, 640), score=0.9, channel=0) -> onnx.ModelProto:
    """[1, 1 + K, 6]: row 0 the marker's box (x1, y1, x2, y2, `score`, class 0), then the K `extra_dets`."""
    extra = np.asarray(extra_dets, np.float32).reshape(1, -1, 6)
    nodes, inits = _marker_nodes(input_hw, channel)
    nodes += [
        helper.make_node("Concat", ["x1", "y1", "x2", "y2", "score_class"], ["row"], axis=1),  # [1, 6]
        helper.make_node("Unsqueeze", ["row", "axis0"], ["row3"]),  # [1, 1, 6]
        helper.make_node("Concat", ["row3", "extra"], ["output0"], axis=1),
    ]
    inits += [_const("score_class", np.array([[score, 0.0]], np.float32)), _const("axis0", np.array([0])),
              _const("extra", extra)]
    return _graph(nodes, inits, input_hw, [1, 1 + extra.shape[1], 6])


def marker_raw_model(input_hw=(640, 640), score=0.9, channel=0) -> onnx.ModelProto:
    """[1, 84, A]: column 0 the marker's box as cx, cy, w, h with person score `score`; the rest zeros."""
    nodes, inits = _marker_nodes(input_hw, channel)
    nodes += [
        helper.make_node("Add", ["x1", "x2"], ["x_sum"]), helper.make_node("Mul", ["x_sum", "halve"], ["cx"]),
        helper.make_node("Add", ["y1", "y2"], ["y_sum"]), helper.make_node("Mul", ["y_sum", "halve"], ["cy"]),
        helper.make_node("Sub", ["x2", "x1"], ["bw"]), helper.make_node("Sub", ["y2", "y1"], ["bh"]),
        helper.make_node("Concat", ["cx", "cy", "bw", "bh", "class_scores"], ["column"], axis=1),  # [1, 84]
        helper.make_node("Unsqueeze", ["column", "axis2"], ["column3"]),  # [1, 84, 1]
        helper.make_node("Concat", ["column3", "rest"], ["output0"], axis=2),
    ]
    class_scores = np.zeros((1, CLASSES), np.float32)
    class_scores[0, 0] = score
    anchors = num_anchor_points(input_hw)
    inits += [_const("halve", np.float32(0.5)), _const("class_scores", class_scores), _const("axis2", np.array([2])),
              _const("rest", np.zeros((1, 4 + CLASSES, anchors - 1), np.float32))]
    return _graph(nodes, inits, input_hw, [1, 4 + CLASSES, anchors])


def output_model(shape, input_hw=(640, 640)) -> onnx.ModelProto:
    """One input [1, 3, H, W] and one output of `shape` (zeros)."""
    return _constant_output(np.zeros(shape, np.float32), input_hw)
