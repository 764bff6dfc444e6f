"""Copies of a model with its graph edited, made once and kept in the cache: a dynamic batch, float16."""

from __future__ import annotations

import os
from pathlib import Path

from ..optional import importable
from ..weights import unreadable_weights
from .cache import cache_file, recall, remember, write_atomically


def dynamic_batch_copy(path) -> Path | None:
    """The model with its batch dimension made dynamic, or None if its batch is dynamic already, it
    cannot be edited, its tensors are in external data files (a copy in the cache would lose them or, past
    2 GB, fail to serialise), or the onnx package is missing."""
    if not importable("onnx"):
        return None
    import onnx
    from onnx import numpy_helper
    from onnx.external_data_helper import uses_external_data
    target = cache_file(path, "dynamic-batch")
    not_needed = target.with_suffix(".not-needed")  # saves reading the model again in the next process
    if target.exists():
        return target
    if recall(not_needed) is not None:
        return None
    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except Exception:
        return None
    graph = model.graph
    tensors = [*graph.initializer, *(attribute.t for node in graph.node for attribute in node.attribute)]
    if any(uses_external_data(tensor) for tensor in tensors):
        remember(not_needed, "")
        return None
    first_dims = [value.type.tensor_type.shape.dim[0] for value in [*graph.input, *graph.output]
                  if len(value.type.tensor_type.shape.dim) > 0]
    if not first_dims or any(dim.dim_value != 1 for dim in first_dims):
        remember(not_needed, "")
        return None
    for dim in first_dims:
        dim.dim_param = "batch"  # replaces dim_value (a oneof)
    del graph.value_info[:]  # intermediate shapes recorded with batch 1
    # Reshape targets written as constants with a leading 1 get 0 instead: "keep the input's batch".
    constants = {tensor.name: tensor for tensor in graph.initializer}
    constants.update({node.output[0]: node.attribute[0].t for node in graph.node
                      if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value"})
    for node in graph.node:
        if node.op_type == "Reshape" and node.input[1] in constants:
            shape = numpy_helper.to_array(constants[node.input[1]])
            if shape.ndim == 1 and len(shape) > 1 and shape[0] == 1:
                shape = shape.copy()
                shape[0] = 0
                name = f"{node.input[1]}__batch_kept"
                graph.initializer.append(numpy_helper.from_array(shape, name))
                node.input[1] = name
    try:
        write_atomically(target, model.SerializeToString())
    except OSError:
        return None
    return target


def float16_copy(path, what: str) -> Path:
    """The model in float16 with float32 inputs and outputs (raises WeightsError if it cannot be read)."""
    target = cache_file(path, "fp16")
    if not target.exists():
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        try:
            model = convert_float_to_float16(onnx.load(os.fspath(path)), keep_io_types=True)
        except Exception as err:  # onnx raises DecodeError and friends
            raise unreadable_weights(path, what, err) from err
        write_atomically(target, model.SerializeToString())
    return target
