"""The disk cache of model copies, optimised graphs and remembered checks ($DWPOSE_CACHE).

Names change whenever the model file, onnxruntime or the CPU changes, so a stale entry is never used;
every file is written atomically, and a cache that cannot be written only means no caching.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import tempfile
from pathlib import Path

import onnxruntime as ort


def cache_dir() -> Path:
    """$DWPOSE_CACHE, else ~/.cache/dwpose-annotator (or under $XDG_CACHE_HOME)."""
    if os.environ.get("DWPOSE_CACHE"):
        return Path(os.environ["DWPOSE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dwpose-annotator"


def file_identity(path) -> tuple:
    """(real path, size, modification time): changes when the file is replaced or rewritten."""
    stat = os.stat(path)
    return os.path.realpath(path), stat.st_size, stat.st_mtime_ns


def cache_file(model_path, variant: str) -> Path:
    """The cache file for `variant` (e.g. "fp16") of the model at `model_path`."""
    identity = "|".join(map(str, (*file_identity(model_path), ort.__version__, platform.machine(), cpu_flags(),
                                  variant)))
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return cache_dir() / f"{Path(model_path).stem}-{variant}-{digest}.onnx"


@functools.lru_cache(maxsize=None)  # read once per process: several cache names are made per detector
def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return platform.processor()


def write_atomically(target: Path, data: bytes) -> None:
    """Write `data` to `target` so that no reader ever sees a partial file (raises OSError)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def recall(mark: Path) -> str | None:
    """The answer an earlier process remembered in `mark`, or None."""
    try:
        return mark.read_text()
    except OSError:
        return None


def remember(mark: Path, answer: str) -> None:
    """Keep `answer` for later processes, where the cache can be written."""
    try:
        write_atomically(mark, answer.encode())
    except OSError:
        pass
