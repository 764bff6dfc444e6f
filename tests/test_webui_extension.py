"""The repository as an AUTOMATIC1111 / Forge extension: scripts/dwpose_preprocessor.py registered in
sd-webui-controlnet's preprocessor registry, and install.py, against the stand-in in tests/sd_webui_stub
(the real detector yolox_nano.onnx and real photos from ../shared; a stand-in pose model)."""

import gc
import importlib
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import weakref
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

import sd_webui_stub as stub
from conftest import REPO, shared_path

SCRIPT = REPO / "scripts" / "dwpose_preprocessor.py"
INSTALL = REPO / "install.py"
NAME = "dw_openpose_full"
# Module names the web UI and the two extensions own; each test starts without them and ends as it began.
ISOLATED = ("annotator", "scripts", "modules", "launch")


def _isolated(name: str) -> bool:
    return name.startswith("_dwpose_annotator_") or any(name == p or name.startswith(p + ".") for p in ISOLATED)


def photo(*parts) -> np.ndarray:
    return np.asarray(Image.open(shared_path("photos", *parts)).convert("RGB"))


def expected_hw(height, width, resolution):
    """sd-webui-controlnet's detect size after the pad is removed: shorter side scaled to `resolution`."""
    k = resolution / min(height, width)
    return int(np.round(height * k)), int(np.round(width * k))


def link(target: Path, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.symlink_to(target)
    except OSError:
        shutil.copyfile(target, path)
    return path


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory, random_pose):
    """The published file names, holding the real YOLOX-nano detector and the stand-in pose model."""
    folder = tmp_path_factory.mktemp("ckpts")
    link(shared_path("ckpts", "yolox_nano.onnx"), folder / "yolox_l.onnx")
    link(Path(random_pose), folder / "dw-ll_ucoco_384.onnx")
    return folder


