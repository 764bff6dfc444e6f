"""onnxruntime sessions: provider choice, one clear warning on CPU fallback, clear errors for bad files."""

from __future__ import annotations

import os
import warnings

import onnxruntime as ort

from .weights import WeightsError, _first_line, check_weights_file

# Accelerators used by default when the installed onnxruntime build has them, in this order.
ACCELERATORS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider")
CPU = "CPUExecutionProvider"


class ProviderFallbackWarning(RuntimeWarning):
    """An execution provider could not be used and the model runs on the CPU instead."""


def default_providers() -> list[str]:
    available = ort.get_available_providers()
    return [name for name in ACCELERATORS if name in available] + [CPU]


def _name(provider) -> str:
    return provider if isinstance(provider, str) else provider[0]


def create_session(path: str | os.PathLike, what: str, providers=None) -> ort.InferenceSession:
    """Open `path` with the requested providers (default: `default_providers()`).

    If an accelerator fails to load, the session runs on the CPU and one ProviderFallbackWarning says
    so. A file that onnxruntime cannot read raises WeightsError naming the file and the fix.
    """
    check_weights_file(path, what)
    requested = list(providers) if providers is not None else default_providers()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # our own warning below replaces onnxruntime's fallback chatter
    try:
        session = ort.InferenceSession(os.fspath(path), sess_options=options, providers=requested)
    except Exception as err:  # onnxruntime raises its own exception types for both causes
        if [_name(p) for p in requested] == [CPU]:
            raise _unreadable(path, what, err) from err
        try:
            session = ort.InferenceSession(os.fspath(path), sess_options=options, providers=[CPU])
        except Exception as cpu_err:
            raise _unreadable(path, what, cpu_err) from cpu_err
        _warn_fallback(requested, f"{type(err).__name__}: {_first_line(err)}")
        return session

    missing = [_name(p) for p in requested if _name(p) != CPU and _name(p) not in session.get_providers()]
    if missing:
        _warn_fallback(missing, "the provider did not load (missing GPU libraries or drivers?)")
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
