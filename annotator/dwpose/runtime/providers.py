"""One choice of runtime, providers and precision for a detector's models, and what to say when it falls back.

An explicit `providers=` always wins; `precision` chooses the providers only when `providers` is None:
- "fp32" (exact): onnxruntime with the default providers (CUDA, CoreML or DirectML when the installed
  build has them, then the CPU), or the providers given.
- "bf16": OpenVINO on the CPU in bfloat16, on CPUs with AMX or AVX512-BF16 (the openvino extra).
- "fp16": onnxruntime's TensorRT provider with fp16 engines, else the CUDA provider with a float16
  copy of each model. Given providers run fp16 when they include TensorRT or CUDA.
When the precision cannot run, one PrecisionFallbackWarning says why and exact fp32 runs.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import onnxruntime as ort

from .cache import cache_dir
from .fallback import PrecisionFallbackWarning, warn
from .graph_edits import onnx_available
from .openvino import cpu_supports_bf16, openvino_available

# Accelerators used by default when the installed onnxruntime build has them, in this order.
ACCELERATORS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Runtime:
    """How a detector's models run. `precision`: what actually runs ("bf16" means OpenVINO);
    `providers`: onnxruntime providers, names or (name, options); `float16_copy`: run a float16
    copy of each model (fp16 on the CUDA provider)."""

    precision: str = "fp32"
    providers: tuple = (CPU,)
    float16_copy: bool = False


def provider_name(provider) -> str:
    return provider if isinstance(provider, str) else provider[0]


def default_providers() -> list:
    available = ort.get_available_providers()
    return [name for name in ACCELERATORS if name in available] + [CPU]


def choose_runtime(providers=None, precision: str = "fp32") -> Runtime:
    """The Runtime for `providers` (None: chosen here) and `precision`; warns once when precision falls back."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
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


def _explicit_reason(explicit: list, needs: str) -> str:
    names = [provider_name(p) for p in explicit]
    return (f"it needs {needs}, and providers={names!r} was given (an explicit providers= always wins; "
            "pass providers=None to let precision choose)")


def _bf16(explicit):
    if explicit is not None:
        return None, _explicit_reason(explicit, "OpenVINO rather than onnxruntime providers")
    if not openvino_available():
        return None, 'the OpenVINO runtime is not installed: pip install "dwpose-annotator[openvino]"'
    if not cpu_supports_bf16():
        return None, (f"this CPU ({platform.processor() or platform.machine()}) has no bf16 instructions "
                      "(AMX or AVX512-BF16)")
    return Runtime("bf16", ()), None


_NO_ONNX = "the CUDA provider runs a float16 copy of each model, and making it needs the onnx package (pip install onnx)"


def _fp16(explicit):
    available = ort.get_available_providers()
    if explicit is None:
        if TENSORRT in available:
            return Runtime("fp16", (_tensorrt_fp16(), CUDA, CPU) if CUDA in available else (_tensorrt_fp16(), CPU)), None
        if CUDA in available:
            return (Runtime("fp16", (CUDA, CPU), float16_copy=True), None) if onnx_available() else (None, _NO_ONNX)
        return None, ("this onnxruntime build has neither the TensorRT nor the CUDA provider "
                      "(install onnxruntime-gpu on a machine with an NVIDIA GPU)")
    names = [provider_name(p) for p in explicit]
    if TENSORRT in names:  # a bare name gets fp16 engines; (name, options) are the caller's own
        return Runtime("fp16", tuple(_tensorrt_fp16() if p == TENSORRT else p for p in explicit)), None
    if CUDA in names:
        return (Runtime("fp16", tuple(explicit), float16_copy=True), None) if onnx_available() else (None, _NO_ONNX)
    return None, _explicit_reason(explicit, "the TensorRT or the CUDA provider")


def _tensorrt_fp16():
    return (TENSORRT, {"trt_fp16_enable": True, "trt_engine_cache_enable": True,
                       "trt_engine_cache_path": os.fspath(cache_dir() / "tensorrt")})
