"""Model sessions: provider choice, precision, reuse within a process, a cache of optimised graphs on disk.

precision="fp32" (the default, exact) runs onnxruntime in float32. The fast modes trade a little
accuracy for speed: "bf16" runs OpenVINO in bfloat16 on CPUs with AMX/AVX512-BF16, "fp16" runs
onnxruntime's TensorRT or CUDA providers in float16. Where the hardware or runtime is missing, a
PrecisionFallbackWarning says so and the exact mode is used.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import tempfile
import threading
import warnings
import weakref
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .openvino_session import OpenVINOSession, cpu_supports_bf16, openvino_available
from .weights import WeightsError, _first_line, check_weights_file

# Accelerators used by default when the installed onnxruntime build has them, in this order.
ACCELERATORS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
PRECISIONS = ("fp32", "bf16", "fp16")


class ProviderFallbackWarning(RuntimeWarning):
    """An execution provider could not be used and the model runs on the CPU instead."""


class PrecisionFallbackWarning(RuntimeWarning):
    """The requested fast precision is not available here; the model runs in exact fp32 instead."""


def default_providers() -> list[str]:
    available = ort.get_available_providers()
    return [name for name in ACCELERATORS if name in available] + [CPU]


def _name(provider) -> str:
    return provider if isinstance(provider, str) else provider[0]


def cache_dir() -> Path:
    """Where optimised graphs are kept: $DWPOSE_CACHE, else ~/.cache/dwpose-annotator (XDG_CACHE_HOME)."""
    if os.environ.get("DWPOSE_CACHE"):
        return Path(os.environ["DWPOSE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dwpose-annotator"


# Open sessions by (file identity, providers, precision). Weak references: a session lives as long as
# a detector uses it, and a second detector for the same files gets the same session.
_open_sessions: "weakref.WeakValueDictionary[tuple, object]" = weakref.WeakValueDictionary()
_open_lock = threading.Lock()


def create_session(path: str | os.PathLike, what: str, providers=None, precision: str = "fp32",
                   batchable: bool = False):
    """A session for `path` (onnxruntime's InferenceSession, or OpenVINOSession for bf16).

    `batchable`: the model's first dimension is the batch; a model exported with a fixed batch of 1
    (like the published DWPose files) is given a dynamic batch, so that all persons go through one run,
    provided a batch of 2 gives the same outputs as two runs of 1 (otherwise the file is used as it is).
    If an accelerator fails to load, the session runs on the CPU and one ProviderFallbackWarning says
    so. A file that cannot be read raises WeightsError naming the file and the fix.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    check_weights_file(path, what)
    requested = list(providers) if providers is not None else default_providers()
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns, repr(requested), precision, batchable)
    with _open_lock:
        session = _open_sessions.get(key)
        if session is None:
            session = _open_batchable(path, what, requested, precision) if batchable else None
            session = session or _open(path, what, requested, precision)
            _open_sessions[key] = session
    return session


def _open_batchable(path, what: str, requested: list, precision: str):
    """A session of the dynamic-batch copy of `path`, or None when there is none or it does not batch."""
    copy = _dynamic_batch_copy(path)
    if copy is None:
        return None
    verdict = copy.with_suffix(f".{precision}-batches")  # the check below is made once per copy and precision
    if verdict.exists() and verdict.read_text() == "no":
        return None
    try:
        session = _open(copy, what, requested, precision)
        if not verdict.exists():
            # Exact mode keeps a batch only when it changes no bit; fast modes only need it to run.
            same = _batch_matches_singles(session, exact=precision == "fp32")
            _write_atomically(verdict, b"yes" if same else b"no")
            if not same:
                return None
    except Exception:  # any failure here just means: run the file as published, one person at a time
        return None
    return session


