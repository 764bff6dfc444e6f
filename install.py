"""Install the runtime dependencies of dwpose-annotator (requirements.txt) into this Python.

AUTOMATIC1111 / Forge run this file once per start (`python install.py` with PYTHONPATH set to the web
UI folder); it then installs with the web UI's own `launch.is_installed` / `launch.run_pip`, so
`--skip-install` and `INDEX_URL` are honoured. It also runs on its own:

    python install.py [--dry-run]

A requirement counts as met when its module imports and the installed version is recent enough; the
package itself is never installed (the web UI loads it from this folder). onnxruntime: any installed
build (onnxruntime, onnxruntime-gpu, -directml, ...) is kept; when none is installed, onnxruntime-gpu
is chosen if CUDA is available (torch.cuda.is_available() when torch is importable, else an
`nvidia-smi` that lists a GPU), otherwise onnxruntime. DWPOSE_ONNXRUNTIME=cpu or =gpu overrides that
choice. `--dry-run` (or DWPOSE_INSTALL_DRY_RUN=1) prints what would be installed and installs nothing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple, Optional

REQUIREMENTS_FILE = Path(__file__).resolve().parent / "requirements.txt"
TAG = "[dwpose-annotator]"
TRUTHY = {"1", "true", "yes", "on"}

# The module each requirement provides (what `launch.is_installed` is asked about).
MODULES = {
    "numpy": "numpy",
    "opencv-python-headless": "cv2",
    "onnxruntime": "onnxruntime",
    "onnx": "onnx",
    "pillow": "PIL",
    "huggingface-hub": "huggingface_hub",
    "tqdm": "tqdm",
}
# Distributions that provide the same module: any one installed satisfies the requirement, and an
# outdated one is upgraded under its own name (installing opencv-python-headless next to the web UI's
# opencv-python, or onnxruntime next to onnxruntime-gpu, would break both).
PROVIDERS = {
    "opencv-python-headless": ("opencv-python-headless", "opencv-python", "opencv-contrib-python",
                               "opencv-contrib-python-headless"),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino",
                    "onnxruntime-rocm", "onnxruntime-silicon", "ort-nightly", "ort-nightly-gpu"),
    "pillow": ("pillow", "pillow-simd"),
}
_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:>=\s*([0-9][0-9A-Za-z.+!-]*))?$")


class Requirement(NamedTuple):
    name: str  # normalised (PEP 503): lower case, runs of "-", "_", "." as "-"
    minimum: Optional[str]  # the ">=" version, or None

    def spec(self, distribution: str | None = None) -> str:
        name = distribution or self.name
        return f"{name}>={self.minimum}" if self.minimum else name


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path = REQUIREMENTS_FILE) -> list[Requirement]:
    """`name` or `name>=version` per line; blank lines and # comments are skipped."""
    requirements = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{path}:{number}: {raw.strip()!r} is not of the form name or name>=version")
        requirements.append(Requirement(normalize(match.group(1)), match.group(2)))
    return requirements


def release(version: str) -> tuple[int, ...]:
    """The numeric release part of a version ("1.16.3rc1" -> (1, 16, 3)), enough for >= checks."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip().lstrip("vV"))
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def at_least(version: str, minimum: str) -> bool:
    have, need = release(version), release(minimum)
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def module_installed(module: str) -> bool:
    """The same test as the web UI's launch.is_installed."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ModuleNotFoundError, ValueError):
        return False


def torch_cuda() -> bool | None:
    """torch.cuda.is_available(), or None when torch is not importable (torch is never installed here)."""
    if not module_installed("torch"):
        return None
    try:
        import torch
    except Exception:  # a broken torch install: decide without it
        return None
    try:
        return bool(torch.cuda.is_available())
    except Exception:
        return False


def nvidia_smi_finds_gpu() -> bool:
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return False
    try:
        listing = subprocess.run([executable, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return listing.returncode == 0 and "GPU" in listing.stdout


def cuda_available() -> bool:
    choice = os.environ.get("DWPOSE_ONNXRUNTIME", "").strip().lower()
    if choice in ("gpu", "cuda", "onnxruntime-gpu"):
        return True
    if choice in ("cpu", "onnxruntime"):
        return False
    from_torch = torch_cuda()
    return from_torch if from_torch is not None else nvidia_smi_finds_gpu()


def plan(requirements, is_installed=module_installed, version_of=installed_version, cuda=cuda_available) -> list[str]:
    """The pip requirement strings to install so that every requirement is met (empty: nothing to do).

    `is_installed(module)`: whether a module imports; `version_of(distribution)`: its installed version
    or None; `cuda()`: whether to pick onnxruntime-gpu for a missing onnxruntime (asked only then).
    """
    to_install = []
    for requirement in requirements:
        module = MODULES.get(requirement.name, requirement.name.replace("-", "_"))
        providers = PROVIDERS.get(requirement.name, (requirement.name,))
        if not is_installed(module):
            if requirement.name == "onnxruntime" and cuda():
                to_install.append(requirement.spec("onnxruntime-gpu"))
            else:
                to_install.append(requirement.spec())
            continue
        if requirement.minimum is None:
            continue
        found = [(name, version) for name in providers if (version := version_of(name)) is not None]
        if found and not any(at_least(version, requirement.minimum) for _, version in found):
            to_install.append(requirement.spec(found[0][0]))  # upgrade the build that is there
        # No metadata (a vendored or source copy of the module): it imports, so it is kept.
    return to_install


def webui_launch():
    """The web UI's `launch` module when install.py runs under the web UI, else None."""
    if not module_installed("launch"):
        return None
    try:
        import launch
    except Exception:
        return None
    if callable(getattr(launch, "is_installed", None)) and callable(getattr(launch, "run_pip", None)):
        return launch
    return None


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    unknown = [a for a in args if a not in ("--dry-run", "-h", "--help")]
    if "-h" in args or "--help" in args or unknown:
        print(__doc__.strip())
        return 2 if unknown else 0
    dry_run = "--dry-run" in args or os.environ.get("DWPOSE_INSTALL_DRY_RUN", "").strip().lower() in TRUTHY

    launch = webui_launch()
    is_installed = launch.is_installed if launch is not None else module_installed
    to_install = plan(read_requirements(), is_installed=is_installed)
    if not to_install:
        print(f"{TAG} all requirements are installed")
        return 0
    if dry_run:
        print(f"{TAG} would install: {' '.join(to_install)}")
        return 0
    if launch is not None:
        for spec in to_install:
            # run_pip goes through a shell: quote the spec so ">=" is not a redirection.
            launch.run_pip(f'install "{spec}"', f"{spec} for dwpose-annotator")
        return 0
    print(f"{TAG} installing: {' '.join(to_install)}")
    return subprocess.call([sys.executable, "-m", "pip", "install", *to_install])


if __name__ == "__main__":
    sys.exit(main())
