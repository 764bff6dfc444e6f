"""Run an ONNX graph with PyTorch ops, so the project's models run on torch devices (CUDA, MPS, CPU).

`convert(path)` reads the graph once, checks that every op is known, and returns an `OnnxModule`
(CPU, float32); `module.to(device)` and `module.compute(torch.float16)` prepare it; `forward` runs the
nodes in the stored (topological) order, freeing each value after its last use.

Values and devices:
- every value is a torch.Tensor. All floats of the graph (float16/bfloat16/float32/double) are held in
  ONE dtype, the compute dtype: float initializers are cast to it, float inputs are cast on entry, and a
  Cast (or ConstantOfShape, Range) to any float type yields it. Integer and bool tensors are untouched;
- float constants (initializers and Constant nodes) are persistent buffers that follow `module.to()`;
  integer/bool constants of up to 4096 elements stay on the CPU (shape-like: Reshape shapes, Slice
  bounds, Gather indices of Shape outputs), larger ones are buffers. A float constant that an op reads
  as numbers (Resize scales, NMS thresholds: "parameter" inputs) also has a float32 CPU copy for that;
- Shape, Size, Range, ConstantOfShape and NonMaxSuppression produce CPU tensors, so shape arithmetic
  stays on the CPU and parameter inputs are read without a device sync. Where an op's data inputs mix
  the CPU and another device, the CPU ones are moved to that device first.
- forward mutates nothing: several threads may call it on one module.

Choices (each checked against onnxruntime in tests/test_onnx_torch.py):
- Resize computes its source indices (nearest) and weights (linear, separable) per axis from the spec's
  coordinate formulas in float32, as onnxruntime does, so every coordinate_transformation_mode is exact;
  F.interpolate is used only where it is identical (nearest, asymmetric, floor, power-of-two scales).
  Axes with scale 1 and an unchanged size are left alone (as onnxruntime does). Cubic, antialias and
  tf_crop_and_resize raise UnsupportedModelError at convert time.
- NonMaxSuppression runs on the CPU in float32 (boxes and scores are copied there): scores sorted stably
  (ties: lower box index first), greedy, a box suppressed when IoU > iou_threshold, candidates only with
  score > score_threshold, as onnxruntime's CPU kernel.
- TopK sorts stably (ties: lower index first), ArgMax/ArgMin take the first index of ties.
- Reductions of float16/bfloat16 values are computed in float32 (ReduceL2 of RTMPose's ScaleNorm
  overflows float16 otherwise) and cast back.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

from ..errors import UnsupportedModelError, WeightsError
from ..weights import check_weights_file, unreadable_weights

__all__ = ["UnsupportedModelError", "OnnxModule", "convert", "save_module", "load_module", "OPS"]

_FORMAT = "dwpose-onnx-torch/1"
_SMALL_INT = 4096  # integer constants up to this size stay on the CPU
_FLOAT_TYPES = {1, 10, 11, 16}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16: all mean "the compute dtype"
_INT_TYPES = {2: torch.uint8, 3: torch.int8, 4: torch.uint16, 5: torch.int16, 6: torch.int32, 7: torch.int64,
              9: torch.bool, 12: torch.uint32, 13: torch.uint64}
_COMPUTE = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
_BACKEND = "use backend='onnxruntime'"


# --------------------------------------------------------------------------------------------------
# Ops: OPS[op_type](module, node, *inputs) -> tensor or tuple; PARAMS[op_type]: inputs read as numbers.

OPS: dict = {}
PARAMS: dict = {}


def _op(*names, params=()):
    def register(fn):
        for name in names:
            OPS[name], PARAMS[name] = fn, frozenset(params)
        return fn
    return register


def _ints(t) -> list:
    return [int(v) for v in t.reshape(-1).tolist()]


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def _torch_pad(pads) -> list:
    """ONNX pads (begin_0, begin_1, ..., end_0, end_1, ...) as F.pad's (begin_last, end_last, ...)."""
    k = len(pads) // 2
    return [p for i in reversed(range(k)) for p in (pads[i], pads[i + k])]


def _unary(fn, doc):
    def op(m, n, x, *ignored):
        return fn(x)
    op.__doc__ = doc
    return op


for _name, _fn in {"Sqrt": torch.sqrt, "Exp": torch.exp, "Log": torch.log, "Neg": torch.neg, "Abs": torch.abs,
                   "Reciprocal": torch.reciprocal, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Erf": torch.erf,
                   "Relu": torch.relu, "Floor": torch.floor, "Ceil": torch.ceil, "Round": torch.round,
                   "Sign": torch.sign, "Not": torch.logical_not, "Identity": lambda x: x,
                   "Dropout": lambda x: x}.items():
    _op(_name)(_unary(_fn, f"{_name}: element-wise (Round: half to even; Dropout: inference identity)."))

for _name, _fn in {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Equal": torch.eq, "Less": torch.lt,
                   "Greater": torch.gt, "LessOrEqual": torch.le, "GreaterOrEqual": torch.ge,
                   "And": torch.logical_and, "Or": torch.logical_or, "Xor": torch.logical_xor}.items():
    _op(_name)((lambda f: lambda m, n, a, b: f(a, b))(_fn))
    OPS[_name].__doc__ = f"{_name}: element-wise with numpy broadcasting (both inputs have one type)."

for _name, _fn in {"Max": torch.maximum, "Min": torch.minimum, "Sum": torch.add}.items():
    _op(_name)((lambda f: lambda m, n, *xs: functools.reduce(f, xs))(_fn))
    OPS[_name].__doc__ = f"{_name}: variadic element-wise with broadcasting."


