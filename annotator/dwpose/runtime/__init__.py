"""How the models run: the choice of runtime and providers, shared sessions, the disk cache, graph copies.

- providers.py: one Runtime per detector from `providers` and `precision` (PrecisionFallbackWarning);
- sessions.py: sessions opened as the Runtime says, shared within a process (ProviderFallbackWarning);
- cache.py: the disk cache ($DWPOSE_CACHE); graph_edits.py: dynamic-batch and float16 copies;
- batching.py: whether a batch gives the same outputs as single runs;
- openvino.py: OpenVINO behind the ModelSession interface (protocol.py) for bf16;
- fallback.py: the warnings (their kinds are in errors.py), pointed at the caller's line.
"""

from ..errors import PrecisionFallbackWarning, ProviderFallbackWarning
from .cache import cache_dir
from .protocol import ModelSession, TensorInfo
from .providers import BACKENDS, PRECISIONS, Runtime, choose_runtime, default_providers
from .sessions import create_session

__all__ = ["BACKENDS", "PRECISIONS", "ModelSession", "PrecisionFallbackWarning", "ProviderFallbackWarning", "Runtime",
           "TensorInfo", "cache_dir", "choose_runtime", "create_session", "default_providers"]
