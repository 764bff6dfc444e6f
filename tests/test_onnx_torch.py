"""The torch backend's ONNX interpreter (annotator/dwpose/runtime/onnx_torch.py) against onnxruntime:
op by op on tiny graphs built with onnx.helper, then whole models (real detectors, stand-ins)."""

from __future__ import annotations


import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import stand_in_models as sim
from conftest import REPO, shared_path

pytestmark = pytest.mark.requires_torch
torch = pytest.importorskip("torch")

from annotator.dwpose.runtime.onnx_torch import (  # noqa: E402  (after the torch check)
    OnnxModule, UnsupportedModelError, convert, load_module, save_module)
from annotator.dwpose.weights import WeightsError  # noqa: E402

INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min
rng = np.random.default_rng(0)


class C:
    """An input given as an initializer (a constant) instead of a graph input."""

    def __init__(self, value):
        self.value = np.asarray(value)


def f32(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape).astype(np.float32)


def i64(*values):
    return np.array(values, dtype=np.int64)


def build(op, inputs, attrs=None, opset=17, outputs=1, extra_nodes=()):
    """A one-node model: `inputs` are arrays (graph inputs), C(array) (initializers) or None (absent)."""
    names, graph_inputs, inits, feeds = [], [], [], {}
    for i, value in enumerate(inputs):
        if value is None:
            names.append("")
            continue
        name = f"in{i}"
        names.append(name)
        if isinstance(value, C):
            inits.append(numpy_helper.from_array(value.value, name))
        else:
            array = np.asarray(value)
            graph_inputs.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape))
            feeds[name] = array
    out_names = [f"out{i}" for i in range(outputs)]
    node = helper.make_node(op, names, out_names, name=f"the_{op}", **(attrs or {}))
    graph = helper.make_graph([*extra_nodes, node], "op_test", graph_inputs,
                              [helper.make_empty_tensor_value_info(n) for n in out_names], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    return model, feeds


def run_ort(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def run_torch(model, feeds, dtype=None):
    module = convert(model, what="the test model")
    if dtype is not None:
        module.compute(dtype)
    with torch.inference_mode():
        outputs = module(*(torch.from_numpy(np.array(v)) for v in feeds.values()))
    return [o.float().numpy() if o.dtype == torch.bfloat16 else o.numpy() for o in outputs]


def assert_same(expected, actual, rtol=1e-5, atol=1e-6):
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual):
        assert a.shape == e.shape, (a.shape, e.shape)
        assert a.dtype == e.dtype, (a.dtype, e.dtype)
        if np.issubdtype(e.dtype, np.floating):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(a, e)


def case(op, inputs, attrs=None, opset=17, outputs=1, id=None):
    return pytest.param(op, inputs, attrs or {}, opset, outputs, id=id or f"{op}-{opset}")


X = f32(2, 3, 4, 5)
POSITIVE = f32(2, 3, 4, low=0.1, high=3.0)
HALVES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.7], dtype=np.float32)
TIES = np.array([[3, 1, 3, 2, 1, 3], [0, 0, 0, 0, 0, 0]], dtype=np.float32)
IMG = f32(1, 2, 5, 6)
CONV_W, CONV_B = f32(4, 2, 3, 3), f32(4)

