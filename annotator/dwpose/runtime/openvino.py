"""OpenVINO's CPU runtime behind the ModelSession interface (runtime/protocol.py) that the models use.

Used for precision="bf16": OpenVINO runs convolutions and matrix products in bfloat16 on CPUs with
AMX or AVX512-BF16, several times faster than fp32. It is an optional extra:
`pip install "dwpose-annotator[openvino]"`.
"""

from __future__ import annotations

import functools
import os
import threading

import numpy as np

from .protocol import PortInfo


@functools.lru_cache(maxsize=None)  # the CPU does not change; asking makes an OpenVINO Core each time
def cpu_supports_bf16() -> bool:
    """Whether OpenVINO's CPU plugin has native bf16 kernels here (AMX or AVX512-BF16)."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _info(port) -> PortInfo:
    """onnxruntime's description of an OpenVINO port: dynamic dimensions named, type as 'tensor(int64)'."""
    type_name = {"f32": "float", "f16": "float16", "i64": "int64", "i32": "int32", "u8": "uint8"}.get(
        port.get_element_type().get_type_name(), port.get_element_type().get_type_name())
    return PortInfo(port.any_name, _shape(port.get_partial_shape()), f"tensor({type_name})")


def _shape(partial_shape) -> list:
    return [dim.get_length() if dim.is_static else f"dim{i}" for i, dim in enumerate(partial_shape)]


class OpenVINOSession:
    """An ONNX file compiled by OpenVINO for the CPU; `run` has onnxruntime's signature.

    A model with a dynamic batch is compiled for fixed batch sizes (1, 2, 4, 8, 16, on first use; the
    batch is zero-padded up to the next one): OpenVINO runs fixed shapes markedly faster.
    """

    BATCH_SIZES = (1, 2, 4, 8, 16)

    def __init__(self, path: str | os.PathLike, precision: str = "bf16", cache_dir: str | os.PathLike | None = None):
        import openvino as ov

        self.core = ov.Core()
        if cache_dir is not None:
            self.core.set_property({"CACHE_DIR": os.fspath(cache_dir)})  # compiled blobs: later processes start fast
        self.config = {"INFERENCE_PRECISION_HINT": {"bf16": "bf16", "fp32": "f32"}[precision],
                       "PERFORMANCE_HINT": "LATENCY"}
        self.precision = precision
        self.model = self.core.read_model(os.fspath(path))
        self._inputs = [_info(port) for port in self.model.inputs]
        self._outputs = [_info(port) for port in self.model.outputs]
        shape = self._inputs[0].shape
        self.dynamic_batch = (len(self._inputs) == 1 and len(shape) > 1 and isinstance(shape[0], str)
                              and all(isinstance(side, int) for side in shape[1:]))
        self._requests = {}  # batch size (None: the model as it is) -> infer request
        self._lock = threading.Lock()  # an infer request is not thread-safe: runs take turns
        if not self.dynamic_batch:
            self._request(None)  # compile now, so a bad file fails here

    def _request(self, batch):
        if batch not in self._requests:
            model = self.model
            if batch is not None:
                model = self.model.clone()
                model.reshape({self._inputs[0].name: [batch, *self._inputs[0].shape[1:]]})
            self._requests[batch] = self.core.compile_model(model, "CPU", self.config).create_infer_request()
        return self._requests[batch]

    def get_inputs(self) -> list[PortInfo]:
        return list(self._inputs)

    def get_outputs(self) -> list[PortInfo]:
        return list(self._outputs)

    def get_providers(self) -> list[str]:
        return [f"OpenVINO CPU ({self.precision})"]

    def run(self, output_names, input_feed: dict) -> list:
        names = output_names or [info.name for info in self._outputs]
        count, batch = None, None
        if self.dynamic_batch:
            (input_name, array), = input_feed.items()
            count = len(array)
            batch = next((size for size in self.BATCH_SIZES if size >= count), count)
            if batch > count:
                padding = np.zeros((batch - count, *array.shape[1:]), dtype=array.dtype)
                input_feed = {input_name: np.concatenate([array, padding])}
        with self._lock:
            results = self._request(batch).infer(input_feed)
            by_name = {port.any_name: value for port, value in results.items()}
            return [by_name[name][:count].copy() for name in names]
