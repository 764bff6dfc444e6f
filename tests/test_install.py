"""install.py, the web UI extension's installer: what it plans to install, and running it under the web
UI stand-in (tests/sd_webui_stub) and on its own, with pip replaced by recorders."""

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

import sd_webui_stub as stub
from conftest import REPO

INSTALL = REPO / "install.py"
TAG = "[dwpose-annotator]"


def load_install():
    spec = importlib.util.spec_from_file_location("dwpose_install", INSTALL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_agree_with_pyproject():
    install = load_install()
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    from_pyproject = []
    for dependency in dependencies:
        name, _, minimum = dependency.replace(" ", "").partition(">=")
        assert install._LINE.match(dependency.replace(" ", "")), f"install.py reads only name>=version: {dependency}"
        from_pyproject.append((install.normalize(name), minimum or None))
    assert sorted((r.name, r.minimum) for r in install.all_requirements()) == sorted(from_pyproject)


def test_requirements_txt_lists_only_what_a_host_may_pip_install_line_by_line():
    """ComfyUI-Manager (manager_core.py execute_install_script) and comfy-cli run `pip install <line>` for each
    line of requirements.txt, before install.py: a package another distribution can provide (OpenCV's four
    wheels, onnxruntime's builds, pillow-simd) or one the package can lose (onnx) must not be there."""
    install = load_install()
    from_file = install.read_requirements()
    assert from_file and all(r.minimum for r in from_file)  # lower bounds only: nothing is ever downgraded
    for requirement in from_file:
        assert requirement.name not in install.PROVIDERS and requirement.name not in install.OPTIONAL
        assert not any(requirement.name in builds for builds in install.PROVIDERS.values()), requirement


def fake_env(installed: dict):
    """is_installed / version_of over a made-up environment {distribution: version}."""
    install = load_install()
    modules = {install.MODULES.get(install.normalize(d), d): v for d, v in installed.items()}
    provider_modules = {"opencv-python": "cv2", "opencv-contrib-python": "cv2", "onnxruntime-gpu": "onnxruntime",
                        "onnxruntime-directml": "onnxruntime"}
    modules.update({provider_modules[d]: v for d, v in installed.items() if d in provider_modules})
    return install, modules.__contains__, installed.get


EVERYTHING = {"numpy": "1.26.2", "opencv-python-headless": "4.8.0", "onnxruntime": "1.17.1", "onnx": "1.16.0", "pillow": "9.5.0",
              "huggingface-hub": "0.24.0", "tqdm": "4.66.1"}


def no_cuda_question():
    raise AssertionError("CUDA is only asked about when no onnxruntime is installed")


def test_plan_with_everything_installed_is_empty():
    install, is_installed, version_of = fake_env(EVERYTHING)
    assert install.plan(install.all_requirements(), is_installed, version_of, cuda=no_cuda_question).specs == []


@pytest.mark.parametrize("cuda, package", [(True, "onnxruntime-gpu>=1.16"), (False, "onnxruntime>=1.16")])
def test_plan_picks_onnxruntime_gpu_only_with_cuda_and_no_onnxruntime(cuda, package):
    installed = {k: v for k, v in EVERYTHING.items() if k != "onnxruntime"}
    install, is_installed, version_of = fake_env(installed)
    assert install.plan(install.all_requirements(), is_installed, version_of, cuda=lambda: cuda).specs == [package]


@pytest.mark.parametrize("build", ["onnxruntime-gpu", "onnxruntime-directml"])
def test_plan_keeps_any_onnxruntime_build_and_upgrades_it_under_its_name(build):
    installed = {k: v for k, v in EVERYTHING.items() if k != "onnxruntime"}
    install, is_installed, version_of = fake_env({**installed, build: "1.18.0"})
    assert install.plan(install.all_requirements(), is_installed, version_of, cuda=no_cuda_question).specs == []
    install, is_installed, version_of = fake_env({**installed, build: "1.14.1"})
    assert install.plan(install.all_requirements(), is_installed, version_of, cuda=no_cuda_question).specs == [
        f"{build}>=1.16"]


def test_plan_accepts_the_webuis_opencv_and_installs_what_is_missing_or_old():
    installed = {k: v for k, v in EVERYTHING.items() if k not in ("opencv-python-headless", "tqdm")}
    install, is_installed, version_of = fake_env({**installed, "opencv-python": "4.8.0.76", "numpy": "1.22.4"})
    assert install.plan(install.all_requirements(), is_installed, version_of, cuda=no_cuda_question).specs == [
        "numpy>=1.23", "tqdm>=4.62"]


def fake_nvidia_smi(folder: Path, output: str, code: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / "nvidia-smi"
    tool.write_text(f"#!/bin/sh\necho '{output}'\nexit {code}\n")
    tool.chmod(0o755)
    return folder


@pytest.mark.requires_posix  # a shell-script nvidia-smi
def test_cuda_detection_without_torch_asks_nvidia_smi(monkeypatch, tmp_path):
    install = load_install()
    monkeypatch.setattr(install, "torch_cuda", lambda: None)  # torch not importable
    monkeypatch.delenv("DWPOSE_ONNXRUNTIME", raising=False)
    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "gpu", "GPU 0: NVIDIA H100 (UUID: GPU-1)")))
    assert install.cuda_available() is True
    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "broken", "NVIDIA-SMI has failed", code=9)))
    assert install.cuda_available() is False
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert install.cuda_available() is False
    monkeypatch.setenv("DWPOSE_ONNXRUNTIME", "gpu")
    assert install.cuda_available() is True
    monkeypatch.setattr(install, "torch_cuda", lambda: True)
    monkeypatch.setenv("DWPOSE_ONNXRUNTIME", "cpu")
    assert install.cuda_available() is False