def _dynamic_batch_copy(path) -> Path | None:
    """The model with its batch dimension made dynamic (made once, kept in the cache), or None if its
    batch is dynamic already or the onnx package is missing."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return None
    target = _cache_file(path, "dynamic-batch")
    not_needed = target.with_suffix(".not-needed")  # saves reading the model again in the next process
    if target.exists():
        return target
    if not_needed.exists():
        return None
    try:
        model = onnx.load(os.fspath(path))
    except Exception:
        return None
    graph = model.graph
    first_dims = [value.type.tensor_type.shape.dim[0] for value in [*graph.input, *graph.output]
                  if len(value.type.tensor_type.shape.dim) > 0]
    if not first_dims or any(dim.dim_value != 1 for dim in first_dims):
        try:
            _write_atomically(not_needed, b"")
        except OSError:
            pass
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
        _write_atomically(target, model.SerializeToString())
    except OSError:
        return None
    return target


def _batch_matches_singles(session, exact: bool) -> bool:
    model_input = session.get_inputs()[0]
    shape = [2] + [dim if isinstance(dim, int) else 1 for dim in model_input.shape[1:]]
    batch = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    together = session.run(None, {model_input.name: batch})
    apart = [session.run(None, {model_input.name: batch[i:i + 1]}) for i in range(2)]
    for i, outputs in enumerate(apart):
        for joint, single in zip(together, outputs):
            if joint.shape[0] != 2 or not (np.array_equal(joint[i:i + 1], single) if exact
                                           else np.allclose(joint[i:i + 1], single, rtol=1e-2, atol=1e-2)):
                return False
    return True


def _open(path, what: str, requested: list, precision: str):
    if precision == "bf16":
        reason = _bf16_unavailable()
        if reason is None:
            try:
                return OpenVINOSession(path, "bf16", cache_dir() / "openvino")
            except Exception as err:  # OpenVINO raises its own RuntimeError subclasses
                raise _unreadable(path, what, err) from err
        _warn_precision("bf16", reason)
    elif precision == "fp16":
        available = ort.get_available_providers()
        if TENSORRT in available:
            trt = (TENSORRT, {"trt_fp16_enable": True, "trt_engine_cache_enable": True,
                              "trt_engine_cache_path": os.fspath(cache_dir() / "tensorrt")})
            return _ort_session(path, what, [trt, CUDA, CPU] if CUDA in available else [trt, CPU])
        if CUDA in available:
            return _ort_session(_fp16_copy(path, what), what, [CUDA, CPU])
        _warn_precision("fp16", "this onnxruntime build has neither the TensorRT nor the CUDA provider "
                                "(install onnxruntime-gpu on a machine with an NVIDIA GPU)")
    return _ort_session(path, what, requested)


def _bf16_unavailable() -> str | None:
    if not openvino_available():
        return 'the OpenVINO runtime is not installed: pip install "dwpose-annotator[openvino]"'
    if not cpu_supports_bf16():
        return (f"this CPU ({platform.processor() or platform.machine()}) has no bf16 instructions "
                "(AMX or AVX512-BF16)")
    return None


def _warn_precision(precision: str, reason: str) -> None:
    warnings.warn(f"precision={precision!r} is not available: {reason}. Running in exact fp32 instead.",
                  PrecisionFallbackWarning, stacklevel=4)


def _fp16_copy(path, what: str) -> Path:
    """A float16 copy of the model (inputs and outputs stay float32), made once and kept in the cache."""
    target = _cache_file(path, "fp16")
    if not target.exists():
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        try:
            model = convert_float_to_float16(onnx.load(os.fspath(path)), keep_io_types=True)
        except Exception as err:  # onnx raises DecodeError and friends
            raise _unreadable(path, what, err) from err
        _write_atomically(target, model.SerializeToString())
    return target


def _cache_file(path, variant: str) -> Path:
    """A cache file name that changes whenever the model file, onnxruntime or the CPU changes."""
    stat = os.stat(path)
    identity = "|".join(map(str, (os.path.realpath(path), stat.st_size, stat.st_mtime_ns, ort.__version__,
                                  platform.machine(), _cpu_flags(), variant)))
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return cache_dir() / f"{Path(path).stem}-{variant}-{digest}.onnx"


@functools.lru_cache(maxsize=None)  # read once per process: several cache names are made per detector
def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return platform.processor()


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, target)


def _ort_session(path, what: str, requested: list) -> ort.InferenceSession:
    if [_name(p) for p in requested] == [CPU]:
        return _cached_cpu_session(path, what)
    options = _session_options()
    try:
        session = ort.InferenceSession(os.fspath(path), sess_options=options, providers=requested)
    except Exception as err:  # onnxruntime raises its own exception types for both causes
        try:
            session = _cached_cpu_session(path, what)
        except WeightsError:
            raise _unreadable(path, what, err) from err
        _warn_fallback(requested, f"{type(err).__name__}: {_first_line(err)}")
        return session

    missing = [_name(p) for p in requested if _name(p) != CPU and _name(p) not in session.get_providers()]
    if missing:
        _warn_fallback(missing, "the provider did not load (missing GPU libraries or drivers?)")
    return session


def _session_options(level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # our own warnings replace onnxruntime's chatter
    options.graph_optimization_level = level
    return options


def _cached_cpu_session(path, what: str) -> ort.InferenceSession:
    """A CPU session that skips graph optimisation when an earlier process left the optimised graph on disk.

    The cached graph is the one onnxruntime would build (same kernels, same results); its name changes
    with the model file, the onnxruntime version and the CPU, since the layout it picks is CPU-specific.
    """
    cached = _cache_file(path, "cpu-optimised")
    if cached.exists():
        try:
            return ort.InferenceSession(os.fspath(cached), sess_options=_session_options(
                ort.GraphOptimizationLevel.ORT_DISABLE_ALL), providers=[CPU])
        except Exception:  # a damaged cache file: rebuild it below
            cached.unlink(missing_ok=True)
    options = _session_options()
    partial = None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        options.optimized_model_filepath = os.fspath(partial)
    except OSError:  # no writable cache: just no caching
        pass
    try:
        session = ort.InferenceSession(os.fspath(path), sess_options=options, providers=[CPU])
    except Exception as err:
        raise _unreadable(path, what, err) from err
    finally:
        if partial is not None and partial.exists():
            try:
                os.replace(partial, cached)
            except OSError:
                partial.unlink(missing_ok=True)
    return session


def _warn_fallback(providers, reason: str) -> None:
    names = ", ".join(_name(p) for p in providers if _name(p) != CPU)
    warnings.warn(
        f"onnxruntime could not use {names}; running on the CPU instead ({reason}). "
        "Install the matching onnxruntime-gpu / CUDA / cuDNN versions, or pass providers=['CPUExecutionProvider'] "
        "to silence this warning.",
        ProviderFallbackWarning,
        stacklevel=3,
    )


def _unreadable(path, what: str, err: BaseException) -> WeightsError:
    return WeightsError(
        f"{os.fspath(path)}: onnxruntime cannot load it as {what} ({_first_line(err)}). "
        "The file is probably truncated or corrupt: delete it and download it again."
    )
