"""The optional packages, checked in one place: what each is for, and the extra that installs it.

`require("av", "video")` imports PyAV or raises MissingDependencyError naming the extra to install;
callers ask before any work starts, so a missing package is one clear error, not a failure per item.
`installed(name)` answers without importing (torch takes seconds to import); `importable(name)` imports,
for packages that can be installed yet broken (onnx under a web UI's pinned protobuf).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from types import ModuleType

from .errors import MissingDependencyError

# import name -> (pip extra of dwpose-annotator, what the package is called)
EXTRAS = {
    "av": ("video", "PyAV"),
    "pyarrow": ("table", "pyarrow"),
    "ray": ("ray", "Ray"),
    "torch": ("torch", "PyTorch"),
    "openvino": ("openvino", "the OpenVINO runtime"),
    "pycocotools": ("eval", "pycocotools"),
    "transformers": ("sam2", "Hugging Face transformers"),  # SAM2 for wan-animate --replace
    "onnx": (None, "the onnx package"),  # a core dependency, which an old pinned protobuf can break
}


def install_hint(name: str) -> str:
    """The command that installs the optional package `name` (one of EXTRAS)."""
    extra, _ = EXTRAS[name]
    if extra is None:
        return f"pip install {name}"
    hint = f'pip install "dwpose-annotator[{extra}]"'
    return hint + " (or any torch build for your GPU: pip install torch)" if name == "torch" else hint


def require(name: str, purpose: str) -> ModuleType:
    """The module `name` (one of EXTRAS), imported; MissingDependencyError when it is not installed, saying
    that `purpose` (e.g. "video", "batch --table") needs it and how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise MissingDependencyError(f"{purpose} needs {EXTRAS[name][1]}, which is not installed: "
                                     f"{install_hint(name)}") from err


def installed(name: str) -> bool:
    """Whether the package `name` is installed (found without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package that fails, or a module set to None
        return False


@functools.lru_cache(maxsize=None)
def importable(name: str) -> bool:
    """Whether the package `name` imports here (installed, and its own dependencies work)."""
    try:
        importlib.import_module(name)
    except Exception:  # ImportError, or a dependency's own errors (protobuf's)
        return False
    return True
