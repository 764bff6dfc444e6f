"""Install the runtime dependencies of dwpose-annotator (requirements.txt and INSTALL_PY_ONLY) into this Python.

AUTOMATIC1111 / Forge run this file once per start (`python install.py` with PYTHONPATH set to the web
UI folder); it then installs with the web UI's own `launch.is_installed` / `launch.run_pip`, so
`--skip-install` and `INDEX_URL` are honoured. ComfyUI-Manager and comfy-cli run it after they pip-install
requirements.txt line by line (so only what is safe to install that way is listed there; OpenCV,
onnxruntime, pillow and onnx are installed here). It also runs on its own:

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
choice; a ROCm torch means the CPU build (onnxruntime-gpu is CUDA's). numpy and protobuf are held at their
installed versions while installing (an OpenCV or onnx wheel would otherwise move them under the host's
other packages); onnx is installed on its own, and where it cannot be, one line says what is lost.
`--dry-run` (or DWPOSE_INSTALL_DRY_RUN=1) prints what would be installed and installs nothing.
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
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional

REQUIREMENTS_FILE = Path(__file__).resolve().parent / "requirements.txt"
# Installed by this file only, never listed in requirements.txt: a host pip-installing that file as it is would put
# a second OpenCV or onnxruntime beside the one it has, or replace its pillow-simd.
INSTALL_PY_ONLY = ("opencv-python-headless>=4.7", "onnxruntime>=1.16", "onnx>=1.14", "pillow>=9.1")
# Kept at their installed versions while installing (pip constraints), unless they are what is installed.
HELD = ("numpy", "protobuf")
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
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [parsed for number, raw in enumerate(lines, start=1)
            if (parsed := parse_requirement(raw, f"{path}:{number}")) is not None]


def parse_requirement(raw: str, where: str) -> Requirement | None:
    """One `name` or `name>=version` line (None for a blank or comment line); ValueError naming `where`."""
    line = raw.split("#", 1)[0].strip()
    if not line:
        return None
    match = _LINE.match(line)
    if match is None:
        raise ValueError(f"{where}: {raw.strip()!r} is not of the form name or name>=version")
    return Requirement(normalize(match.group(1)), match.group(2))


def all_requirements() -> list[Requirement]:
    """What dwpose-annotator needs: requirements.txt, then INSTALL_PY_ONLY."""
    return read_requirements() + [parse_requirement(line, "INSTALL_PY_ONLY") for line in INSTALL_PY_ONLY]


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
        # ROCm builds answer True too, but onnxruntime-gpu runs on CUDA only.
        return bool(torch.cuda.is_available()) and not getattr(torch.version, "hip", None)
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
    requirements = all_requirements()
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
    installed, code = install_planned(planned, launch)
    return report_installed(installed) or code


def install_planned(planned: Plan, launch) -> tuple[list, int]:
    """Install the plan with the host's pip, HELD packages held: the required specs (one by one through the web
    UI's run_pip, else in one pip call), then each optional one on its own, whose failure only says what is
    lost. Returns the (spec, module) pairs pip installed and the exit status (1 when a required one failed)."""
    optional = [pair for pair in planned.install if requirement_name(pair[0]) in OPTIONAL]
    required = [pair for pair in planned.install if pair not in optional]
    being_installed = {requirement_name(spec) for spec in planned.specs}
    held = [f"{name}=={version}" for name in HELD
            if name not in being_installed and (version := installed_version(name)) is not None]
    with tempfile.TemporaryDirectory() as folder:
        constraints = Path(folder) / "constraints.txt"
        constraints.write_text("".join(line + "\n" for line in held), encoding="utf-8")
        if launch is not None:  # the web UI's run_pip: one spec a call
            batches = [[pair] for pair in required]
        else:
            batches = [required] if required else []
        batches += [[pair] for pair in optional]
        installed, code = [], 0
        for batch in batches:
            specs = [spec for spec, _ in batch]
            if pip_install(specs, constraints, launch):
                installed += batch
            elif requirement_name(specs[0]) in OPTIONAL:
                name = requirement_name(specs[0])
                print(f"{TAG} could not install {specs[0]}; everything else works, but without {name} {OPTIONAL[name]}")
            else:
                print(f"{TAG} pip could not install {' '.join(specs)}")
                code = 1
    return installed, code


def requirement_name(spec: str) -> str:
    """The normalised distribution name of a "name>=version" spec."""
    return normalize(spec.partition(">=")[0])


def pip_install(specs: list, constraints: Path, launch) -> bool:
    """`pip install specs -c constraints` with the web UI's run_pip (which raises when pip fails), or this
    Python's pip (`-s` for ComfyUI's embedded Python, as ComfyUI-Manager calls it); True when pip succeeded."""
    if launch is not None:
        # run_pip goes through a shell: quote every argument so ">=" is not a redirection.
        arguments = " ".join(f'"{argument}"' for argument in [*specs, "-c", constraints])
        try:
            launch.run_pip(f"install {arguments}", f"{' '.join(specs)} for dwpose-annotator")
        except Exception:  # the web UI's run_pip raises RuntimeError with pip's output
            return False
        return True
    print(f"{TAG} installing: {' '.join(specs)}")
    embedded = ["-s"] if "python_embeded" in sys.executable else []
    return subprocess.call([sys.executable, *embedded, "-m", "pip", "install", *specs, "-c", str(constraints)]) == 0


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