@_op("Div")
def _div(m, n, a, b):
    """Div: true division for floats; integers truncate toward zero (as ONNX / C)."""
    return a / b if a.is_floating_point() else torch.div(a, b, rounding_mode="trunc")


@_op("Pow")
def _pow(m, n, a, b):
    """Pow-15: the result has the base's type."""
    return torch.pow(a, b).to(a.dtype)


@_op("Mean")
def _mean(m, n, *xs):
    """Mean: variadic element-wise mean."""
    return functools.reduce(torch.add, xs) / len(xs)


@_op("HardSigmoid")
def _hard_sigmoid(m, n, x):
    """HardSigmoid-6: max(0, min(1, alpha * x + beta)), alpha 0.2, beta 0.5."""
    return torch.clamp(x * n.a.get("alpha", 0.2) + n.a.get("beta", 0.5), 0, 1)


@_op("HardSwish")
def _hard_swish(m, n, x):
    """HardSwish-14: x * max(0, min(1, x / 6 + 0.5))."""
    return x * torch.clamp(x * (1 / 6) + 0.5, 0, 1)


@_op("LeakyRelu")
def _leaky_relu(m, n, x):
    """LeakyRelu-16: alpha 0.01."""
    return F.leaky_relu(x, n.a.get("alpha", 0.01))


@_op("PRelu")
def _prelu(m, n, x, slope):
    """PRelu-16: x < 0 ? slope * x : x, slope broadcast."""
    return torch.where(x < 0, x * slope, x)


@_op("Clip")
def _clip(m, n, x, lo=None, hi=None):
    """Clip-6 (min/max attributes) and Clip-11+ (optional min/max inputs)."""
    if "min" in n.a or "max" in n.a:
        lo, hi = n.a.get("min"), n.a.get("max")
    return x if lo is None and hi is None else torch.clamp(x, lo, hi)


def _softmax_like(fn):
    def op(m, n, x):
        if m.opset >= 13:
            return fn(x, dim=n.a.get("axis", -1))
        axis = _axis(n.a.get("axis", 1), x.dim())  # older opsets: over the flattened dims [axis:]
        return fn(x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:])), dim=1).reshape(x.shape)
    op.__doc__ = "Softmax/LogSoftmax-13 (axis -1), older opsets: over the 2-D coercion at axis (default 1)."
    return op


_op("Softmax")(_softmax_like(torch.softmax))
_op("LogSoftmax")(_softmax_like(torch.log_softmax))


@_op("Cast")
def _cast(m, n, x):
    """Cast-13: `to` a float type means the compute dtype; integer casts of floats truncate."""
    to = n.a["to"]
    return x.to(m.dtype if to in _FLOAT_TYPES else _INT_TYPES[to])


@_op("CastLike")
def _cast_like(m, n, x, like):
    """CastLike-15: to the second input's type."""
    return x.to(like.dtype)


@_op("Where")
def _where(m, n, cond, a, b):
    """Where-16: element-wise select with broadcasting."""
    return torch.where(cond, a, b)


# ----- shapes and indexing


@_op("Shape")
def _shape(m, n, x):
    """Shape-15: dims[start:end] (clamped) as int64 on the CPU."""
    return torch.tensor(list(x.shape)[n.a.get("start", 0):n.a.get("end")], dtype=torch.int64)


@_op("Size")
def _size(m, n, x):
    """Size-13: element count, int64 scalar on the CPU."""
    return torch.tensor(x.numel(), dtype=torch.int64)


@_op("Reshape", params=(1,))
def _reshape(m, n, x, shape):
    """Reshape-14: 0 copies the input dim (unless allowzero), -1 is inferred."""
    dims = _ints(shape)
    if not n.a.get("allowzero", 0):
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(dims)


@_op("Flatten")
def _flatten(m, n, x):
    """Flatten-13: 2-D [prod(dims[:axis]), prod(dims[axis:])], axis 1."""
    axis = _axis(n.a.get("axis", 1), x.dim())
    return x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))


@_op("Transpose")
def _transpose(m, n, x):
    """Transpose-13: perm, default reversed dims."""
    return x.permute(n.a.get("perm", list(reversed(range(x.dim())))))


@_op("Squeeze", params=(1,))
def _squeeze(m, n, x, axes=None):
    """Squeeze-1/11 (axes attribute), Squeeze-13 (axes input); no axes: every dim of size 1."""
    axes = _ints(axes) if axes is not None else n.a.get("axes")
    if not axes:
        return x.squeeze()
    return x.squeeze(tuple(_axis(a, x.dim()) for a in axes))


@_op("Unsqueeze", params=(1,))
def _unsqueeze(m, n, x, axes=None):
    """Unsqueeze-1/11 (axes attribute), Unsqueeze-13 (axes input); axes relative to the output rank."""
    axes = _ints(axes) if axes is not None else n.a["axes"]
    rank = x.dim() + len(axes)
    for axis in sorted(_axis(a, rank) for a in axes):
        x = x.unsqueeze(axis)
    return x


@_op("Concat")
def _concat(m, n, *xs):
    """Concat-13: along axis."""
    return torch.cat(xs, dim=n.a["axis"])


