"""OpenVINO's CPU runtime behind the part of onnxruntime's InferenceSession the models use (fast mode).

Used for precision="bf16": OpenVINO runs convolutions and matrix products in bfloat16 on CPUs with
AMX or AVX512-BF16, several times faster than fp32. It is an optional extra:
`pip install "dwpose-annotator[openvino]"`.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class TensorInfo:
    """Like onnxruntime.NodeArg: a name, a shape (ints, or a str for a dynamic dimension), a type."""

    name: str
    shape: list
    type: str = "tensor(float)"


def openvino_available() -> bool:
    return importlib.util.find_spec("openvino") is not None


def cpu_supports_bf16() -> bool:
    """Whether OpenVINO's CPU plugin has native bf16 kernels here (AMX or AVX512-BF16)."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _shape(partial_shape) -> list:
    return [dim.get_length() if dim.is_static else f"dim{i}" for i, dim in enumerate(partial_shape)]


class OpenVINOSession:
    """An ONNX file compiled by OpenVINO for the CPU; `run` has onnxruntime's signature."""

    def __init__(self, path: str | os.PathLike, precision: str = "bf16", cache_dir: str | os.PathLike | None = None):
        import openvino as ov

        core = ov.Core()
        if cache_dir is not None:
            core.set_property({"CACHE_DIR": os.fspath(cache_dir)})  # compiled blobs: later processes start fast
        config = {"INFERENCE_PRECISION_HINT": {"bf16": "bf16", "fp32": "f32"}[precision], "PERFORMANCE_HINT": "LATENCY"}
        self.compiled = core.compile_model(os.fspath(path), "CPU", config)
        self.precision = precision
        self._inputs = [TensorInfo(port.any_name, _shape(port.get_partial_shape())) for port in self.compiled.inputs]
        self._outputs = [TensorInfo(port.any_name, _shape(port.get_partial_shape())) for port in self.compiled.outputs]
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()  # one infer request: runs from several threads take turns

    def get_inputs(self) -> list[TensorInfo]:
        return list(self._inputs)

    def get_outputs(self) -> list[TensorInfo]:
        return list(self._outputs)

    def get_providers(self) -> list[str]:
        return [f"OpenVINO CPU ({self.precision})"]

    def run(self, output_names, input_feed: dict) -> list:
        names = output_names or [info.name for info in self._outputs]
        with self._lock:
            results = self._request.infer(input_feed)
            by_name = {port.any_name: value for port, value in results.items()}
            return [by_name[name].copy() for name in names]