@pytest.mark.requires_posix  # a shell-script nvidia-smi
def test_cuda_detection_prefers_torch_and_never_imports_a_missing_one(monkeypatch, tmp_path):
    install = load_install()
    monkeypatch.delenv("DWPOSE_ONNXRUNTIME", raising=False)
    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "gpu", "GPU 0: NVIDIA H100")))
    monkeypatch.setattr(install, "torch_cuda", lambda: False)  # e.g. a CPU build of torch
    assert install.cuda_available() is False
    monkeypatch.undo()
    install = load_install()
    real = install.module_installed
    monkeypatch.setattr(install, "module_installed", lambda name: False if name == "torch" else real(name))
    assert install.torch_cuda() is None


def run_install(*args, cwd, env_extra, pythonpath=None, prelude=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SD_WEBUI_STUB_", "DWPOSE_", "PYTHONPATH"))}
    env.update(env_extra)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    if prelude is None:
        command = [sys.executable, str(INSTALL), *args]
    else:  # code run first in the same interpreter (e.g. to hide a module), then install.py as __main__
        command = [sys.executable, "-c", prelude + f"\nimport runpy, sys\nsys.argv = {[str(INSTALL), *args]!r}\n"
                   f"runpy.run_path({str(INSTALL)!r}, run_name='__main__')\n"]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def pip_log(path: Path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_install_under_the_webui_uses_launch(tmp_path):
    log = tmp_path / "pip.jsonl"
    # As modules/launch_utils.run_extension_installer runs it: PYTHONPATH = the web UI folder.
    env = {"SD_WEBUI_STUB_PIP_LOG": str(log), "SD_WEBUI_STUB_MISSING": "onnxruntime,cv2", "DWPOSE_ONNXRUNTIME": "gpu"}
    done = run_install(cwd=stub.WEBUI_DIR, env_extra=env, pythonpath=[stub.WEBUI_DIR])
    assert done.returncode == 0, done.stderr
    commands = [shlex.split(call["command"]) for call in pip_log(log)]  # run_pip goes through a shell
    assert [command[:2] for command in commands] == [["install", "opencv-python-headless>=4.7"],
                                                     ["install", "onnxruntime-gpu>=1.16"]]
    assert all(command[2] == "-c" and command[3].endswith("constraints.txt") for command in commands)
    assert all("dwpose-annotator" in call["desc"] for call in pip_log(log))

    log.unlink()
    done = run_install(cwd=stub.WEBUI_DIR, env_extra={**env, "DWPOSE_ONNXRUNTIME": "cpu"}, pythonpath=[stub.WEBUI_DIR])
    assert done.returncode == 0, done.stderr
    assert [shlex.split(call["command"])[1] for call in pip_log(log)] == ["opencv-python-headless>=4.7",
                                                                          "onnxruntime>=1.16"]

    log.unlink()
    done = run_install(cwd=stub.WEBUI_DIR, env_extra={"SD_WEBUI_STUB_PIP_LOG": str(log)}, pythonpath=[stub.WEBUI_DIR])
    assert done.returncode == 0, done.stderr
    assert pip_log(log) == []
    assert "all requirements are installed" in done.stdout


@pytest.fixture
def fake_pip(tmp_path):
    """A `pip` package that shadows the real one for `python -m pip` and records its arguments."""
    folder = tmp_path / "fake_pip"
    (folder / "pip").mkdir(parents=True)
    (folder / "pip" / "__init__.py").write_text("")
    (folder / "pip" / "__main__.py").write_text(  # a constraints file (-c) is recorded by its content
        "import json, os, sys\n"
        "args = sys.argv[1:]\n"
        "if '-c' in args:\n"
        "    args[args.index('-c') + 1] = open(args[args.index('-c') + 1]).read()\n"
        "with open(os.environ['FAKE_PIP_LOG'], 'a') as f:\n"
        "    f.write(json.dumps(args) + '\\n')\n"
        "fails = os.environ.get('FAKE_PIP_FAILS')  # a spec that pip fails to install\n"
        "sys.exit(1 if fails and fails in args else 0)\n"
    )
    return SimpleNamespace(folder=folder, log=tmp_path / "fake_pip.jsonl")


HIDE_TQDM = (
    "import sys\n"
    "class HideTqdm:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'tqdm':\n"
    "            raise ModuleNotFoundError(name)\n"
    "sys.meta_path.insert(0, HideTqdm())\n"
)


def test_install_standalone(tmp_path, fake_pip):
    env = {"FAKE_PIP_LOG": str(fake_pip.log)}
    done = run_install(cwd=tmp_path, env_extra=env, pythonpath=[fake_pip.folder])  # python install.py
    assert done.returncode == 0, done.stderr
    assert "all requirements are installed" in done.stdout and pip_log(fake_pip.log) == []

    done = run_install("--dry-run", cwd=tmp_path, env_extra=env, pythonpath=[fake_pip.folder], prelude=HIDE_TQDM)
    assert done.returncode == 0, done.stderr
    assert "would install: tqdm>=4.62" in done.stdout and pip_log(fake_pip.log) == []
    done = run_install(cwd=tmp_path, env_extra={**env, "DWPOSE_INSTALL_DRY_RUN": "1"}, pythonpath=[fake_pip.folder],
                       prelude=HIDE_TQDM)
    assert done.returncode == 0, done.stderr
    assert "would install: tqdm>=4.62" in done.stdout and pip_log(fake_pip.log) == []

    done = run_install(cwd=tmp_path, env_extra=env, pythonpath=[fake_pip.folder], prelude=HIDE_TQDM)
    assert done.returncode == 0, done.stderr
    # sys.executable -m pip, no shell; numpy and protobuf held where they are
    import importlib.metadata

    held = "".join(f"{name}=={importlib.metadata.version(name)}\n" for name in ("numpy", "protobuf"))
    assert pip_log(fake_pip.log) == [["install", "tqdm>=4.62", "-c", held]]


def test_install_rejects_unknown_arguments(tmp_path):
    done = run_install("--bogus", cwd=tmp_path, env_extra={})
    assert done.returncode == 2, done.stderr
    assert "--dry-run" in done.stdout


def test_plan_never_fights_a_host_that_pins_protobuf():
    installed = {k: v for k, v in EVERYTHING.items() if k != "onnx"}
    install, is_installed, version_of = fake_env(installed)
    planned = install.plan(install.all_requirements(), is_installed, version_of, cuda=no_cuda_question,
                           pins={"protobuf": "3.20.0", "torch": "2.1.2"})
    assert planned.specs == [] and planned.problems == []
    ((spec, why),) = planned.skipped
    assert spec == "onnx>=1.14" and "protobuf==3.20.0" in why and "one person at a time" in why
    # Without a pin, a missing onnx is installed as usual.
    assert install.plan(install.all_requirements(), is_installed, version_of, cuda=no_cuda_question).specs == [
        "onnx>=1.14"]


def test_plan_leaves_a_broken_optional_module_alone_and_reports_a_broken_required_one():
    install, is_installed, version_of = fake_env(EVERYTHING)
    errors = {"onnx": "ImportError: cannot import name 'runtime_version' from 'google.protobuf'",
              "cv2": "ImportError: libGL.so.1: cannot open shared object file"}
    planned = install.plan(install.all_requirements(), is_installed, version_of, cuda=no_cuda_question,
                           errors=errors)
    assert planned.specs == []
    assert [spec for spec, _ in planned.skipped] == ["onnx>=1.14"] and "runtime_version" in planned.skipped[0][1]
    assert planned.problems == [("cv2", errors["cv2"])]


def test_import_errors_are_found_in_a_fresh_interpreter(tmp_path, monkeypatch):
    install = load_install()
    (tmp_path / "needs_newer_protobuf.py").write_text("raise ImportError(\"cannot import name 'runtime_version'\")\n")
    (tmp_path / "fine_module.py").write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    errors = install.import_errors(["needs_newer_protobuf", "fine_module", "json"])
    assert errors == {"needs_newer_protobuf": "ImportError: cannot import name 'runtime_version'"}


def test_host_pins_are_read_from_requirements_versions(tmp_path):
    install = load_install()
    (tmp_path / "requirements_versions.txt").write_text("Pillow==9.5.0\nprotobuf==3.20.0  # pinned\ntorch\n")
    assert install.host_pins(tmp_path) == {"pillow": "9.5.0", "protobuf": "3.20.0"}
    assert install.host_pins(tmp_path / "absent") == {} and install.host_pins(None) == {}


def broken_onnx(folder: Path) -> Path:
    """A folder for PYTHONPATH whose `onnx` fails as onnx does beside the web UI's protobuf 3.20.0."""
    (folder / "onnx").mkdir(parents=True)
    (folder / "onnx" / "__init__.py").write_text(
        "raise ImportError(\"cannot import name 'runtime_version' from 'google.protobuf'\")\n")
    return folder


def test_install_under_a_webui_that_pins_protobuf_skips_onnx_and_says_why(tmp_path):
    webui = tmp_path / "webui"
    shutil.copytree(stub.WEBUI_DIR / "modules", webui / "modules")
    shutil.copy(stub.WEBUI_DIR / "launch.py", webui / "launch.py")
    (webui / "requirements_versions.txt").write_text("protobuf==3.20.0\n")
    log = tmp_path / "pip.jsonl"
    done = run_install(cwd=webui, env_extra={"SD_WEBUI_STUB_PIP_LOG": str(log)},
                       pythonpath=[webui, broken_onnx(tmp_path / "site")])
    assert done.returncode == 0, done.stderr
    assert pip_log(log) == []  # nothing installed, onnx and protobuf left as they are
    assert "skipped onnx>=1.14: it is installed but does not import (ImportError: cannot import name " \
           "'runtime_version'" in done.stdout
    assert "all requirements are installed" not in done.stdout

    done = run_install(cwd=webui, env_extra={"SD_WEBUI_STUB_PIP_LOG": str(log), "SD_WEBUI_STUB_MISSING": "onnx"},
                       pythonpath=[webui])
    assert done.returncode == 0, done.stderr
    assert pip_log(log) == [] and ("skipped onnx>=1.14: the web UI pins protobuf==3.20.0 and onnx needs a newer "
                                   "protobuf, so installing it would change the web UI's protobuf; everything else "
                                   "works, but without onnx pose models exported with a fixed batch of 1 then run "
                                   "one person at a time") in done.stdout


def test_install_reports_what_was_installed_and_whether_it_imports(tmp_path, fake_pip):
    env = {"FAKE_PIP_LOG": str(fake_pip.log)}
    done = run_install(cwd=tmp_path, env_extra=env, pythonpath=[fake_pip.folder], prelude=HIDE_TQDM)
    assert done.returncode == 0, done.stderr
    assert f"{TAG} installed tqdm>=4.62" in done.stdout  # the recorder installed nothing, but tqdm is there


def test_onnx_is_installed_on_its_own_and_its_failure_only_says_what_is_lost(tmp_path, fake_pip):
    hide = HIDE_TQDM.replace("if name == 'tqdm':", "if name in ('tqdm', 'onnx'):")
    env = {"FAKE_PIP_LOG": str(fake_pip.log), "FAKE_PIP_FAILS": "onnx>=1.14"}
    done = run_install(cwd=tmp_path, env_extra=env, pythonpath=[fake_pip.folder], prelude=hide)
    assert [args[:2] for args in pip_log(fake_pip.log)] == [["install", "tqdm>=4.62"], ["install", "onnx>=1.14"]]
    assert done.returncode == 0, done.stdout + done.stderr  # the run goes on: onnx is optional
    assert "could not install onnx>=1.14; everything else works, but without onnx pose models exported" in done.stdout
    fake_pip.log.unlink()
    done = run_install(cwd=tmp_path, env_extra={**env, "FAKE_PIP_FAILS": "tqdm>=4.62"}, pythonpath=[fake_pip.folder],
                       prelude=hide)
    assert done.returncode == 1 and "pip could not install tqdm>=4.62" in done.stdout  # a required one failed
