"""Install the runtime dependencies of dwpose-annotator (requirements.txt) into this Python.

AUTOMATIC1111 / Forge run this file once per start (`python install.py` with PYTHONPATH set to the web
UI folder); it then installs with the web UI's own `launch.is_installed` / `launch.run_pip`, so
`--skip-install` and `INDEX_URL` are honoured. It also runs on its own:

    python install.py [--dry-run]

A requirement counts as met when its module really imports (checked in a fresh interpreter) and the
installed version is recent enough; the package itself is never installed (the web UI loads it from
this folder). The host's pins are never fought: where the web UI pins protobuf (its
requirements_versions.txt, re-installed at every start), onnx is not installed and a broken onnx is left
alone; everything runs without it, and one line says what is lost. The last lines say what was
installed, what was skipped and why. onnxruntime: any installed
build (onnxruntime, onnxruntime-gpu, -directml, ...) is kept; when none is installed, onnxruntime-gpu
is chosen if CUDA is available (torch.cuda.is_available() when torch is importable, else an
`nvidia-smi` that lists a GPU), otherwise onnxruntime. DWPOSE_ONNXRUNTIME=cpu or =gpu overrides that
choice. `--dry-run` (or DWPOSE_INSTALL_DRY_RUN=1) prints what would be installed and installs nothing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
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
# Requirements the package runs without, and what is lost then.
OPTIONAL = {
    "onnx": "pose models exported with a fixed batch of 1 then run one person at a time, and "
            "precision='fp16' on the CUDA provider is not available",
}
# A host pin of one of these packages (web UI requirements_versions.txt) makes these requirements optional.
PINNED_BY_HOST = {"onnx": "protobuf"}
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


class Plan(NamedTuple):
    install: list  # (pip requirement string, the module it provides)
    skipped: list  # (requirement, why) left alone
    problems: list  # (module, why): a required module that is there but does not import

    @property
    def specs(self) -> list:
        return [spec for spec, _ in self.install]


def import_errors(modules) -> dict:
    """{module: "Error: message"} for each of `modules` that fails to import in a fresh interpreter
    (a module that imports only after another module was imported is caught this way too)."""
    modules = list(modules)
    try:
        done = subprocess.run([sys.executable, "-c", _IMPORT_CHECK, *modules], capture_output=True, text=True,
                              timeout=600)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return {}  # could not ask: trust find_spec


_IMPORT_CHECK = """
import importlib, json, sys
errors = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as err:
        errors[name] = (type(err).__name__ + ": " + str(err)).splitlines()[0]
print(json.dumps(errors))
"""


def host_pins(webui_dir) -> dict:
    """{normalised name: version} pinned with == in the web UI's requirements_versions.txt."""
    pins = {}
    path = Path(webui_dir) / "requirements_versions.txt" if webui_dir else None
    if path is None or not path.is_file():
        return pins
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep and name:
            pins[normalize(name)] = version.strip()
    return pins


def plan(requirements, is_installed=module_installed, version_of=installed_version, cuda=cuda_available,
         errors=None, pins=None) -> Plan:
    """What to install so that every requirement is met.

    `is_installed(module)`: whether a module is there; `errors`: {module: why} for modules that are
    there but do not import; `version_of(distribution)`: its installed version or None; `cuda()`:
    whether to pick onnxruntime-gpu for a missing onnxruntime (asked only then); `pins`: the host's
    pinned versions {name: version}.
    """
    errors, pins = errors or {}, pins or {}
    result = Plan([], [], [])
    for requirement in requirements:
        module = MODULES.get(requirement.name, requirement.name.replace("-", "_"))
        providers = PROVIDERS.get(requirement.name, (requirement.name,))
        pinned = PINNED_BY_HOST.get(requirement.name)
        present = is_installed(module)
        if present and module in errors:
            if requirement.name in OPTIONAL:
                result.skipped.append((requirement.spec(), f"it is installed but does not import ({errors[module]}); "
                                                            f"without it {OPTIONAL[requirement.name]}"))
            else:
                result.problems.append((module, errors[module]))
            continue
        if not present:
            if pinned in pins:
                result.skipped.append((requirement.spec(), f"the web UI pins {pinned}=={pins[pinned]} and "
                                       f"{requirement.name} needs a newer {pinned}, so installing it would change "
                                       f"the web UI's {pinned}; everything else works, but without "
                                       f"{requirement.name} {OPTIONAL[requirement.name]}"))
            elif requirement.name == "onnxruntime" and cuda():
                result.install.append((requirement.spec("onnxruntime-gpu"), module))
            else:
                result.install.append((requirement.spec(), module))
            continue
        if requirement.minimum is None:
            continue
        found = [(name, version) for name in providers if (version := version_of(name)) is not None]
        if found and not any(at_least(version, requirement.minimum) for _, version in found):
            result.install.append((requirement.spec(found[0][0]), module))  # upgrade the build that is there
        # No metadata (a vendored or source copy of the module): it imports, so it is kept.
    return result


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
    requirements = read_requirements()
    modules = [MODULES.get(r.name, r.name.replace("-", "_")) for r in requirements]
    errors = import_errors([m for m in modules if is_installed(m)])
    pins = host_pins(Path(launch.__file__).resolve().parent if launch is not None else None)
    planned = plan(requirements, is_installed=is_installed, errors=errors, pins=pins)
    for spec, why in planned.skipped:
        print(f"{TAG} skipped {spec}: {why}")
    for module, why in planned.problems:
        print(f"{TAG} {module} is installed but does not import ({why}); dwpose-annotator needs it: "
              f"repair it in this Python (it is left alone here, as the web UI may depend on it)")
    if not planned.install:
        if not planned.skipped and not planned.problems:
            print(f"{TAG} all requirements are installed")
        return 1 if planned.problems else 0
    if dry_run:
        print(f"{TAG} would install: {' '.join(planned.specs)}")
        return 0
    if launch is not None:
        for spec in planned.specs:
            # run_pip goes through a shell: quote the spec so ">=" is not a redirection.
            launch.run_pip(f'install "{spec}"', f"{spec} for dwpose-annotator")
        code = 0
    else:
        print(f"{TAG} installing: {' '.join(planned.specs)}")
        code = subprocess.call([sys.executable, "-m", "pip", "install", *planned.specs])
    return report_installed(planned.install) or code


def report_installed(installed) -> int:
    """Say which of the installed (spec, module) now import (1 if any does not)."""
    failed = import_errors({module for _, module in installed})
    for spec, module in installed:
        if module in failed:
            print(f"{TAG} installed {spec}, but {module} does not import: {failed[module]}")
        else:
            print(f"{TAG} installed {spec}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
