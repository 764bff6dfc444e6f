"""The torch backend: an ONNX file turned once into a PyTorch module (runtime/onnx_torch.py) and run on a
torch device ("cuda", "cuda:N", "mps", "cpu") in fp32, fp16 or bf16, behind the ModelSession interface.

Hosts (the web UIs, ComfyUI, diffusers) already have a torch with working CUDA, MPS or ROCm, where
onnxruntime-gpu often fails to load. The converted module is kept in the disk cache, so a new process
does not convert again. Besides `run` (numpy in, float32 numpy out), `run_on_device` leaves the outputs
on the device, so the models can decode there and copy back only what they keep.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from ..errors import WeightsError
from ..optional import installed, require
from ..weights import unreadable_weights
from .cache import cache_file
from .protocol import PortInfo

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
_convert_lock = threading.Lock()  # one conversion of a file at a time, also across detectors


def require_torch():
    """The torch module, or MissingDependencyError naming what to install."""
    return require("torch", "backend='torch'")


def best_device() -> str:
    """"cuda" when torch sees an NVIDIA (or ROCm) GPU, else "mps" on Apple silicon, else "cpu"."""
    torch = require_torch()
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def gpu_device() -> str | None:
    """The torch GPU device when torch is installed and sees one, else None (torch is not imported when
    it is not installed)."""
    if not installed("torch"):
        return None
    try:
        device = best_device()
    except Exception:  # a broken torch install is no GPU
        return None
    return None if device == "cpu" else device


def torch_gpu(device) -> str | None:
    """`device` (a torch.device, or anything with its `type`, or a str) as a str when it is a GPU the torch
    backend runs on (CUDA, which ROCm builds use too, or MPS), else None: how the hosts' devices are read."""
    kind = getattr(device, "type", str(device).split(":")[0])
    return str(device) if kind in ("cuda", "mps") else None


def checked_device(device) -> str:
    """`device` (a str or torch.device) as a str torch accepts, or ValueError naming it."""
    torch = require_torch()
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be e.g. 'cuda', 'cuda:1', 'mps' or 'cpu', got {device!r}") from err
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}, but this torch ({torch.__version__}) sees no CUDA GPU")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ValueError(f"device={device!r}, but torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    return str(parsed)


class TorchSession:
    """A model file as a torch module on `device` computing in `precision` ("fp32", "fp16", "bf16").

    Thread-safe: calls from several threads share the module, which no call changes.
    """

    def __init__(self, path: str | os.PathLike, what: str, device: str, precision: str = "fp32"):
        torch = require_torch()
        from .onnx_torch import convert, load_module, save_module

        self.device = torch.device(device)
        self.precision = precision
        self.dtype = getattr(torch, DTYPES[precision])
        cached = cache_file(path, f"torch-{torch.__version__}").with_suffix(".pt")
        with _convert_lock:
            module = None
            if cached.exists():
                try:
                    module = load_module(cached)
                except Exception:  # a damaged or outdated cache file: convert again
                    cached.unlink(missing_ok=True)
            if module is None:
                module = convert(path, what)  # raises WeightsError naming the file (or an op it lacks)
                try:
                    save_module(module, cached)
                except OSError:  # no writable cache: just no caching
                    pass
        try:
            self.module = module.compute(self.dtype).to(self.device).eval()
        except (RuntimeError, TypeError) as err:  # e.g. out of GPU memory, a dtype the device lacks
            raise WeightsError(f"{what} ({path}) could not be put on {self.device} in {precision}: "
                               f"{type(err).__name__}: {err}".splitlines()[0]) from err
        self._inputs = [PortInfo(*port) for port in zip(module.input_names, module.input_shapes, module.input_types)]
        self._outputs = [PortInfo(*port) for port in zip(module.output_names, module.output_shapes, module.output_types)]
        self.path, self.what = path, what

    def get_inputs(self) -> list[PortInfo]:
        return self._inputs

    def get_outputs(self) -> list[PortInfo]:
        return self._outputs

    def get_providers(self) -> list[str]:
        return [f"torch {self.device} ({self.precision})"]

    def run_on_device(self, output_names, input_feed: dict) -> list:
        """The outputs named (all when None) as torch tensors on the device (float32 for floats)."""
        torch = require_torch()
        inputs = []
        for port in self._inputs:
            if port.name not in input_feed:
                raise ValueError(f"{self.what}: input {port.name!r} missing (given: {', '.join(input_feed)})")
            inputs.append(torch.as_tensor(np.ascontiguousarray(input_feed[port.name])).to(self.device, non_blocking=True))
        with torch.inference_mode(), _exact_float32(torch, self.device, self.precision):
            outputs = dict(zip(self.module.output_names, self.module(*inputs)))
        names = output_names or self.module.output_names
        return [outputs[name].float() if outputs[name].is_floating_point() else outputs[name] for name in names]

    def run(self, output_names, input_feed: dict) -> list:
        """onnxruntime's signature: numpy inputs by name, the outputs named (all when None) as numpy."""
        return [tensor.cpu().numpy() for tensor in self.run_on_device(output_names, input_feed)]

@contextlib.contextmanager
def _exact_float32(torch, device, precision: str):
    """In fp32 on CUDA, no TF32 in convolutions and matrix products during the call (torch allows it in
    cuDNN convolutions by default, and the web UIs switch it on for matrix products), so that fp32 means
    fp32 as in onnxruntime. The flags are torch's global ones: they are put back after the call."""
    if precision != "fp32" or device.type != "cuda":
        yield
        return
    matmul = torch.backends.cuda.matmul
    previous = matmul.allow_tf32
    matmul.allow_tf32 = False
    try:
        with torch.backends.cudnn.flags(enabled=torch.backends.cudnn.enabled, benchmark=torch.backends.cudnn.benchmark,
                                        deterministic=torch.backends.cudnn.deterministic, allow_tf32=False):
            yield
    finally:
        matmul.allow_tf32 = previous


def open_torch_session(path, what: str, device: str, precision: str) -> TorchSession:
    """A TorchSession, or WeightsError naming the file when it cannot be read."""
    try:
        return TorchSession(path, what, device, precision)
    except (WeightsError, ImportError, ValueError):
        raise
    except Exception as err:  # torch and onnx raise many types for a file they cannot read
        raise unreadable_weights(path, what, err) from err