@_op("Split", params=(1,))
def _split(m, n, x, split=None):
    """Split-11 (split attribute), Split-13 (split input), Split-18 (num_outputs); else equal parts."""
    axis = _axis(n.a.get("axis", 0), x.dim())
    sizes = _ints(split) if split is not None else n.a.get("split")
    if not sizes:
        dim, parts = x.shape[axis], n.a.get("num_outputs", n.n_out)
        chunk = -(-dim // parts)
        sizes = [chunk] * (parts - 1) + [dim - chunk * (parts - 1)]
    return torch.split(x, sizes, dim=axis)


@_op("Slice", params=(1, 2, 3, 4))
def _slice(m, n, x, starts=None, ends=None, axes=None, steps=None):
    """Slice-1 (attributes) and Slice-10/13 (inputs): bounds clamped as the spec says, negative steps allowed."""
    if starts is None:
        starts, ends, axes, steps = n.a["starts"], n.a["ends"], n.a.get("axes"), None
    else:
        starts, ends = _ints(starts), _ints(ends)
        axes, steps = (_ints(axes) if axes is not None else None), (_ints(steps) if steps is not None else None)
    axes = axes or list(range(len(starts)))
    steps = steps or [1] * len(starts)
    index = [slice(None)] * x.dim()
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = _axis(axis, x.dim())
        dim = x.shape[axis]
        start, end = start + dim if start < 0 else start, end + dim if end < 0 else end
        if step > 0:
            index[axis] = slice(min(max(start, 0), dim), min(max(end, 0), dim), step)
        else:
            start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
            x = x.index_select(axis, torch.arange(start, end, step, device=x.device) if start > end else
                               torch.zeros(0, dtype=torch.int64, device=x.device))
    return x[tuple(index)]


@_op("Gather")
def _gather(m, n, x, idx):
    """Gather-13: along axis (default 0), negative indices count from the end."""
    axis = _axis(n.a.get("axis", 0), x.dim())
    idx = torch.where(idx < 0, idx + x.shape[axis], idx)
    out = x.index_select(axis, idx.reshape(-1))
    return out.reshape((*x.shape[:axis], *idx.shape, *x.shape[axis + 1:]))


@_op("GatherElements")
def _gather_elements(m, n, x, idx):
    """GatherElements-13: torch.gather along axis, negative indices allowed."""
    axis = _axis(n.a.get("axis", 0), x.dim())
    return torch.gather(x, axis, torch.where(idx < 0, idx + x.shape[axis], idx))


@_op("Expand", params=(1,))
def _expand(m, n, x, shape):
    """Expand-13: bidirectional broadcast of x and shape."""
    return x.expand(torch.broadcast_shapes(tuple(x.shape), tuple(_ints(shape))))


@_op("Tile", params=(1,))
def _tile(m, n, x, repeats):
    """Tile-13: repeats per dim."""
    return x.repeat(_ints(repeats))


@_op("Range", params=(0, 1, 2))
def _range(m, n, start, limit, delta):
    """Range-11: start + i * delta for i < max(ceil((limit - start) / delta), 0), on the CPU."""
    if not start.is_floating_point():
        s, d = int(start), int(delta)
        return s + torch.arange(max(-((s - int(limit)) // d), 0), dtype=start.dtype) * d
    s, d = np.float32(start.item()), np.float32(delta.item())
    count = max(math.ceil(float(np.float32(limit.item()) - s) / float(d)), 0)
    return (torch.arange(count, dtype=torch.float32) * float(d) + float(s)).to(m.dtype)


@_op("ConstantOfShape", params=(0,))
def _constant_of_shape(m, n, shape):
    """ConstantOfShape-9: `value` (default float 0) filled, on the CPU."""
    value = n.a.get("value")
    if value is None:
        return torch.zeros(_ints(shape), dtype=m.dtype)
    dtype = m.dtype if value.is_floating_point() else value.dtype
    return torch.full(_ints(shape), value.reshape(-1)[0].item(), dtype=dtype)


@_op("Pad", params=(1, 2, 3))
def _pad(m, n, x, pads=None, value=None, axes=None):
    """Pad-2 (attributes) and Pad-11/18 (inputs): constant (negative pads crop), reflect and edge."""
    pads = _ints(pads) if pads is not None else list(n.a["pads"])
    if axes is not None:
        axes, full = [_axis(a, x.dim()) for a in _ints(axes)], [0] * (2 * x.dim())
        for i, axis in enumerate(axes):
            full[axis], full[axis + x.dim()] = pads[i], pads[i + len(axes)]
        pads = full
    mode = n.a.get("mode", "constant")
    if mode == "constant":
        fill = n.a.get("value", 0.0) if value is None or value.numel() == 0 else value.item()
        return F.pad(x, _torch_pad(pads), value=fill)
    rank = x.dim()
    first = next((i for i in range(rank) if pads[i] or pads[i + rank]), rank)
    trailing = pads[first:rank] + pads[rank + first:]
    return F.pad(x, _torch_pad(trailing), mode={"reflect": "reflect", "edge": "replicate"}[mode])


# ----- reductions, arg/top-k, matrix products


def _reduce(fn, doc):
    def op(m, n, x, axes=None):
        dims = _ints(axes) if axes is not None else list(n.a.get("axes", []))
        if not dims:
            if n.a.get("noop_with_empty_axes", 0):
                return x
            dims = list(range(x.dim()))
        wide = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x  # sums of squares overflow float16
        return fn(wide, [_axis(d, x.dim()) for d in dims], bool(n.a.get("keepdims", 1))).to(x.dtype)
    op.__doc__ = doc
    return op


def _prod(x, dims, keep):
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, d, keepdim=keep)
    return x


for _name, _fn in {
        "ReduceMax": lambda x, d, k: torch.amax(x, d, k), "ReduceMin": lambda x, d, k: torch.amin(x, d, k),
        "ReduceMean": lambda x, d, k: torch.mean(x, d, k), "ReduceSum": lambda x, d, k: torch.sum(x, d, k),
        "ReduceProd": _prod, "ReduceL1": lambda x, d, k: torch.sum(x.abs(), d, k),
        "ReduceL2": lambda x, d, k: torch.sqrt(torch.sum(x * x, d, k)),
        "ReduceSumSquare": lambda x, d, k: torch.sum(x * x, d, k),
        "ReduceLogSumExp": lambda x, d, k: torch.logsumexp(x, d, k)}.items():
    _op(_name, params=(1,))(_reduce(_fn, f"{_name}-13/18: axes attribute or input (none: all, unless "
                                    "noop_with_empty_axes), keepdims 1."))


def _arg(fn):
    def op(m, n, x):
        axis, keep = _axis(n.a.get("axis", 0), x.dim()), bool(n.a.get("keepdims", 1))
        if n.a.get("select_last_index", 0):
            return x.shape[axis] - 1 - fn(x.flip(axis), axis, keep)
        return fn(x, axis, keep)
    op.__doc__ = "ArgMax/ArgMin-13: axis 0, keepdims 1, first index of ties unless select_last_index."
    return op


_op("ArgMax")(_arg(torch.argmax))
_op("ArgMin")(_arg(torch.argmin))


@_op("TopK", params=(1,))
def _topk(m, n, x, k=None):
    """TopK-11: axis -1, largest 1; ties keep the lower index first (as onnxruntime), always sorted."""
    k = _ints(k)[0] if k is not None else n.a["k"]
    axis = n.a.get("axis", -1)
    values, indices = torch.sort(x, dim=axis, descending=bool(n.a.get("largest", 1)), stable=True)
    return values.narrow(axis, 0, k), indices.narrow(axis, 0, k)


@_op("MatMul")
def _matmul(m, n, a, b):
    """MatMul-13: numpy matmul."""
    return torch.matmul(a, b)


@_op("Gemm")
def _gemm(m, n, a, b, c=None):
    """Gemm-13: alpha * A' B' + beta * C, alpha = beta = 1, transA/transB 0."""
    a = a.t() if n.a.get("transA", 0) else a
    b = b.t() if n.a.get("transB", 0) else b
    y = a @ b
    alpha, beta = n.a.get("alpha", 1.0), n.a.get("beta", 1.0)
    y = y if alpha == 1 else y * alpha
    return y if c is None else y + (c if beta == 1 else c * beta)


@_op("Einsum")
def _einsum(m, n, *xs):
    """Einsum-12: numpy-style equation."""
    return torch.einsum(n.a["equation"], *xs)


# ----- convolution, pooling, normalisation


def _auto_pads(a, spatial, kernel, strides, dilations) -> list:
    """ONNX pads for auto_pad NOTSET (the pads attribute), VALID, SAME_UPPER or SAME_LOWER."""
    auto, k = a.get("auto_pad", "NOTSET"), len(kernel)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        totals = [max(0, (-(-size // s) - 1) * s + (kk - 1) * d + 1 - size)
                  for size, kk, s, d in zip(spatial, kernel, strides, dilations)]
        begins = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in totals]
        return begins + [t - b for t, b in zip(totals, begins)]
    return [0] * (2 * k) if auto == "VALID" else list(a.get("pads", [0] * (2 * k)))


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


@_op("Conv")
def _conv(m, n, x, w, b=None):
    """Conv-11: group, dilations, strides, pads or auto_pad; asymmetric pads through F.pad."""
    k = w.dim() - 2
    strides, dilations = n.a.get("strides", [1] * k), n.a.get("dilations", [1] * k)
    pads = _auto_pads(n.a, x.shape[2:], w.shape[2:], strides, dilations)
    if pads[:k] != pads[k:]:
        x, pads = F.pad(x, _torch_pad(pads)), [0] * (2 * k)
    return _CONV[k](x, w, b, strides, pads[:k], dilations, n.a.get("group", 1))


@_op("ConvTranspose")
def _conv_transpose(m, n, x, w, b=None):
    """ConvTranspose-11: pads, output_padding, output_shape or auto_pad, as a crop of the unpadded result."""
    k = w.dim() - 2
    strides, dilations = n.a.get("strides", [1] * k), n.a.get("dilations", [1] * k)
    extra, auto = n.a.get("output_padding", [0] * k), n.a.get("auto_pad", "NOTSET")
    full = [(i - 1) * s + (kk - 1) * d + 1 for i, s, kk, d in zip(x.shape[2:], strides, w.shape[2:], dilations)]
    target = n.a.get("output_shape")
    if target is None and auto in ("SAME_UPPER", "SAME_LOWER"):
        target = [i * s for i, s in zip(x.shape[2:], strides)]
    if target is not None:
        totals = [f + e - t for f, e, t in zip(full, extra, list(target)[-k:])]
        begins = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in totals]
        pads = begins + [t - bb for t, bb in zip(totals, begins)]
    else:
        pads = [0] * (2 * k) if auto == "VALID" else list(n.a.get("pads", [0] * (2 * k)))
    y = _CONV_T[k](x, w, None, strides, 0, 0, n.a.get("group", 1), dilations)
    y = F.pad(y, _torch_pad([-p for p in pads[:k]] + [e - p for e, p in zip(extra, pads[k:])]))
    return y if b is None else y + b.reshape(-1, *[1] * k)


def _pool_args(n, x):
    kernel = n.a["kernel_shape"]
    k = len(kernel)
    strides, dilations = n.a.get("strides", [1] * k), n.a.get("dilations", [1] * k)
    return kernel, strides, dilations, _auto_pads(n.a, x.shape[2:], kernel, strides, dilations), \
        bool(n.a.get("ceil_mode", 0))


@_op("MaxPool")
def _max_pool(m, n, x):
    """MaxPool-12: kernel_shape, strides, pads / auto_pad, dilations, ceil_mode; other pads through F.pad."""
    kernel, strides, dilations, pads, ceil = _pool_args(n, x)
    k = len(kernel)
    if pads[:k] != pads[k:] or any(p > ((kk - 1) * d + 1) // 2 for p, kk, d in zip(pads, kernel, dilations)):
        low = float("-inf") if x.is_floating_point() else torch.iinfo(x.dtype).min
        x, pads = F.pad(x, _torch_pad(pads), value=low), [0] * (2 * k)
    return _MAXPOOL[k](x, kernel, strides, pads[:k], dilations, ceil_mode=ceil)


@_op("AveragePool")
def _average_pool(m, n, x):
    """AveragePool-11: count_include_pad 0 (padding not counted); asymmetric pads through F.pad."""
    kernel, strides, _, pads, ceil = _pool_args(n, x)
    k, include = len(kernel), bool(n.a.get("count_include_pad", 0))
    pool = functools.partial(_AVGPOOL[k], kernel_size=kernel, stride=strides, ceil_mode=ceil)
    if pads[:k] == pads[k:] and all(p <= kk // 2 for p, kk in zip(pads, kernel)):
        return pool(x, padding=pads[:k], count_include_pad=include)
    y = pool(F.pad(x, _torch_pad(pads)), padding=0, count_include_pad=True)
    if include:
        return y
    return y / pool(F.pad(torch.ones_like(x[:1, :1]), _torch_pad(pads)), padding=0, count_include_pad=True)


@_op("GlobalAveragePool")
def _global_average_pool(m, n, x):
    """GlobalAveragePool-1: mean over the spatial dims, kept."""
    return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


@_op("GlobalMaxPool")
def _global_max_pool(m, n, x):
    """GlobalMaxPool-1: max over the spatial dims, kept."""
    return x.amax(dim=tuple(range(2, x.dim())), keepdim=True)


@_op("BatchNormalization")
def _batch_norm(m, n, x, scale, bias, mean, var):
    """BatchNormalization-15, inference: (x - mean) / sqrt(var + epsilon) * scale + B, epsilon 1e-5."""
    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, n.a.get("epsilon", 1e-5))


@_op("InstanceNormalization")
def _instance_norm(m, n, x, scale, bias):
    """InstanceNormalization-6: per sample and channel over the spatial dims, epsilon 1e-5."""
    return F.instance_norm(x, weight=scale, bias=bias, eps=n.a.get("epsilon", 1e-5))


@_op("LayerNormalization")
def _layer_norm(m, n, x, scale, bias=None):
    """LayerNormalization-17: over dims [axis:] (axis -1), epsilon 1e-5, Scale and B broadcast."""
    shape = x.shape[_axis(n.a.get("axis", -1), x.dim()):]
    bias = None if bias is None else bias.expand(shape)
    return F.layer_norm(x, shape, scale.expand(shape), bias, n.a.get("epsilon", 1e-5))


# ----- resize


def _source_coords(size_in, size_out, scale, ctm, device):
    """Resize-13's coordinate_transformation_mode: the input coordinate of each output index (float32)."""
    x = torch.arange(size_out, dtype=torch.float32, device=device)
    if ctm == "asymmetric":
        return x / scale
    if ctm == "align_corners":
        return x * (size_in - 1) / (size_out - 1) if size_out > 1 else x * 0
    if ctm == "pytorch_half_pixel" and size_out == 1:
        return x * 0
    if ctm == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    return (x + 0.5) / scale - 0.5  # half_pixel, pytorch_half_pixel


def _nearest_index(c, mode, scale):
    """Resize-13's nearest_mode (and "simple", onnxruntime's rule for Upsample / Resize-10)."""
    floor = c.floor()
    if mode == "floor" or (mode == "simple" and scale >= 1):
        return floor
    if mode in ("ceil", "simple"):
        return c.ceil()
    half = c == floor + 0.5
    return torch.where(half, floor if mode == "round_prefer_floor" else floor + 1, c.round())


@_op("Resize", "Upsample", params=(1, 2, 3))
def _resize(m, n, x, *rest):
    """Resize-10/11/13 and Upsample-7/9: nearest and linear (separable, exact index maths), no cubic."""
    mode = {"bilinear": "linear", "trilinear": "linear"}.get(n.a.get("mode", "nearest"), n.a.get("mode", "nearest"))
    if n.op == "Upsample" or m.opset < 11:
        scales, sizes, ctm, nearest = (rest[0] if rest else None), None, "asymmetric", "simple"
        scales = [float(s) for s in (scales.reshape(-1).tolist() if scales is not None else n.a["scales"])]
    else:
        scales, sizes = (rest[1:2] or [None])[0], (rest[2:3] or [None])[0]
        ctm = n.a.get("coordinate_transformation_mode", "half_pixel")
        nearest = n.a.get("nearest_mode", "round_prefer_floor")
        scales = None if scales is None or scales.numel() == 0 else [float(s) for s in scales.reshape(-1).tolist()]
    if sizes is not None and sizes.numel() and scales is None:
        out = _ints(sizes)
        scales = [float(np.float32(o) / np.float32(i)) if i else 1.0 for o, i in zip(out, x.shape)]
    else:
        out = [int(np.float32(s) * np.float32(i)) for s, i in zip(scales, x.shape)]
    if (mode == "nearest" and ctm == "asymmetric" and nearest in ("floor", "simple") and x.dim() > 2
            and scales[:2] == [1.0, 1.0] and all(s >= 1 and math.log2(s).is_integer() for s in scales[2:])):
        return F.interpolate(x, scale_factor=tuple(scales[2:]), mode="nearest")  # exact for powers of two
    for axis, (size_in, size_out, scale) in enumerate(zip(x.shape, out, scales)):
        if size_in == size_out and scale == 1:  # onnxruntime leaves such axes alone in every mode
            continue
        c = _source_coords(size_in, size_out, scale, ctm, x.device)
        if mode == "nearest":
            x = x.index_select(axis, _nearest_index(c, nearest, scale).clamp(0, size_in - 1).long())
            continue
        c = c.clamp(0, size_in - 1)
        low = c.floor()
        shape = [1] * x.dim()
        shape[axis] = -1
        w = (c - low).to(x.dtype).view(shape)
        low = low.long()
        x = x.index_select(axis, low) * (1 - w) + x.index_select(axis, (low + 1).clamp(max=size_in - 1)) * w
    return x


# ----- non-maximum suppression


def _greedy(lo, hi, area, iou, max_out) -> list:
    """Indices kept by greedy suppression of boxes sorted by score (float32 numpy arrays [n, 2], [n]), one
    kept box's IoU row at a time, in onnxruntime's float32 arithmetic: no suppression for an empty
    intersection or a box of zero area, else IoU > iou suppresses."""
    alive, kept, i = np.ones(len(area), dtype=bool), [], 0
    while len(kept) < max_out and i < len(area):
        i += int(alive[i:].argmax())
        if not alive[i]:
            break
        kept.append(i)
        wh = np.minimum(hi[i], hi[i + 1:]) - np.maximum(lo[i], lo[i + 1:])
        inter = wh[:, 0] * wh[:, 1]
        union = area[i] + area[i + 1:] - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            overlap = (wh > 0).all(1) & (inter > 0) & (area[i] > 0) & (area[i + 1:] > 0) & (union > 0)
            alive[i + 1:] &= ~(overlap & (inter / union > iou))
        i += 1
    return kept


@_op("NonMaxSuppression", params=(2, 3, 4))
def _nms(m, n, boxes, scores, max_out=None, iou=None, score_threshold=None):
    """NonMaxSuppression-11 as onnxruntime: per batch, per class, greedy by descending score (ties: lower box
    first); a box is dropped when IoU > iou_threshold, kept only when score > score_threshold; int64 [M, 3]."""
    max_out = max(_ints(max_out)[0], 0) if max_out is not None and max_out.numel() else 0
    iou = float(iou.reshape(-1)[0]) if iou is not None and iou.numel() else 0.0
    boxes, scores = boxes.to("cpu", torch.float32), scores.to("cpu", torch.float32)
    if n.a.get("center_point_box", 0):
        half = boxes[..., 2:] / 2
        low, high = boxes[..., :2] - half, boxes[..., :2] + half
    else:
        low, high = torch.minimum(boxes[..., :2], boxes[..., 2:]), torch.maximum(boxes[..., :2], boxes[..., 2:])
    areas = (high - low).prod(-1)
    selected = []
    for b in range(scores.shape[0] if max_out else 0):
        for c in range(scores.shape[1]):
            s = scores[b, c]
            order = torch.arange(len(s)) if score_threshold is None else \
                torch.nonzero(s > float(score_threshold.reshape(-1)[0])).reshape(-1)
            order = order[torch.argsort(s[order], descending=True, stable=True)]
            kept = _greedy(low[b, order].numpy(), high[b, order].numpy(), areas[b, order].numpy(), iou, max_out)
            selected += [(b, c, box) for box in order[kept].tolist()]
    return torch.tensor(selected, dtype=torch.int64).reshape(-1, 3)


# --------------------------------------------------------------------------------------------------
# Checks at convert time of attributes the ops above do not implement: op -> fn(attrs, outputs, opset) -> problem


def _resize_problem(a, n_out, opset):
    mode = a.get("mode", "nearest")
    ctm = a.get("coordinate_transformation_mode", "half_pixel")
    for name, value, known in (
            ("mode", mode, ("nearest", "linear", "bilinear")),
            ("coordinate_transformation_mode", ctm, ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                                     *(("tf_half_pixel_for_nn",) if opset < 13 else ()))),
            ("nearest_mode", a.get("nearest_mode", "round_prefer_floor"),
             ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")),
            ("antialias", a.get("antialias", 0), (0,)),
            ("keep_aspect_ratio_policy", a.get("keep_aspect_ratio_policy", "stretch"), ("stretch",))):
        if value not in known:
            return f"{name}={value!r}"
    return "axes" if "axes" in a else None


_CHECKS = {
    "Resize": _resize_problem, "Upsample": _resize_problem,
    "MaxPool": lambda a, n_out, opset: "the Indices output" if n_out > 1 else None,
    "AveragePool": lambda a, n_out, opset: "dilations" if any(d != 1 for d in a.get("dilations", [])) else None,
    "BatchNormalization": lambda a, n_out, opset: "training_mode=1" if a.get("training_mode", 0) or n_out > 1 else None,
    "LayerNormalization": lambda a, n_out, opset: "the Mean/InvStdDev outputs" if n_out > 1 else None,
    "Dropout": lambda a, n_out, opset: "the mask output" if n_out > 1 else None,
    "Cast": lambda a, n_out, opset: None if a.get("to") in _FLOAT_TYPES | set(_INT_TYPES) else f"to={a.get('to')}",
    "Pad": lambda a, n_out, opset: None if a.get("mode", "constant") in ("constant", "reflect", "edge") else
    f"mode={a.get('mode')!r}",
}


# --------------------------------------------------------------------------------------------------
# The module


class _Node:
    __slots__ = ("op", "name", "a", "n_out")

    def __init__(self, op, name, a, n_out):
        self.op, self.name, self.a, self.n_out = op, name, a, n_out


class OnnxModule(torch.nn.Module):
    """An ONNX graph as a torch module: forward(*inputs) -> all outputs, in graph order."""

    def __init__(self, graph: dict, tensors: dict):
        super().__init__()
        self._graph = graph
        self.what, self.opset = graph["what"], graph["opset"]
        self.input_names, self.output_names = list(graph["inputs"]), list(graph["outputs"])
        self.input_shapes, self.output_shapes = list(graph["input_shapes"]), list(graph["output_shapes"])
        # Element types as the ONNX graph declares them, in onnxruntime's spelling ("tensor(float)", None: unknown).
        self.input_types = list(graph.get("input_types", [None] * len(self.input_names)))
        self.output_types = list(graph.get("output_types", [None] * len(self.output_names)))
        self._dtype = _COMPUTE[graph["dtype"]]
        self._cpu = {name: tensors[name] for name in graph["cpu"]}
        self._keys = {}
        for i, name in enumerate(graph["buffers"]):
            self._keys[name] = f"c{i}"
            self.register_buffer(f"c{i}", tensors[name], persistent=True)
        nodes = graph["nodes"]
        self._runtime = runtime = set(self.input_names) | {o for node in nodes for o in node["outputs"] if o}
        last = {name: len(nodes) for name in self.output_names}
        for i, node in enumerate(nodes):
            for name in node["inputs"]:
                if name in runtime and last.get(name, -1) < len(nodes):
                    last[name] = i
        self._steps = []
        for i, node in enumerate(nodes):
            params = PARAMS[node["op"]]
            sources = [self._source(name, j in params, node) for j, name in enumerate(node["inputs"])]
            data = [j not in params for j in range(len(sources))]
            free = [name for name in {*node["inputs"], *node["outputs"]} if name in runtime and last.get(name, i) == i]
            outputs = list(node["outputs"])
            n = _Node(node["op"], node["name"], node["attrs"], sum(1 for o in outputs if o))
            self._steps.append((OPS[node["op"]], n, sources, data, outputs, free))
        self._outputs = [self._source(name, False, None) for name in self.output_names]

    def _source(self, name, param, node):
        """Where an input comes from: (0, None) absent, (1, name) a value, (2, key) a buffer, (3, name) a CPU copy."""
        if not name:
            return 0, None
        if name in self._runtime:
            return 1, name
        if name in self._keys and not (param and name in self._cpu):
            return 2, self._keys[name]
        if name in self._cpu:
            return 3, name
        where = f"node {node['name']!r} ({node['op']})" if node else "the graph's outputs"
        raise WeightsError(f"{self.what}: {where} reads {name!r}, which no input, initializer or earlier node defines")

    @property
    def dtype(self) -> torch.dtype:
        """The float compute dtype."""
        return self._dtype

    def compute(self, dtype: torch.dtype) -> "OnnxModule":
        """Set the float compute dtype (float32, float16 or bfloat16): float buffers are cast. Returns self.
        (Casting back to float32 later does not restore precision lost in float16 / bfloat16.)"""
        if dtype not in _COMPUTE.values():
            raise ValueError(f"compute dtype must be torch.float32, torch.float16 or torch.bfloat16, not {dtype}")
        for key, buffer in self._buffers.items():
            if buffer.is_floating_point():
                self._buffers[key] = buffer.to(dtype)
        self._dtype = dtype
        return self

    def _fetch(self, env, source):
        kind, key = source
        return None if kind == 0 else env[key] if kind == 1 else self._buffers[key] if kind == 2 else self._cpu[key]

    def forward(self, *inputs: torch.Tensor) -> tuple:
        if len(inputs) != len(self.input_names):
            raise TypeError(f"{self.what} takes {len(self.input_names)} inputs {self.input_names}, got {len(inputs)}")
        env = {name: x.to(self._dtype) if x.is_floating_point() else x for name, x in zip(self.input_names, inputs)}
        for fn, node, sources, data, outputs, free in self._steps:
            args = [self._fetch(env, source) for source in sources]
            device = next((a.device for a, d in zip(args, data) if d and a is not None and a.device.type != "cpu"),
                          None)
            for j, (a, d) in enumerate(zip(args, data)):
                if d and a is not None:
                    if device is not None and a.device.type == "cpu":
                        a = args[j] = a.to(device)
                    if a.is_floating_point() and a.dtype != self._dtype:
                        args[j] = a.to(self._dtype)
            try:
                result = fn(self, node, *args)
            except (UnsupportedModelError, torch.cuda.OutOfMemoryError, MemoryError):
                raise
            except Exception as err:
                raise RuntimeError(f"{self.what}: node {node.name!r} ({node.op}) failed: {err}") from err
            for name, value in zip(outputs, (result,) if isinstance(result, torch.Tensor) else result):
                if name:
                    env[name] = value
            for name in free:
                env.pop(name, None)
        return tuple(self._fetch(env, source) for source in self._outputs)


# --------------------------------------------------------------------------------------------------
# Conversion and the disk cache


def _to_torch(proto: onnx.TensorProto) -> torch.Tensor:
    array = numpy_helper.to_array(proto)
    if proto.data_type in _FLOAT_TYPES:
        array = array.astype(np.float32)
    return torch.from_numpy(np.array(array, copy=True))


def _attr(attr, node, what):
    if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        raise UnsupportedModelError(f"{what}: node {node.name!r} ({node.op_type}) has a subgraph, which the torch "
                                    f"backend does not support; {_BACKEND}")
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, onnx.TensorProto):
        return _to_torch(value)
    if isinstance(value, list):
        return [v.decode() if isinstance(v, bytes) else v for v in value]
    return value


def _constant_value(a):
    for key, dtype in (("value_float", torch.float32), ("value_floats", torch.float32), ("value_int", torch.int64),
                       ("value_ints", torch.int64)):
        if key in a:
            return torch.tensor(a[key], dtype=dtype)
    return a.get("value")


def _type(value_info):
    elem = value_info.type.tensor_type.elem_type
    return f"tensor({onnx.TensorProto.DataType.Name(elem).lower()})" if elem else None


def _dims(value_info):
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor_type.shape.dim]


def convert(model, what: str = "model") -> OnnxModule:
    """An ONNX file (or ModelProto) as an OnnxModule on the CPU in float32; every op is checked first
    (UnsupportedModelError names them all and `what`), an unreadable file raises WeightsError."""
    if isinstance(model, onnx.ModelProto):
        proto = model
    else:
        path = Path(model)
        check_weights_file(path, what)
        try:
            proto = onnx.load(str(path))
        except Exception as err:
            raise unreadable_weights(path, what, err) from err
    graph = proto.graph
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 1)
    unknown, problems = {}, []
    for node in graph.node:
        label = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        if label not in OPS and label != "Constant":
            unknown.setdefault(label, []).append(node.name or "(unnamed)")
    if unknown:
        nodes = "; ".join(f"{op}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
                          for op, names in sorted(unknown.items()))
        raise UnsupportedModelError(f"{what} uses ONNX op(s) {', '.join(sorted(unknown))} that the torch backend "
                                    f"does not support (nodes {nodes}); {_BACKEND}")
    consts = {init.name: _to_torch(init) for init in graph.initializer}
    nodes = []
    for node in graph.node:
        attrs = {a.name: _attr(a, node, what) for a in node.attribute}
        n_out = sum(1 for o in node.output if o)
        problem = _CHECKS.get(node.op_type, lambda *args: None)(attrs, n_out, opset)
        if node.op_type == "Constant":
            value = _constant_value(attrs)
            if value is None:
                problem = "a sparse or string value"
            else:
                consts[node.output[0]] = value.to(torch.float32) if value.is_floating_point() else value
                continue
        if problem:
            problems.append(f"node {node.name!r} ({node.op_type}) has {problem}")
        nodes.append({"op": node.op_type, "name": node.name, "inputs": list(node.input), "outputs": list(node.output),
                      "attrs": attrs})
    if problems:
        raise UnsupportedModelError(f"{what}: {'; '.join(problems)}, which the torch backend does not support; "
                                    f"{_BACKEND}")
    inputs = [vi for vi in graph.input if vi.name not in consts]
    outputs = [vi.name for vi in graph.output]
    data_use, param_use = set(outputs), set()
    for node in nodes:
        for j, name in enumerate(node["inputs"]):
            (param_use if j in PARAMS[node["op"]] else data_use).add(name)
    buffers, cpu = [], []
    for name, tensor in consts.items():
        big = tensor.is_floating_point() or tensor.numel() > _SMALL_INT
        if name in data_use and big:
            buffers.append(name)
        if (name in param_use or (name in data_use and not big)) and name not in cpu:
            cpu.append(name)
    tensors = {name: consts[name] for name in buffers}
    tensors.update({name: consts[name].to(torch.float32) if consts[name].is_floating_point() else consts[name]
                    for name in cpu})
    description = {"what": what, "opset": opset, "dtype": "float32", "nodes": nodes, "buffers": buffers, "cpu": cpu,
                   "inputs": [vi.name for vi in inputs], "outputs": outputs,
                   "input_shapes": [_dims(vi) for vi in inputs], "output_shapes": [_dims(vi) for vi in graph.output],
                   "input_types": [_type(vi) for vi in inputs], "output_types": [_type(vi) for vi in graph.output]}
    return OnnxModule(description, tensors)


def save_module(module: OnnxModule, path) -> None:
    """Write the converted module (graph description as plain lists/dicts, and its tensors) with torch.save,
    atomically; load_module reads it back with torch.load(weights_only=True)."""
    path = Path(path)
    tensors = {name: module._buffers[key].detach().cpu() for name, key in module._keys.items()}
    tensors.update(module._cpu)
    graph = dict(module._graph, dtype=str(module.dtype).replace("torch.", ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{id(module)}.tmp")
    try:
        torch.save({"format": _FORMAT, "graph": graph, "tensors": tensors}, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_module(path) -> OnnxModule:
    """A module written by save_module, on the CPU in the compute dtype it was saved with. A missing file raises
    FileNotFoundError; a truncated, corrupt or foreign one raises WeightsError (delete it and convert again)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise WeightsError(f"{os.fspath(path)}: the torch-backend cache file cannot be read ({first}); it is probably "
                           "truncated or corrupt: delete it and it is converted again from the ONNX file") from err
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise WeightsError(f"{os.fspath(path)} is not a torch-backend cache file ({_FORMAT}); delete it")
    return OnnxModule(payload["graph"], payload["tensors"])
