"""One choice of backend, device, providers and precision for a detector's models, and what to say when
it falls back.

Backends: "onnxruntime" (providers), "openvino" (the CPU, fp32 or bf16), "torch" (the ONNX files turned
into PyTorch modules, on a torch device). An explicit `backend=` or `providers=` always wins.
- backend "torch": on `device` (default: the best torch sees: CUDA, MPS, then the CPU) in fp32, fp16 or bf16.
- backend "onnxruntime", or providers given: precision chooses the providers only when `providers` is None:
  "fp32" (exact): onnxruntime with the default providers (CUDA, CoreML or DirectML when the installed build
  has them, then the CPU); "fp16": the TensorRT provider with fp16 engines, else the CUDA provider with a
  float16 copy of each model (given providers run fp16 when they include TensorRT or CUDA); "bf16": OpenVINO.
  `device="cuda:N"` picks the CUDA provider of GPU N, `device="cpu"` the CPU provider.
- backend "openvino": OpenVINO on the CPU, in bf16 on CPUs with AMX or AVX512-BF16, or fp32.
- no backend (the default): onnxruntime with a GPU provider when one loads, else torch on a GPU when torch
  sees one, else onnxruntime on the CPU; "bf16" first tries OpenVINO on the CPU, "fp16" onnxruntime's GPU
  providers. A `device=` alone means the torch backend on that device.
When the precision cannot run, one PrecisionFallbackWarning says why and exact fp32 runs; when a GPU
provider that is there does not load and torch runs instead, one ProviderFallbackWarning says so.
"""

from __future__ import annotations

import functools
import os
import platform
import warnings
from dataclasses import dataclass

import onnxruntime as ort

from ..errors import PrecisionFallbackWarning, ProviderFallbackWarning
from ..optional import importable, install_hint, installed, require
from .cache import cache_dir
from .fallback import warn
from .openvino import cpu_supports_bf16
from .torch_session import best_device, checked_device, gpu_device, require_torch

# Accelerators used by default when the installed onnxruntime build has them, in this order.
ACCELERATORS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
PRECISIONS = ("fp32", "bf16", "fp16")
BACKENDS = ("onnxruntime", "openvino", "torch")


@dataclass(frozen=True)
class Runtime:
    """How a detector's models run. `precision`: what actually runs; `providers`: onnxruntime providers,
    names or (name, options); `float16_copy`: run a float16 copy of each model (fp16 on the CUDA
    provider); `backend`: one of BACKENDS; `device`: the torch device of the torch backend."""

    precision: str = "fp32"
    providers: tuple = (CPU,)
    float16_copy: bool = False
    backend: str = "onnxruntime"
    device: str | None = None

    @property
    def exact(self) -> bool:
        """Whether this runs the reference's arithmetic (onnxruntime in fp32), to the last bit."""
        return self.backend == "onnxruntime" and self.precision == "fp32"


def provider_name(provider) -> str:
    return provider if isinstance(provider, str) else provider[0]


def default_providers() -> list:
    available = ort.get_available_providers()
    return [name for name in ACCELERATORS if name in available] + [CPU]


def choose_runtime(providers=None, precision: str = "fp32", backend: str | None = None, device=None) -> Runtime:
    """The Runtime for `backend`, `device`, `providers` (None: chosen here) and `precision` (module
    docstring); warns once when the precision or a GPU provider falls back."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)} (or None: the best available); "
                         f"got {backend!r}")
    if providers is not None and backend not in (None, "onnxruntime"):
        raise ValueError(f"providers= are onnxruntime's; backend={backend!r} does not use them")
    if backend == "torch" or (backend is None and device is not None and providers is None):
        require_torch()
        return Runtime(precision, (), backend="torch", device=best_device() if device is None else checked_device(device))
    if backend == "openvino":
        return _openvino(precision, device)
    if backend == "onnxruntime" and device is not None and providers is None:
        providers = _providers_for_device(device)
    if backend is None and providers is None:
        automatic = _automatic(precision)
        if automatic is not None:
            return automatic
    return _onnxruntime(providers, precision)


def _onnxruntime(providers, precision: str) -> Runtime:
    explicit = list(providers) if providers is not None else None
    exact = Runtime("fp32", tuple(explicit if explicit is not None else default_providers()))
    if precision == "fp32":
        return exact
    if precision == "bf16":
        chosen, reason = _bf16(explicit)
    else:
        chosen, reason = _fp16(explicit)
    if chosen is not None:
        return chosen
    on = ", ".join(provider_name(p) for p in exact.providers)
    warn(f"precision={precision!r} is not available: {reason}. Running in exact fp32 on {on} instead "
         "(precision='fp32' runs the same without this warning).", PrecisionFallbackWarning)
    return exact


def _automatic(precision: str) -> Runtime | None:
    """Torch on a GPU where onnxruntime has no GPU provider that loads (for fp16: none that runs fp16;
    for bf16: where OpenVINO cannot run bf16 either); None: onnxruntime as chosen without a backend."""
    available = ort.get_available_providers()
    if precision == "bf16" and installed("openvino") and cpu_supports_bf16():
        return None
    gpu_providers = [name for name in (TENSORRT, *ACCELERATORS) if name in available]
    if precision == "fp16":
        gpu_providers = [name for name in gpu_providers if name in (TENSORRT, CUDA)]
    if gpu_providers and _provider_loads(gpu_providers[0]):
        return None
    gpu = gpu_device()
    if gpu is None:
        return None  # onnxruntime on the CPU (its own warning where a listed provider does not load)
    if gpu_providers:
        warn(f"onnxruntime could not use {gpu_providers[0]} (the provider did not load: missing GPU libraries "
             f"or drivers?); running the models with torch on {gpu} instead. Pass backend='torch' to choose "
             "this without the warning, or install the onnxruntime-gpu build that matches your CUDA and cuDNN "
             "versions.", ProviderFallbackWarning)
    return Runtime(precision, (), backend="torch", device=gpu)


@functools.lru_cache(maxsize=None)
def _provider_loads(name: str) -> bool:
    """Whether onnxruntime's provider `name` loads here (a one-node model opened with it)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        with warnings.catch_warnings():  # onnxruntime's own warning about the provider: the answer says it
            warnings.simplefilter("ignore")
            session = ort.InferenceSession(model.SerializeToString(), options, providers=[name, CPU])
    except Exception:  # onnxruntime raises its own types when a provider's libraries are missing
        return False
    return name in session.get_providers()