@pytest.fixture
def webui(monkeypatch, tmp_path, ckpts):
    """A web UI process as the stand-in makes it: its folder on sys.path, this repository not on it."""
    saved_modules = {name: module for name, module in sys.modules.items() if _isolated(name)}
    saved_path = list(sys.path)
    for name in saved_modules:
        del sys.modules[name]
    ours = {REPO, REPO / "tests"}
    sys.path[:] = [str(stub.WEBUI_DIR)] + [p for p in saved_path if Path(p or os.getcwd()).resolve() not in ours]
    monkeypatch.setenv("DWPOSE_CKPTS", str(ckpts))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        shared = importlib.import_module("modules.shared")
        shared.opts.data["control_net_modules_path"] = str(tmp_path / "controlnet_models")
        scripts = importlib.import_module("modules.scripts")

        def load(*extension_dirs):
            modules = scripts.load_scripts([str(d) for d in extension_dirs])
            assert scripts.load_errors == []
            return SimpleNamespace(**{Path(m.__file__).stem: m for m in modules})

        yield SimpleNamespace(load=load, shared=shared, callbacks=importlib.import_module("modules.script_callbacks"),
                              models_path=tmp_path / "controlnet_models")
    finally:
        registry = sys.modules.get("scripts.supported_preprocessor")
        if registry is not None:
            for p in list(registry.Preprocessor.all_processors.values()):
                if getattr(p, "_dwpose_annotator_preprocessor", False):
                    p.unload()
        for name in [n for n in sys.modules if _isolated(n)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        sys.path[:] = saved_path


def registry():
    return sys.modules["scripts.supported_preprocessor"].Preprocessor


def entry():
    return registry().get_preprocessor(NAME)


def is_ours(p) -> bool:
    return getattr(p, "_dwpose_annotator_preprocessor", False)


def assert_no_collision(script):
    """`annotator` is still sd-webui-controlnet's; ours lives under the script's private name."""
    assert sys.modules["annotator"].OWNER == stub.OWNER
    assert importlib.import_module("annotator.util").OWNER == stub.OWNER
    assert importlib.import_module("annotator.dwpose").OWNER == stub.OWNER
    ours = sys.modules.get(script.PACKAGE + ".dwpose")
    if ours is not None:
        assert Path(ours.__file__).parent == REPO / "annotator" / "dwpose"
        assert Path(sys.modules[script.PACKAGE + ".util"].__file__) == REPO / "annotator" / "util.py"


def load_both(webui, order):
    dirs = (stub.CONTROLNET_DIR, REPO) if order == "controlnet_first" else (REPO, stub.CONTROLNET_DIR)
    loaded = webui.load(*dirs)
    webui.callbacks.before_ui_callback()
    webui.callbacks.app_started_callback(None, None)
    return loaded


# Registration ------------------------------------------------------------------------------------------


def test_loaded_after_controlnet_it_replaces_the_builtin_at_once(webui):
    loaded = webui.load(stub.CONTROLNET_DIR, REPO)
    P = registry()
    ours = entry()
    assert is_ours(ours) and type(ours).__name__ == "PreprocessorDWposeAnnotator"
    assert P.all_processors[NAME] is ours and P.all_processors_by_name[NAME] is ours
    assert isinstance(ours, P)  # a subclass of the registry's own class, not of a second copy of the module
    builtin = ours._dwpose_annotator_replaced
    assert type(builtin).__name__ == "LegacyPreprocessor" and builtin.name == NAME

    # Declared as the built-in declares it: what the UI shows does not change.
    assert (ours.name, ours.label, ours.tags) == (builtin.name, builtin.label, builtin.tags) == (NAME, NAME, ["OpenPose"])
    assert ours.slider_resolution.gradio_update_kwargs == builtin.resolution.gradio_update_kwargs
    assert ours.slider_resolution.gradio_update_kwargs == builtin.slider_resolution.gradio_update_kwargs == dict(
        minimum=64, maximum=2048, step=8, label="Resolution", value=512, visible=True)
    for slider in ("slider_1", "slider_2", "slider_3"):
        assert getattr(ours, slider).visible is False and getattr(builtin, slider).visible is False
    for attribute in ("sorting_priority", "do_not_need_model", "show_control_mode", "returns_image", "accepts_mask"):
        assert getattr(ours, attribute) == getattr(builtin, attribute), attribute
    assert list(P.all_processors) == ["none", NAME, "openpose_full"]  # same place in the dropdown
    assert ours in P.get_filtered_preprocessors("OpenPose") and ours == builtin  # equal by name, as the registry hashes

    webui.callbacks.before_ui_callback()
    webui.callbacks.app_started_callback(None, None)
    assert entry() is ours  # the later callbacks keep it
    assert_no_collision(loaded.dwpose_preprocessor)


def test_loaded_before_controlnet_it_registers_when_the_ui_is_built(webui):
    loaded = webui.load(REPO, stub.CONTROLNET_DIR)  # "dwpose-annotator" sorts before "sd-webui-controlnet"
    assert type(entry()).__name__ == "LegacyPreprocessor"  # not yet: controlnet registers its own first
    script = loaded.dwpose_preprocessor
    assert not any(name.startswith(script.PACKAGE) for name in sys.modules)  # nothing of ours imported yet
    assert sys.modules["annotator"].OWNER == stub.OWNER  # controlnet's scripts got their own annotator
    webui.callbacks.before_ui_callback()
    ours = entry()
    assert is_ours(ours) and type(ours._dwpose_annotator_replaced).__name__ == "LegacyPreprocessor"
    webui.callbacks.app_started_callback(None, None)
    assert entry() is ours


def test_api_only_start_registers_on_app_started(webui):
    webui.load(REPO, stub.CONTROLNET_DIR)
    webui.callbacks.app_started_callback(None, None)  # --nowebui: no before_ui
    assert is_ours(entry())


@pytest.mark.parametrize("order", ["controlnet_first", "ours_first"])
def test_no_annotator_collision_in_either_order(webui, order):
    loaded = load_both(webui, order)
    image = photo("people", "woman.jpeg")
    (pose_map,) = loaded.controlnet.detected_maps([loaded.controlnet.ControlNetUnit(module=NAME, image=image)])
    assert pose_map.any()
    assert_no_collision(loaded.dwpose_preprocessor)
    # sd-webui-controlnet's other preprocessors still import their own annotator modules.
    (other,) = loaded.controlnet.detected_maps([loaded.controlnet.ControlNetUnit(module="openpose_full", image=image)])
    assert other.shape == pose_map.shape
    assert sys.modules["annotator.openpose"].OWNER == stub.OWNER
    assert_no_collision(loaded.dwpose_preprocessor)


# Running it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", [512, 320, 768])
def test_pose_map_follows_the_resolution_slider(webui, resolution):
    loaded = load_both(webui, "controlnet_first")
    image = photo("people", "woman.jpeg")  # 518 x 750
    unit = loaded.controlnet.ControlNetUnit(module=NAME, image=image, processor_res=resolution)
    (pose_map,) = loaded.controlnet.detected_maps([unit])
    assert isinstance(pose_map, np.ndarray) and pose_map.dtype == np.uint8
    assert pose_map.shape == (*expected_hw(*image.shape[:2], resolution), 3)
    assert pose_map.any()
    builtin = entry()._dwpose_annotator_replaced.cached_call(image, resolution=resolution).value
    assert pose_map.shape == builtin.shape  # the built-in's size for the same slider value


def test_grey_and_rgba_inputs(webui):
    load_both(webui, "controlnet_first")
    image = photo("people", "woman.jpeg")
    grey = image[:, :, 0].copy()
    rgba = np.concatenate([image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=2)
    shapes = {entry().cached_call(x, resolution=256).value.shape for x in (image, grey, rgba)}
    assert shapes == {(*expected_hw(*image.shape[:2], 256), 3)}


def test_openpose_json_goes_to_the_pose_editor(webui):
    loaded = load_both(webui, "controlnet_first")
    image = photo("people", "woman.jpeg")
    ui_image = {"image": image, "mask": np.zeros_like(image)}
    display, json_text = loaded.controlnet.ControlNetUiGroup.run_annotator(ui_image, NAME, 512, -1, -1)
    data = json.loads(json_text)

    builtin_json = []
    entry()._dwpose_annotator_replaced.cached_call(image, resolution=512, json_pose_callback=builtin_json.append)
    assert set(data) == set(builtin_json[0]) == {"people", "animals", "canvas_height", "canvas_width"}
    # The canvas is the padded detect image, as the built-in reports it; the preview is its unpadded part.
    assert (data["canvas_height"], data["canvas_width"]) == (builtin_json[0]["canvas_height"],
                                                           builtin_json[0]["canvas_width"])
    assert data["canvas_height"] % 64 == 0 and data["canvas_width"] % 64 == 0
    assert display.shape[:2] == expected_hw(*image.shape[:2], 512)
    assert data["canvas_height"] - 64 < display.shape[0] <= data["canvas_height"]
    assert data["animals"] == []

    script = loaded.dwpose_preprocessor
    padded, _ = script.resize_with_pad(image, 512)
    boxes, _ = entry().detector.detector(padded)
    assert len(data["people"]) == max(len(boxes), 1) >= 1  # every person found (or the whole-image box)
    for person in data["people"]:
        assert len(person["pose_keypoints_2d"]) == 18 * 3
        assert person["face_keypoints_2d"] is None or len(person["face_keypoints_2d"]) == 70 * 3
        for hand in ("hand_left_keypoints_2d", "hand_right_keypoints_2d"):
            assert person[hand] is None or len(person[hand]) == 21 * 3
        body = np.array(person["pose_keypoints_2d"]).reshape(18, 3)
        assert set(body[:, 2]) <= {0.0, 1.0} and (body[body[:, 2] == 0] == 0).all()


def test_api_detect_returns_every_person_and_unloads(webui):
    loaded = load_both(webui, "controlnet_first")
    crowd = photo("people", "girls.jpg")
    response = loaded.api.detect(NAME, [crowd], controlnet_processor_res=512)
    (poses,) = response["poses"]
    assert len(poses["people"]) >= 5
    json.dumps(response["poses"])  # what FastAPI serialises
    assert response["images"][0].shape == (*expected_hw(*crowd.shape[:2], 512), 3)
    assert entry().detector is None and entry().loads == 1  # the endpoint unloads after detecting


def test_api_unit_without_resolution_uses_the_slider_default(webui):
    load_both(webui, "controlnet_first")
    image = photo("people", "woman.jpeg")
    assert entry().cached_call(image, resolution=-1).value.shape == (*expected_hw(*image.shape[:2], 512), 3)


# Loading and unloading ----------------------------------------------------------------------------------


def test_models_load_once_unload_when_asked_and_reload(webui):
    loaded = load_both(webui, "controlnet_first")
    P, ours = registry(), entry()
    image = photo("people", "woman.jpeg")
    unit = loaded.controlnet.ControlNetUnit(module=NAME, image=image)
    assert ours.detector is None and ours.loads == 0  # lazily: nothing loaded at registration
    loaded.controlnet.detected_maps([unit])
    loaded.controlnet.detected_maps([unit])
    assert ours.loads == 1  # loaded once for both calls
    detector = ours.detector
    refs = [weakref.ref(detector), weakref.ref(detector.detector.session), weakref.ref(detector.pose_model.session)]
    del detector

    P.unload_unused(active_processors={ours})
    assert ours.detector is not None  # in use: kept
    other = loaded.controlnet.ControlNetUnit(module="openpose_full", image=image)
    loaded.controlnet.detected_maps([other])  # a generation without dw_openpose_full unloads it
    assert ours.detector is None
    gc.collect()
    assert all(ref() is None for ref in refs), "the detector and both onnxruntime sessions are released"
    assert ours.unload() is False

    (pose_map,) = loaded.controlnet.detected_maps([unit])
    assert ours.loads == 2 and ours.detector is not None and pose_map.any()
    assert ours.unload() is True and ours.detector is None


def test_script_unload_restores_the_builtin_and_a_reload_replaces_it_again(webui):
    load_both(webui, "controlnet_first")
    first = entry()
    builtin = first._dwpose_annotator_replaced
    first.cached_call(photo("people", "woman.jpeg"), resolution=256)
    assert first.detector is not None

    webui.callbacks.script_unloaded_callback()  # "Reload UI": scripts are unloaded first
    assert entry() is builtin and first.detector is None
    assert list(registry().all_processors) == ["none", NAME, "openpose_full"]

    webui.load(stub.CONTROLNET_DIR, REPO)  # ... then loaded again
    second = entry()
    assert is_ours(second) and second is not first and second._dwpose_annotator_replaced is builtin

    second.cached_call(photo("people", "woman.jpeg"), resolution=256)
    webui.load(stub.CONTROLNET_DIR, REPO)  # a reload without the unload callback
    third = entry()
    assert third is not second and third._dwpose_annotator_replaced is builtin
    assert second.detector is None  # the replaced copy of ours was unloaded


def test_uses_the_weights_controlnet_already_downloaded(webui, monkeypatch, ckpts):
    monkeypatch.delenv("DWPOSE_CKPTS")
    folder = webui.models_path / "openpose"
    det = link(ckpts / "yolox_l.onnx", folder / "yolox_l.onnx")
    pose = link(ckpts / "dw-ll_ucoco_384.onnx", folder / "dw-ll_ucoco_384.onnx")
    loaded = load_both(webui, "controlnet_first")
    found = loaded.dwpose_preprocessor.controlnet_weights()
    assert [p.name for p in found] == [det.name, pose.name]
    assert all(os.path.samefile(p, q) for p, q in zip(found, (det, pose)))
    assert entry().cached_call(photo("people", "woman.jpeg"), resolution=256).value.any()

    monkeypatch.setenv("DWPOSE_CKPTS", str(ckpts))  # an explicit choice wins
    pose.unlink()
    assert loaded.dwpose_preprocessor.controlnet_weights() is None


# Outside the web UI -------------------------------------------------------------------------------------


def test_outside_the_webui_importing_the_script_does_nothing(tmp_path):
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(SCRIPT)!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('annotator', '_dwpose', 'scripts', 'modules', 'numpy'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]" and done.stderr == ""


def test_webui_without_controlnet_registers_nothing(webui, capsys):
    loaded = webui.load(REPO)
    webui.callbacks.before_ui_callback()
    webui.callbacks.app_started_callback(None, None)
    assert "scripts.supported_preprocessor" not in sys.modules
    assert not any(name.startswith(loaded.dwpose_preprocessor.PACKAGE) for name in sys.modules)
    assert capsys.readouterr().out.count("preprocessor registry (scripts.supported_preprocessor) is not loaded") == 1


# install.py ---------------------------------------------------------------------------------------------


def load_install():
    spec = importlib.util.spec_from_file_location("dwpose_install", INSTALL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_txt_agrees_with_pyproject():
    install = load_install()
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    from_pyproject = []
    for dependency in dependencies:
        name, _, minimum = dependency.replace(" ", "").partition(">=")
        assert install._LINE.match(dependency.replace(" ", "")), f"install.py reads only name>=version: {dependency}"
        from_pyproject.append((install.normalize(name), minimum or None))
    from_file = [(r.name, r.minimum) for r in install.read_requirements()]
    assert sorted(from_file) == sorted(from_pyproject)


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
    assert install.plan(install.read_requirements(), is_installed, version_of, cuda=no_cuda_question) == []


@pytest.mark.parametrize("cuda, package", [(True, "onnxruntime-gpu>=1.16"), (False, "onnxruntime>=1.16")])
def test_plan_picks_onnxruntime_gpu_only_with_cuda_and_no_onnxruntime(cuda, package):
    installed = {k: v for k, v in EVERYTHING.items() if k != "onnxruntime"}
    install, is_installed, version_of = fake_env(installed)
    assert install.plan(install.read_requirements(), is_installed, version_of, cuda=lambda: cuda) == [package]


@pytest.mark.parametrize("build", ["onnxruntime-gpu", "onnxruntime-directml"])
def test_plan_keeps_any_onnxruntime_build_and_upgrades_it_under_its_name(build):
    installed = {k: v for k, v in EVERYTHING.items() if k != "onnxruntime"}
    install, is_installed, version_of = fake_env({**installed, build: "1.18.0"})
    assert install.plan(install.read_requirements(), is_installed, version_of, cuda=no_cuda_question) == []
    install, is_installed, version_of = fake_env({**installed, build: "1.14.1"})
    assert install.plan(install.read_requirements(), is_installed, version_of, cuda=no_cuda_question) == [
        f"{build}>=1.16"]


def test_plan_accepts_the_webuis_opencv_and_installs_what_is_missing_or_old():
    installed = {k: v for k, v in EVERYTHING.items() if k not in ("opencv-python-headless", "tqdm")}
    install, is_installed, version_of = fake_env({**installed, "opencv-python": "4.8.0.76", "numpy": "1.22.4"})
    assert install.plan(install.read_requirements(), is_installed, version_of, cuda=no_cuda_question) == [
        "numpy>=1.23", "tqdm>=4.62"]


def fake_nvidia_smi(folder: Path, output: str, code: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / "nvidia-smi"
    tool.write_text(f"#!/bin/sh\necho '{output}'\nexit {code}\n")
    tool.chmod(0o755)
    return folder


@pytest.mark.skipif(os.name == "nt", reason="a shell-script nvidia-smi")
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


@pytest.mark.skipif(os.name == "nt", reason="a shell-script nvidia-smi")
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
    assert commands == [["install", "opencv-python-headless>=4.7"], ["install", "onnxruntime-gpu>=1.16"]]
    assert all("dwpose-annotator" in call["desc"] for call in pip_log(log))

    log.unlink()
    done = run_install(cwd=stub.WEBUI_DIR, env_extra={**env, "DWPOSE_ONNXRUNTIME": "cpu"}, pythonpath=[stub.WEBUI_DIR])
    assert [shlex.split(call["command"])[1] for call in pip_log(log)] == ["opencv-python-headless>=4.7",
                                                                          "onnxruntime>=1.16"]

    log.unlink()
    done = run_install(cwd=stub.WEBUI_DIR, env_extra={"SD_WEBUI_STUB_PIP_LOG": str(log)}, pythonpath=[stub.WEBUI_DIR])
    assert done.returncode == 0 and pip_log(log) == []
    assert "all requirements are installed" in done.stdout


@pytest.fixture
def fake_pip(tmp_path):
    """A `pip` package that shadows the real one for `python -m pip` and records its arguments."""
    folder = tmp_path / "fake_pip"
    (folder / "pip").mkdir(parents=True)
    (folder / "pip" / "__init__.py").write_text("")
    (folder / "pip" / "__main__.py").write_text(
        "import json, os, sys\n"
        "with open(os.environ['FAKE_PIP_LOG'], 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
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
    assert "would install: tqdm>=4.62" in done.stdout and pip_log(fake_pip.log) == []

    done = run_install(cwd=tmp_path, env_extra=env, pythonpath=[fake_pip.folder], prelude=HIDE_TQDM)
    assert done.returncode == 0, done.stderr
    assert pip_log(fake_pip.log) == [["install", "tqdm>=4.62"]]  # sys.executable -m pip, no shell


def test_install_rejects_unknown_arguments(tmp_path):
    done = run_install("--bogus", cwd=tmp_path, env_extra={})
    assert done.returncode == 2 and "--dry-run" in done.stdout
