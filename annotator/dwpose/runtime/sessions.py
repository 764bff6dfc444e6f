"""Sessions for model files: opened as the Runtime says, shared within a process, quick to reopen.

A second detector for the same file and Runtime reuses the first one's session; sessions are freed when
no detector uses them. The CPU's optimised graph is kept on disk, so a new process opens it quickly.
"""

from __future__ import annotations

import os
import threading
import weakref

import onnxruntime as ort

from ..errors import ProviderFallbackWarning, WeightsError
from ..weights import check_weights_file, unreadable_weights
from .batching import batches_like_singles
from .cache import cache_dir, cache_file, file_identity, recall, remember
from .fallback import warn
from .graph_edits import dynamic_batch_copy, float16_copy
from .openvino import OpenVINOSession
from .protocol import ModelSession
from .providers import CPU, Runtime, provider_name
from .torch_session import open_torch_session

# Open sessions by (file identity, Runtime, batchable). Weak references: a session lives as long as a
# detector uses it.
_open_sessions: "weakref.WeakValueDictionary[tuple, ModelSession]" = weakref.WeakValueDictionary()
_open_lock = threading.Lock()


def create_session(path: str | os.PathLike, what: str, runtime: Runtime | None = None,
                   batchable: bool = False) -> ModelSession:
    """A session for the model file `path` (`what`: what it should be, for error messages), run as
    `runtime` says (default: exact fp32 on the CPU).

    `batchable`: the model's first dimension is the batch; a model exported with a fixed batch of 1
    (like the published DWPose files) is given a dynamic batch, so that all persons go through one run,
    provided a batch of 2 gives the same outputs as two runs of 1 (otherwise the file is used as it is).
    A provider that fails to load gives one ProviderFallbackWarning; a file that cannot be read raises
    WeightsError naming the file and the fix.
    """
    runtime = runtime or Runtime()
    check_weights_file(path, what)
    key = (file_identity(path), repr(runtime), batchable)
    with _open_lock:
        session = _open_sessions.get(key)
        if session is None:
            session = (_open_batchable(path, what, runtime) if batchable else None) or open_session(path, what, runtime)
            _open_sessions[key] = session
    return session


def open_session(path, what: str, runtime: Runtime) -> ModelSession:
    """A new session of `path`, not shared."""
    if runtime.backend == "torch":
        return open_torch_session(path, what, runtime.device, runtime.precision)
    if runtime.backend == "openvino":
        try:
            return OpenVINOSession(path, runtime.precision, cache_dir() / "openvino")
        except Exception as err:  # OpenVINO raises its own RuntimeError subclasses
            raise unreadable_weights(path, what, err) from err
    if runtime.float16_copy:
        return _float16_session(path, what, list(runtime.providers))
    return _ort_session(path, what, list(runtime.providers))


def _open_batchable(path, what: str, runtime: Runtime) -> ModelSession | None:
    """A session of the dynamic-batch copy of `path`, or None when there is none or it does not batch."""
    copy = dynamic_batch_copy(path)
    if copy is None:
        return None
    # Checked once per copy, backend and precision (and torch device kind).
    kind = {"onnxruntime": "", "openvino": "openvino-", "torch": f"torch-{str(runtime.device).split(':')[0]}-"}
    verdict = copy.with_suffix(f".{kind[runtime.backend]}{runtime.precision}-batches")
    known = recall(verdict)
    if known == "no":
        return None
    try:
        session = open_session(copy, what, runtime)
        if known is None:
            # Exact mode keeps a batch only when it changes no bit; fast modes only need it to run.
            same = batches_like_singles(session, exact=runtime.exact)
            remember(verdict, "yes" if same else "no")
            if not same:
                return None
    except Exception:  # any failure here just means: run the file as published, one person at a time
        return None
    return session


def _float16_session(path, what: str, providers: list) -> ModelSession:
    """The float16 copy on CUDA; where CUDA does not load, the exact model on the CPU (a float16 graph
    on the CPU would be slower than the exact one)."""
    session = _ort_session(float16_copy(path, what), what, providers, warn_missing=False)
    running = session.get_providers()
    if any(name != CPU for name in running):
        return session
    _warn_fallback(providers, "the provider did not load: missing GPU libraries or drivers?",
                   "running exact fp32 on the CPU instead")
    return _cached_cpu_session(path, what)


def _ort_session(path, what: str, providers: list, warn_missing: bool = True) -> ort.InferenceSession:
    """An onnxruntime session on the first of `providers` that loads; one ProviderFallbackWarning names
    those that did not (unless `warn_missing` is False)."""
    available = ort.get_available_providers()
    usable = [p for p in providers if provider_name(p) in available]  # asking for others only adds noise
    reason = "the provider did not load: missing GPU libraries or drivers?"
    if [provider_name(p) for p in usable] in ([], [CPU]):
        session = _cached_cpu_session(path, what)
    else:
        try:
            session = ort.InferenceSession(os.fspath(path), sess_options=_session_options(), providers=usable)
        except Exception as err:  # onnxruntime raises its own exception types for both causes
            try:
                session = _cached_cpu_session(path, what)
            except WeightsError:
                raise unreadable_weights(path, what, err) from err
            reason = f"{type(err).__name__}: {err}".splitlines()[0]
    running = session.get_providers()
    missing = [p for p in providers if provider_name(p) != CPU and provider_name(p) not in running]
    if missing and warn_missing:
        if not any(provider_name(p) in available for p in missing):
            reason = f"this onnxruntime build ({ort.__version__}) does not have it"
        _warn_fallback(missing, reason, f"running on {running[0]} instead")
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
    cached = cache_file(path, "cpu-optimised")
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
        raise unreadable_weights(path, what, err) from err
    finally:
        if partial is not None and partial.exists():
            try:
                os.replace(partial, cached)
            except OSError:
                partial.unlink(missing_ok=True)
    return session


def _warn_fallback(providers: list, reason: str, instead: str) -> None:
    names = [provider_name(p) for p in providers if provider_name(p) != CPU]
    if {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(names):
        fix = "Install the onnxruntime-gpu build that matches your CUDA and cuDNN versions"
    else:
        fix = f"Install the onnxruntime build (and drivers) that {', '.join(names)} needs"
    warn(f"onnxruntime could not use {', '.join(names)}; {instead} ({reason}). {fix}, or pass "
         "providers=['CPUExecutionProvider'] and precision='fp32' to run on the CPU without this warning.",
         ProviderFallbackWarning)