def _providers_for_device(device) -> list:
    """onnxruntime providers for a torch-style device name: "cpu", "cuda" or "cuda:N"."""
    text = str(device)
    if text == "cpu":
        return [CPU]
    if text == "cuda" or text.startswith("cuda:") and text[5:].isdigit():
        return [(CUDA, {"device_id": int(text[5:] or 0)}), CPU]
    raise ValueError(f"backend='onnxruntime' runs on device 'cpu', 'cuda' or 'cuda:N', got {device!r} "
                     "(backend='torch' runs on any torch device)")


def _openvino(precision: str, device) -> Runtime:
    if device not in (None, "cpu"):
        raise ValueError(f"backend='openvino' runs on the CPU, got device={device!r}")
    require("openvino", "backend='openvino'")
    if precision == "fp16":
        raise ValueError("backend='openvino' runs fp32 or bf16 on the CPU; fp16 is for GPUs (backend='torch' "
                         "or onnxruntime's CUDA / TensorRT providers)")
    if precision == "bf16":
        chosen, reason = _bf16(None)
        if chosen is not None:
            return chosen
        warn(f"precision='bf16' is not available: {reason}. Running OpenVINO in fp32 instead "
             "(precision='fp32' runs the same without this warning).", PrecisionFallbackWarning)
    return Runtime("fp32", (), backend="openvino")


def _explicit_reason(explicit: list, needs: str) -> str:
    names = [provider_name(p) for p in explicit]
    return (f"it needs {needs}, and providers={names!r} was given (an explicit providers= always wins; "
            "pass providers=None to let precision choose)")


def _bf16(explicit):
    if explicit is not None:
        return None, _explicit_reason(explicit, "OpenVINO rather than onnxruntime providers")
    if not installed("openvino"):
        return None, f"the OpenVINO runtime is not installed: {install_hint('openvino')}"
    if not cpu_supports_bf16():
        return None, (f"this CPU ({platform.processor() or platform.machine()}) has no bf16 instructions "
                      "(AMX or AVX512-BF16)")
    return Runtime("bf16", (), backend="openvino"), None


_NO_ONNX = "the CUDA provider runs a float16 copy of each model, and making it needs the onnx package (pip install onnx)"


def _fp16(explicit):
    available = ort.get_available_providers()
    if explicit is None:
        if TENSORRT in available:
            return Runtime("fp16", (_tensorrt_fp16(), CUDA, CPU) if CUDA in available else (_tensorrt_fp16(), CPU)), None
        if CUDA in available:
            return (Runtime("fp16", (CUDA, CPU), float16_copy=True), None) if importable("onnx") else (None, _NO_ONNX)
        return None, ("this onnxruntime build has neither the TensorRT nor the CUDA provider "
                      "(install onnxruntime-gpu on a machine with an NVIDIA GPU)")
    names = [provider_name(p) for p in explicit]
    if TENSORRT in names:  # a bare name gets fp16 engines; (name, options) are the caller's own
        return Runtime("fp16", tuple(_tensorrt_fp16() if p == TENSORRT else p for p in explicit)), None
    if CUDA in names:
        return (Runtime("fp16", tuple(explicit), float16_copy=True), None) if importable("onnx") else (None, _NO_ONNX)
    return None, _explicit_reason(explicit, "the TensorRT or the CUDA provider")


def _tensorrt_fp16():
    return (TENSORRT, {"trt_fp16_enable": True, "trt_engine_cache_enable": True,
                       "trt_engine_cache_path": os.fspath(cache_dir() / "tensorrt")})