ELEMENTWISE = [
    *(case(op, [f32(2, 3, 4), f32(3, 1)]) for op in ("Add", "Sub", "Mul", "Max", "Min")),
    case("Div", [f32(2, 3, 4), f32(4, low=0.5, high=2.0)]),
    case("Div", [i64(7, -7, 7, -7, 0, 9), i64(2, 2, -2, -2, 3, 4)], id="Div-int-truncates"),
    case("Add", [i64(1, 2, 3), C(i64(10))], id="Add-int-constant"),
    case("Pow", [POSITIVE, C(np.array(2.0, np.float32))]),
    case("Pow", [POSITIVE, f32(4, low=-1, high=1)], id="Pow-tensor"),
    *(case(op, [POSITIVE]) for op in ("Sqrt", "Log", "Reciprocal")),
    *(case(op, [X]) for op in ("Exp", "Neg", "Abs", "Sigmoid", "Tanh", "Erf", "Relu", "HardSwish", "Floor", "Ceil",
                               "Sign", "Identity")),
    case("Round", [HALVES]),
    case("HardSigmoid", [X]),
    case("HardSigmoid", [X], {"alpha": 1 / 6, "beta": 0.5}, id="HardSigmoid-alpha"),
    case("LeakyRelu", [X]),
    case("LeakyRelu", [X], {"alpha": 0.3}, id="LeakyRelu-alpha"),
    case("PRelu", [X, C(f32(5))]),
    case("Sum", [f32(3, 4), f32(4), f32(3, 1)]),
    case("Mean", [f32(3, 4), f32(4), f32(3, 1)]),
    case("Clip", [X, C(np.array(-0.5, np.float32))], id="Clip-min-only"),
    case("Clip", [X, None, C(np.array(0.5, np.float32))], id="Clip-max-only"),
    case("Clip", [X, C(np.array(-0.5, np.float32)), C(np.array(0.7, np.float32))], id="Clip-both"),
    case("Clip", [X], id="Clip-neither"),
    case("Clip", [X, np.array(-0.2, np.float32), np.array(0.3, np.float32)], opset=11, id="Clip-11-inputs"),
    case("Clip", [X], {"min": -0.3}, opset=6, id="Clip-6-attr-min"),
    case("Clip", [i64(-5, 0, 5, 9), C(i64(-1)), C(i64(6))], id="Clip-int"),
    *(case(op, [f32(3, 4), f32(4)]) for op in ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual")),
    case("Equal", [i64(1, 2, 3), i64(1, 0, 3)], id="Equal-int"),
    case("Not", [np.array([True, False])]),
    case("And", [np.array([True, False, True]), np.array([True, True, False])]),
    case("Or", [np.array([True, False, False]), np.array([False, False, True])]),
    case("Where", [f32(3, 4) > 0, f32(3, 4), f32(4)]),
    case("Where", [np.array([True, False, True]), i64(1, 2, 3), C(i64(-1))], id="Where-int"),
]

SOFTMAX = [
    case("Softmax", [X]),
    case("Softmax", [X], {"axis": 1}, id="Softmax-axis1"),
    case("Softmax", [X], opset=11, id="Softmax-11-flattens-from-1"),
    case("Softmax", [X], {"axis": 2}, opset=12, id="Softmax-12-axis2"),
    case("LogSoftmax", [X], {"axis": -1}),
    case("LogSoftmax", [X], opset=11),
]

SHAPES = [
    case("Concat", [f32(2, 3), f32(2, 1), f32(2, 0)], {"axis": -1}),
    case("Concat", [i64(1, 2), C(i64(3)), i64()], {"axis": 0}, id="Concat-int"),
    case("Split", [f32(2, 6), C(i64(1, 2, 3))], {"axis": 1}, outputs=3, id="Split-17-input"),
    case("Split", [f32(6, 2)], outputs=3, id="Split-17-equal"),
    case("Split", [f32(2, 7)], {"axis": -1, "num_outputs": 3}, opset=18, outputs=3, id="Split-18-num_outputs"),
    case("Split", [f32(2, 6)], {"axis": 1, "split": [4, 2]}, opset=11, outputs=2, id="Split-11-attr"),
    case("Split", [f32(4, 3)], opset=11, outputs=2, id="Split-11-equal"),
    case("Slice", [X, C(i64(1, 0)), C(i64(INT64_MAX, -1)), C(i64(1, 3))], id="Slice-int64-max"),
    case("Slice", [X, C(i64(-1)), C(i64(INT64_MIN)), C(i64(2)), C(i64(-1))], id="Slice-reverse"),
    case("Slice", [X, C(i64(4, 1)), C(i64(0, -10)), C(i64(-1, 1)), C(i64(-2, -1))], id="Slice-negative-steps"),
    case("Slice", [X, C(i64(0, 1)), C(i64(5, 3)), C(i64(3, 1)), C(i64(2, 1))], id="Slice-step2"),
    case("Slice", [X, C(i64(1, 0)), C(i64(3, 2)), C(i64(1, 3)), C(i64(-1, 1))], id="Slice-empty-negative-step"),
    case("Slice", [f32(0, 3), C(i64(-1)), C(i64(INT64_MIN)), C(i64(0)), C(i64(-1))], id="Slice-empty-input"),
    case("Slice", [X, C(i64(-3)), C(i64(100))], id="Slice-defaults"),
    case("Slice", [X, i64(1), i64(3), i64(2)], id="Slice-runtime-bounds"),
    case("Slice", [X], {"starts": [1, 0], "ends": [3, -1], "axes": [2, 3]}, opset=9, id="Slice-1-attrs"),
    case("Reshape", [X, C(i64(0, -1, 5))], id="Reshape-0-and-minus1"),
    case("Reshape", [X, i64(2, 0, 20)], id="Reshape-runtime-shape"),
    case("Reshape", [f32(0, 3), C(i64(0, 3))], {"allowzero": 1}, id="Reshape-allowzero"),
    case("Flatten", [X]),
    case("Flatten", [X], {"axis": 0}, id="Flatten-0"),
    case("Flatten", [X], {"axis": -1}, id="Flatten-neg"),
    case("Transpose", [X]),
    case("Transpose", [X], {"perm": [0, 2, 3, 1]}, id="Transpose-perm"),
    case("Squeeze", [f32(1, 3, 1, 2), C(i64(-2))]),
    case("Squeeze", [f32(1, 3, 1, 2)], id="Squeeze-all"),
    case("Squeeze", [f32(1, 3, 1, 2)], {"axes": [0]}, opset=11),
    case("Unsqueeze", [f32(3, 2), C(i64(0, -1))]),
    case("Unsqueeze", [np.array(5, np.int64), C(i64(0))], id="Unsqueeze-scalar"),
    case("Unsqueeze", [f32(3, 2)], {"axes": [1, 3]}, opset=11),
    case("Gather", [f32(5, 3), C(i64(0, -1, 2))]),
    case("Gather", [f32(2, 5, 3), C(np.array([[0, 4], [-2, 1]], np.int64))], {"axis": 1}, id="Gather-2d-indices"),
    case("Gather", [i64(7, 8, 9), C(np.array(-1, np.int64))], id="Gather-scalar-index"),
    case("GatherElements", [f32(3, 4), C(np.array([[0, 3], [-1, 1], [2, 2]], np.int64))], {"axis": 1}),
    case("Shape", [X]),
    case("Shape", [X], {"start": 1, "end": -1}, id="Shape-15-start-end"),
    case("Size", [X]),
    case("ConstantOfShape", [C(i64(2, 3))]),
    case("ConstantOfShape", [i64(3, 1)], {"value": numpy_helper.from_array(i64(7))}, id="ConstantOfShape-int"),
    case("Cast", [HALVES * 3], {"to": TensorProto.INT64}, id="Cast-float-int64-truncates"),
    case("Cast", [i64(1, -2, 3)], {"to": TensorProto.FLOAT}, id="Cast-int-float"),
    case("Cast", [np.array([0.0, 2.0, -0.5], np.float32)], {"to": TensorProto.BOOL}, id="Cast-float-bool"),
    case("Cast", [np.array([True, False])], {"to": TensorProto.INT32}, id="Cast-bool-int32"),
    case("Expand", [f32(3, 1), C(i64(2, 1, 4))]),
    case("Expand", [f32(3, 4), C(i64(1))], id="Expand-ones"),
    case("Tile", [f32(2, 3), C(i64(2, 3))]),
    case("Range", [C(np.array(1, np.int64)), np.array(10, np.int64), C(np.array(3, np.int64))]),
    case("Range", [C(np.array(5, np.int64)), C(np.array(-4, np.int64)), C(np.array(-2, np.int64))],
         id="Range-negative-delta"),
    case("Range", [C(np.array(5, np.int32)), C(np.array(2, np.int32)), C(np.array(1, np.int32))], id="Range-empty"),
    case("Range", [C(np.array(0.5, np.float32)), C(np.array(3.0, np.float32)), C(np.array(0.3, np.float32))],
         id="Range-float"),
    case("Pad", [IMG, C(i64(0, 0, 1, 2, 0, 0, 2, 1)), C(np.array(1.5, np.float32))], id="Pad-constant"),
    case("Pad", [IMG, C(i64(0, 0, -1, 2, 0, 0, 1, -2))], id="Pad-negative-crops"),
    case("Pad", [IMG, C(i64(0, 0, 1, 2, 0, 0, 2, 1))], {"mode": "reflect"}, id="Pad-reflect"),
    case("Pad", [IMG, C(i64(0, 0, 1, 2, 0, 0, 2, 1))], {"mode": "edge"}, id="Pad-edge"),
    case("Pad", [IMG], {"pads": [0, 0, 1, 1, 0, 0, 1, 1], "value": 2.0}, opset=10, id="Pad-2-attrs"),
]

REDUCE = [
    *(case(op, [X], {"axes": [1, -1], "keepdims": keep}, opset=11, id=f"{op}-11-keep{keep}")
      for op in ("ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceL2", "ReduceProd", "ReduceL1",
                 "ReduceSumSquare", "ReduceLogSumExp") for keep in (0, 1)),
    *(case(op, [X], {"axes": [2]}) for op in ("ReduceMax", "ReduceMin", "ReduceMean", "ReduceL2", "ReduceProd")),
    case("ReduceMean", [X], id="ReduceMean-all"),
    case("ReduceSum", [X, C(i64(0, 2))], {"keepdims": 0}, id="ReduceSum-13-axes-input"),
    case("ReduceSum", [X], id="ReduceSum-13-no-axes"),
    case("ReduceSum", [X, C(i64())], {"noop_with_empty_axes": 1}, id="ReduceSum-noop"),
    case("ReduceSum", [np.arange(12, dtype=np.int64).reshape(3, 4), C(i64(1))], id="ReduceSum-int"),
    case("ReduceMax", [X, C(i64(-1))], {"keepdims": 0}, opset=18, id="ReduceMax-18-axes-input"),
    case("ArgMax", [TIES], {"axis": 1}),
    case("ArgMax", [TIES], {"axis": 1, "keepdims": 0, "select_last_index": 1}, id="ArgMax-last"),
    case("ArgMin", [TIES], {"axis": -1, "keepdims": 0}),
    case("ArgMax", [X], id="ArgMax-axis0"),
    case("TopK", [TIES, C(i64(4))], outputs=2, id="TopK-ties"),
    case("TopK", [TIES, C(i64(3))], {"largest": 0}, outputs=2, id="TopK-smallest-ties"),
    case("TopK", [X, C(i64(2))], {"axis": 1}, outputs=2, id="TopK-axis1"),
    case("TopK", [X], {"k": 2}, opset=9, outputs=2, id="TopK-1-attr"),
    case("MatMul", [f32(3, 4), f32(4, 5)]),
    case("MatMul", [f32(2, 1, 3, 4), f32(5, 4, 2)], id="MatMul-batched"),
    case("MatMul", [f32(4), f32(2, 4, 3)], id="MatMul-vector"),
    case("Gemm", [f32(3, 4), f32(4, 5), f32(5)]),
    case("Gemm", [f32(4, 3), f32(5, 4), f32(3, 5)], {"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0},
         id="Gemm-transposed"),
    case("Gemm", [f32(3, 4), f32(4, 5)], id="Gemm-no-C"),
    case("Einsum", [f32(2, 3, 4), f32(2, 4, 5)], {"equation": "bij,bjk->bik"}),
]

CONV_POOL = [
    case("Conv", [IMG, C(CONV_W), C(CONV_B)], {"pads": [1, 1, 1, 1]}),
    case("Conv", [IMG, C(CONV_W)], {"pads": [0, 1, 2, 1], "strides": [2, 1]}, id="Conv-asymmetric-pads"),
    case("Conv", [f32(1, 4, 9, 8), C(f32(4, 2, 3, 3)), C(f32(4))], {"group": 2, "dilations": [2, 1], "strides": [2, 2],
                                                                    "pads": [2, 1, 2, 1]}, id="Conv-group-dilation"),
    case("Conv", [f32(1, 4, 7, 7), C(f32(4, 1, 5, 5))], {"group": 4, "auto_pad": "SAME_UPPER", "strides": [2, 2]},
         id="Conv-depthwise-same-upper"),
    case("Conv", [f32(1, 2, 6, 6), C(f32(3, 2, 2, 2))], {"auto_pad": "SAME_LOWER", "strides": [1, 1]},
         id="Conv-same-lower"),
    case("Conv", [IMG, C(CONV_W)], {"auto_pad": "VALID"}, id="Conv-valid"),
    case("Conv", [f32(2, 3, 10), C(f32(4, 3, 3)), C(f32(4))], {"pads": [2, 0], "strides": [3]}, id="Conv-1d"),
    case("ConvTranspose", [IMG, C(f32(2, 3, 3, 3)), C(f32(3))],
         {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    case("ConvTranspose", [IMG, C(f32(2, 4, 3, 3))], {"strides": [2, 1], "pads": [0, 1, 2, 0], "group": 2},
         id="ConvTranspose-asymmetric-group"),
    case("ConvTranspose", [IMG, C(f32(2, 3, 4, 4)), C(f32(3))], {"strides": [2, 2], "output_shape": [11, 12]},
         id="ConvTranspose-output-shape"),
    case("MaxPool", [f32(1, 2, 9, 8)], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    case("MaxPool", [f32(1, 2, 9, 8)], {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, id="MaxPool-ceil"),
    case("MaxPool", [f32(1, 2, 9, 8)], {"kernel_shape": [2, 3], "pads": [0, 1, 1, 2]}, id="MaxPool-asymmetric"),
    case("MaxPool", [f32(1, 2, 9, 8)], {"kernel_shape": [2, 2], "dilations": [2, 2]}, id="MaxPool-dilations"),
    case("MaxPool", [f32(1, 2, 9, 8)], {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"},
         id="MaxPool-same-upper"),
    case("MaxPool", [f32(1, 2, 13, 13)], {"kernel_shape": [13, 13], "pads": [6, 6, 6, 6]}, id="MaxPool-spp-13"),
    case("MaxPool", [f32(2, 3, 10)], {"kernel_shape": [3], "strides": [2]}, id="MaxPool-1d"),
    case("AveragePool", [f32(1, 2, 9, 8)], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    case("AveragePool", [f32(1, 2, 9, 8)], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1},
         id="AveragePool-count-pad"),
    case("AveragePool", [f32(1, 2, 9, 8)], {"kernel_shape": [3, 2], "pads": [0, 1, 2, 0]},
         id="AveragePool-asymmetric"),
    case("AveragePool", [f32(1, 2, 9, 8)], {"kernel_shape": [2, 2], "pads": [0, 0, 1, 1], "count_include_pad": 1},
         id="AveragePool-asymmetric-count-pad"),
    case("AveragePool", [f32(1, 2, 9, 8)], {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
         id="AveragePool-ceil"),
    case("GlobalAveragePool", [IMG]),
    case("GlobalMaxPool", [IMG]),
    case("BatchNormalization", [IMG, C(f32(2)), C(f32(2)), C(f32(2)), C(f32(2, low=0.5, high=2))], {"epsilon": 1e-3}),
    case("InstanceNormalization", [IMG, C(f32(2)), C(f32(2))]),
    case("LayerNormalization", [f32(2, 3, 8), C(f32(8)), C(f32(8))]),
    case("LayerNormalization", [f32(2, 3, 8), C(f32(3, 8))], {"axis": 1, "epsilon": 1e-3},
         id="LayerNormalization-axis1"),
]

EMPTY = C(np.zeros(0, np.float32))
RESIZE = [
    case("Resize", [IMG, EMPTY, C(np.array([1, 1, 2, 2], np.float32))],
         {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
         opset=11, id="Resize-nearest-asymmetric-x2-yolox"),
    case("Resize", [IMG, None, None, C(i64(1, 2, 10, 12))],
         {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
         id="Resize-nearest-asymmetric-sizes"),
    case("Resize", [IMG, None, C(np.array([1, 1, 3, 3], np.float32))],
         {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
         id="Resize-nearest-asymmetric-x3"),
    *(case("Resize", [IMG, EMPTY, C(np.array([1, 1, s, s], np.float32))],
           {"mode": "nearest", "nearest_mode": nm, "coordinate_transformation_mode": ctm},
           opset=11 if ctm == "tf_half_pixel_for_nn" else 17, id=f"Resize-nearest-{ctm}-{nm}-{s}")
      for ctm in ("half_pixel", "align_corners", "tf_half_pixel_for_nn", "pytorch_half_pixel", "asymmetric")
      for nm in ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil") for s in (2.0, 0.5, 1.5)),
    *(case("Resize", [IMG, None, C(np.array([1, 1, s, t], np.float32))],
           {"mode": "linear", "coordinate_transformation_mode": ctm}, id=f"Resize-linear-{ctm}-{s}-{t}")
      for ctm in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")
      for s, t in ((2.0, 2.0), (0.5, 0.6), (1.7, 3.0))),
    case("Resize", [IMG, None, None, C(i64(1, 2, 7, 1))], {"mode": "linear", "coordinate_transformation_mode":
                                                          "pytorch_half_pixel"}, id="Resize-linear-pytorch-size1"),
    case("Resize", [IMG, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "nearest"}, opset=10, id="Resize-10-nearest"),
    case("Resize", [IMG, C(np.array([1, 1, 0.5, 0.5], np.float32))], {"mode": "nearest"}, opset=10,
         id="Resize-10-nearest-down"),
    case("Resize", [IMG, C(np.array([1, 1, 2, 1.5], np.float32))], {"mode": "linear"}, opset=10, id="Resize-10-linear"),
    case("Upsample", [IMG, C(np.array([1, 1, 2, 3], np.float32))], {"mode": "nearest"}, opset=9, id="Upsample-9"),
    case("Upsample", [IMG, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "linear"}, opset=9,
         id="Upsample-9-linear"),
    case("Upsample", [IMG], {"mode": "nearest", "scales": [1.0, 1.0, 2.0, 3.0]}, opset=7, id="Upsample-7-attr"),
]


def _boxes(batches, count, center=False):
    xy = rng.uniform(0, 50, (batches, count, 2))
    wh = rng.uniform(5, 30, (batches, count, 2))
    boxes = np.concatenate([xy + wh / 2, wh], -1) if center else np.concatenate([xy, xy + wh], -1)
    return boxes.astype(np.float32)


def _scores(batches, classes, count):
    return rng.permutation(batches * classes * count).reshape(batches, classes, count).astype(np.float32) / (
        batches * classes * count)


NMS = [
    case("NonMaxSuppression", [_boxes(2, 40), _scores(2, 3, 40), C(i64(5)), C(np.array([0.3], np.float32)),
                               C(np.array([0.2], np.float32))], id="NMS-batches-classes"),
    case("NonMaxSuppression", [_boxes(1, 60, center=True), _scores(1, 2, 60), C(i64(100)),
                               C(np.array(0.5, np.float32))], {"center_point_box": 1}, id="NMS-center-no-score"),
    case("NonMaxSuppression", [_boxes(1, 30)[:, :, [2, 3, 0, 1]], _scores(1, 1, 30), C(i64(3))],
         id="NMS-flipped-corners-iou0"),
    case("NonMaxSuppression", [_boxes(2, 50), np.round(_scores(2, 2, 50) * 4) / 4, C(i64(50)),
                               C(np.array([0.3], np.float32))], id="NMS-tied-scores-lower-box-first"),
    case("NonMaxSuppression", [_boxes(1, 30), _scores(1, 1, 30)], id="NMS-no-max-means-none"),
    case("NonMaxSuppression", [_boxes(1, 30), _scores(1, 2, 30), np.array([4], np.int64),
                               np.array([0.4], np.float32), np.array([0.5], np.float32)], id="NMS-runtime-params"),
]


@pytest.mark.parametrize("op, inputs, attrs, opset, outputs",
                         ELEMENTWISE + SOFTMAX + SHAPES + REDUCE + CONV_POOL + RESIZE + NMS)
def test_op_matches_onnxruntime(op, inputs, attrs, opset, outputs):
    model, feeds = build(op, inputs, attrs, opset, outputs)
    assert_same(run_ort(model, feeds), run_torch(model, feeds))


def test_constant_nodes_and_int_shape_arithmetic():
    """Constant in every value form, Shape arithmetic on the CPU, a float Cast feeding float maths."""
    nodes = [
        helper.make_node("Constant", [], ["two"], value_float=2.0),
        helper.make_node("Constant", [], ["dims"], value_ints=[-1, 4]),
        helper.make_node("Constant", [], ["one"], value_int=1),
        helper.make_node("Constant", [], ["bias"], value=numpy_helper.from_array(f32(4))),
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "one"], ["dim1"]),
        helper.make_node("Cast", ["dim1"], ["dim1_f"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["x", "dims"], ["flat"]),
        helper.make_node("Mul", ["flat", "two"], ["scaled"]),
        helper.make_node("Add", ["scaled", "bias"], ["y0"]),
        helper.make_node("Mul", ["y0", "dim1_f"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                              [helper.make_empty_tensor_value_info("y"), helper.make_empty_tensor_value_info("shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    feeds = {"x": f32(2, 3, 4)}
    assert_same(run_ort(model, feeds), run_torch(model, feeds))
    module = convert(model)
    assert module.output_names == ["y", "shape"] and module.input_shapes == [[2, 3, 4]]
    assert module.input_types == ["tensor(float)"] and module.output_types == [None, None]  # outputs untyped
    with torch.inference_mode():
        y, shape = module(torch.from_numpy(feeds["x"]))
    assert shape.device.type == "cpu" and shape.dtype == torch.int64


# --------------------------------------------------------------------------------------------------
# Errors


def test_unknown_op_is_named_with_the_model():
    model, _ = build("MyCustomOp", [f32(2)])
    with pytest.raises(UnsupportedModelError) as info:
        convert(model, what="the pose model")
    message = str(info.value)
    assert "MyCustomOp" in message and "the pose model" in message and "the_MyCustomOp" in message
    assert "onnxruntime" in message
    assert isinstance(info.value, WeightsError)


def test_subgraph_ops_are_unsupported():
    branch = helper.make_graph([helper.make_node("Identity", ["x"], ["z"])], "branch", [],
                               [helper.make_empty_tensor_value_info("z")])
    node = helper.make_node("If", ["cond"], ["y"], name="the_if", then_branch=branch, else_branch=branch)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
                                            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_empty_tensor_value_info("y")])
    with pytest.raises(UnsupportedModelError, match="If.*the_if"):
        convert(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), what="a detector")


def test_unsupported_attribute_is_named():
    model, _ = build("Resize", [IMG, None, C(np.array([1, 1, 2, 2], np.float32))], {"mode": "cubic"})
    with pytest.raises(UnsupportedModelError, match="mode='cubic'"):
        convert(model, what="the detector")


def test_unreadable_file_raises_weights_error(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07" + b"\xff" * 40)
    with pytest.raises(WeightsError, match="broken.onnx"):
        convert(path, what="the pose model")
    with pytest.raises(WeightsError, match="not found"):
        convert(tmp_path / "missing.onnx")


# --------------------------------------------------------------------------------------------------
# Whole models


def _compare_model(path_or_model, feeds, atol=1e-3, rtol=0.0, exact_argmax=False):
    model = path_or_model if isinstance(path_or_model, onnx.ModelProto) else onnx.load(str(path_or_model))
    expected = run_ort(model, feeds)
    actual = run_torch(model, feeds)
    for e, a in zip(expected, actual):
        assert a.shape == e.shape and a.dtype == e.dtype
        np.testing.assert_allclose(a, e, atol=atol, rtol=rtol)
        if exact_argmax:
            np.testing.assert_array_equal(a.argmax(-1), e.argmax(-1))
    return expected, actual


def _crops(batch, hw=(384, 288)):
    return {"input": np.random.default_rng(batch).normal(size=(batch, 3, *hw)).astype(np.float32)}


def _letterboxed(side, photo="demo.jpg"):
    import cv2

    from annotator.dwpose.models import letterbox

    image = cv2.imread(str(shared_path("photos", "people", photo)))
    padded, _ = letterbox(image, (side, side))
    return padded


@pytest.mark.parametrize("name, model, feeds, exact", [
    ("yolox", lambda: sim.yolox_people_model([(20, 30, 80, 200), (100, 40, 150, 190)]),
     {"images": f32(1, 3, 416, 416, low=0, high=255)}, False),
    ("rtmdet", lambda: sim.rtmdet_model(f32(7, 5), np.arange(7) % 3), {"input": f32(2, 3, 64, 48)}, False),
    ("simcc_peak", lambda: sim.simcc_peak_model(rng.integers(0, 500, (17, 2)), rng.uniform(0.5, 1, 17), batch="b"),
     _crops(3), True),
    ("simcc_marker_b1", lambda: sim.simcc_marker_model(batch="batch"), _crops(1), True),
    ("simcc_marker_b3", lambda: sim.simcc_marker_model(batch="batch"), _crops(3), True),
    ("simcc_random", lambda: sim.simcc_random_model(), _crops(1), True),
    ("simcc_random_b3", lambda: sim.simcc_random_model(batch="batch"), _crops(3), True),
])
def test_stand_in_models(name, model, feeds, exact):
    _compare_model(model(), feeds, exact_argmax=exact)


@pytest.mark.requires_shared
def test_yolox_nano_on_a_photo():
    blob = np.ascontiguousarray(_letterboxed(416).transpose(2, 0, 1)[None].astype(np.float32))
    expected, actual = _compare_model(shared_path("ckpts", "yolox_nano.onnx"), {"images": blob})
    scores = expected[0][0, :, 4] * expected[0][0, :, 5]
    assert scores.max() > 0.5  # a person is found: the comparison covers real detections


@pytest.mark.requires_shared
@pytest.mark.parametrize("batch", [1, 2])
def test_rtmdet_nano_with_nms_in_graph(batch):
    from annotator.dwpose.models.rtmdet import MEAN_BGR, STD_BGR

    blob = (_letterboxed(320).astype(np.float32) - MEAN_BGR) / STD_BGR
    blob = np.ascontiguousarray(np.repeat(blob.transpose(2, 0, 1)[None], batch, 0))
    blob[1:] = blob[1:, :, ::-1]  # the second image: upside down, other detections
    model = onnx.load(str(shared_path("ckpts", "rtmdet_nano.onnx")))
    (dets, labels), (our_dets, our_labels) = run_ort(model, {"input": blob}), run_torch(model, {"input": blob})
    assert our_dets.shape == dets.shape and our_labels.dtype == labels.dtype == np.int64
    module = convert(model)
    assert module.output_types == ["tensor(float)", "tensor(int64)"]
    assert module.input_shapes == [["batch", 3, "height", "width"]] and module.output_shapes[1] == ["batch", "num_dets"]
    np.testing.assert_array_equal(our_labels, labels)
    # Boxes reach 320 px: 1e-3 plus 1e-4 relative (onnxruntime's own optimisation levels differ by 2e-3).
    np.testing.assert_allclose(our_dets, dets, atol=1e-3, rtol=1e-4)
    assert dets[0, 0, 4] > 0.5 and labels[0, 0] == 0  # a person at the top


def _bench_model(tmp_path_factory, name="rtmpose-m_ucoco_256", dynamic=True):
    """An architecture-faithful stand-in from bench/models.py: bench/stand_ins' file if up to date, else built."""
    bench_models = pytest.importorskip("bench.models")
    file = f"{name}_dynamic.onnx" if dynamic else f"{name}.onnx"
    ready = REPO / "bench" / "stand_ins" / file
    if bench_models.is_up_to_date(ready):
        return ready
    spec = next(spec for spec in bench_models.MODELS if spec.name == name)
    path = tmp_path_factory.getbasetemp() / file
    if not path.exists():
        bench_models.export_onnx(bench_models.build_weighted(spec), spec, path, dynamic)
    return path


@pytest.fixture(scope="module")
def rtmpose_m(tmp_path_factory):
    return _bench_model(tmp_path_factory)


@pytest.mark.parametrize("batch", [1, 3])
def test_rtmpose_m_stand_in(rtmpose_m, batch):
    # Outputs reach ~100: onnxruntime's own graph optimisations move them by ~5e-3, so 2e-2 absolute.
    _compare_model(rtmpose_m, _crops(batch, (256, 192)), atol=2e-2, exact_argmax=True)


# --------------------------------------------------------------------------------------------------
# Precision, cache, threads, devices


def _reduced(model, crops, dtype, same_shapes=True):
    """Outputs in float32 and in `dtype` of one converted model (skips where the CPU kernels lack the dtype)."""
    module = convert(model)
    with torch.inference_mode():
        reference = module(crops)
        try:
            reduced = module.compute(dtype)(crops)
        except (RuntimeError, NotImplementedError) as err:
            pytest.skip(f"this torch's CPU kernels lack {dtype}: {err}")
    assert module.dtype == dtype
    for ref, low in zip(reference, reduced):
        assert low.dtype == (dtype if ref.is_floating_point() else ref.dtype)
        assert bool(torch.isfinite(low).all()) and (low.shape == ref.shape or not same_shapes)
    return reference, reduced


def _assert_close_to_range(reference, reduced, fraction):
    for ref, low in zip(reference, reduced):
        assert float((low.float() - ref).abs().max()) < fraction * float(ref.max() - ref.min())


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_reduced_precision_on_cpu(dtype):
    crops = torch.from_numpy(_crops(2)["input"])
    reference, reduced = _reduced(sim.simcc_random_model(batch="batch"), crops, getattr(torch, dtype))
    _assert_close_to_range(reference, reduced, 5e-2)


def test_rtmpose_m_in_float16(rtmpose_m):
    """The real RTMPose head in float16 (~7 s on a CPU): ScaleNorm's ReduceL2 of values ~1000 overflows
    float16 unless the reduction is widened. (bfloat16 is checked on simcc_random above: through this
    random-weight network's ~60 layers even torch's own nn.Module in bfloat16 is ~20 % of the range off.)"""
    crops = torch.from_numpy(_crops(1, (256, 192))["input"])
    _assert_close_to_range(*_reduced(rtmpose_m, crops, torch.float16), 5e-2)


@pytest.mark.requires_shared
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_rtmdet_nano_in_reduced_precision(dtype):
    """The in-graph priors (Range, Cast to float), TopK and NMS of a real detector in float16 / bfloat16."""
    from annotator.dwpose.models.rtmdet import MEAN_BGR, STD_BGR

    blob = (_letterboxed(320).astype(np.float32) - MEAN_BGR) / STD_BGR
    blob = torch.from_numpy(np.ascontiguousarray(blob.transpose(2, 0, 1)[None]))
    # Boxes near the score threshold may come and go: only the best detection is compared.
    (dets, labels), (low_dets, low_labels) = _reduced(shared_path("ckpts", "rtmdet_nano.onnx"), blob,
                                                      getattr(torch, dtype), same_shapes=False)
    assert low_labels.dtype == torch.int64 and int(low_labels[0, 0]) == int(labels[0, 0]) == 0
    np.testing.assert_allclose(low_dets[0, 0, :4].float().numpy(), dets[0, 0, :4].numpy(), atol=3.0)
    assert abs(float(low_dets[0, 0, 4]) - float(dets[0, 0, 4])) < 0.02


def test_float16_reductions_do_not_overflow():
    model, feeds = build("ReduceL2", [f32(2, 3, 50, low=500, high=1000)], {"axes": [-1]}, opset=11)
    expected = run_ort(model, feeds)[0]
    actual = run_torch(model, feeds, dtype=torch.float16)[0]
    assert actual.dtype == np.float16
    np.testing.assert_allclose(actual.astype(np.float32), expected, rtol=2e-3)


def test_save_and_load_round_trip(tmp_path):
    module = convert(sim.simcc_random_model(batch="batch"))
    crops = torch.from_numpy(_crops(2)["input"])
    path = tmp_path / "cache" / "random.pt"
    save_module(module, path)
    assert [p.name for p in path.parent.iterdir()] == ["random.pt"]  # no temporary file left
    torch.load(path, weights_only=True)  # plain data and tensors only
    loaded = load_module(path)
    assert isinstance(loaded, OnnxModule)
    assert loaded.input_names == module.input_names and loaded.output_shapes == module.output_shapes
    with torch.inference_mode():
        for a, b in zip(module(crops), loaded(crops)):
            assert torch.equal(a, b)
    module.compute(torch.bfloat16)
    save_module(module, path)
    assert load_module(path).dtype == torch.bfloat16


def test_truncated_cache_raises_weights_error(tmp_path):
    """A truncated or foreign cache file raises WeightsError (delete and convert again); a missing one
    FileNotFoundError."""
    path = tmp_path / "m.pt"
    save_module(convert(sim.simcc_random_model()), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="truncated or corrupt"):
        load_module(path)
    torch.save({"something": "else"}, path)
    with pytest.raises(WeightsError, match="not a torch-backend cache"):
        load_module(path)
    with pytest.raises(FileNotFoundError):
        load_module(tmp_path / "missing.pt")


def test_threads_share_one_module():
    from concurrent.futures import ThreadPoolExecutor

    module = convert(sim.simcc_random_model(batch="batch"))
    inputs = [torch.from_numpy(_crops(1 + i % 3)["input"]) for i in range(4)]

    def run(x):
        with torch.inference_mode():
            return module(x)

    expected = [run(x) for x in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:  # map re-raises any thread's error here
        for _ in range(5):
            for outputs, reference in zip(pool.map(run, inputs), expected):
                assert all(torch.equal(a, b) for a, b in zip(outputs, reference))


def test_buffers_follow_to_and_int_constants_stay_on_cpu():
    module = convert(sim.simcc_marker_model(batch="batch"))
    buffers = dict(module.named_buffers())
    assert buffers and all(b.dtype == torch.float32 for b in buffers.values())
    assert set(module.state_dict()) == set(buffers)
    module.to("meta")  # stands in for a GPU here: every float buffer moves, shape constants do not
    assert all(b.device.type == "meta" for b in module.buffers())
    assert all(t.device.type == "cpu" for t in module._cpu.values())


def test_parameter_inputs_are_never_read_from_the_device(rtmpose_m):
    """On the meta device (no data: any read of a device tensor's values fails) a model runs to its end, so
    shapes, Slice bounds, Resize scales, TopK's k... come from CPU values: no GPU sync on a real device."""
    module = convert(rtmpose_m).to("meta")
    with torch.inference_mode():
        simcc_x, simcc_y = module(torch.zeros(2, 3, 256, 192, device="meta"))
    assert simcc_x.device.type == "meta" and simcc_x.shape == (2, 133, 384) and simcc_y.shape == (2, 133, 512)


@pytest.mark.requires_shared
def test_rtmdet_runs_on_the_device_up_to_its_nms():
    """rtmdet_nano's priors, top-k and gathers need no device values; only NonMaxSuppression copies to the CPU."""
    module = convert(shared_path("ckpts", "rtmdet_nano.onnx")).to("meta")
    with torch.inference_mode(), pytest.raises(RuntimeError, match="NonMaxSuppression"):
        module(torch.zeros(1, 3, 320, 320, device="meta"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    module = convert(sim.simcc_random_model(batch="batch"))
    crops = torch.from_numpy(_crops(2)["input"])
    with torch.inference_mode():
        expected = module(crops)
        actual = module.to("cuda")(crops.cuda())
    for a, b in zip(actual, expected):
        assert a.device.type == "cuda"
        torch.testing.assert_close(a.cpu(), b, atol=1e-3, rtol=1e-4)
