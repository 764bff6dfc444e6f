"""The repository as an AUTOMATIC1111 extension: scripts/dwpose_preprocessor.py registered in
sd-webui-controlnet's preprocessor registry, against the stand-in in tests/sd_webui_stub. Stand-in models
under the published file names (the crowd detector, which finds the six CROWD_BOXES_416 people, and a random
pose model) and the synthetic crowd image: no ../shared needed. install.py: test_install.py."""

import gc
import importlib
import json
import shutil
import subprocess
import sys
import weakref
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import sd_webui_stub as stub
from conftest import CROWD_BOXES_416, REPO, host_process

SCRIPT = REPO / "scripts" / "dwpose_preprocessor.py"
NAME = "dw_openpose_full"
# Module names the web UI and the two extensions own; each test starts without them and ends as it began.
ISOLATED = ("annotator", "scripts", "modules", "launch")


def _isolated(name: str) -> bool:
    return name.startswith("_dwpose_annotator_") or any(name == p or name.startswith(p + ".") for p in ISOLATED)


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
def ckpts(tmp_path_factory, crowd_yolox, random_pose):
    """The published file names, holding the stand-in crowd detector and the random pose model."""
    folder = tmp_path_factory.mktemp("ckpts")
    link(Path(crowd_yolox), folder / "yolox_l.onnx")
    link(Path(random_pose), folder / "dw-ll_ucoco_384.onnx")
    return folder


@pytest.fixture
def image(crowd_image):
    """The synthetic crowd (832 x 624, RGB): the stand-in detector finds its six CROWD_BOXES_416 people."""
    return crowd_image


@pytest.fixture
def webui(monkeypatch, tmp_path, ckpts):
    """A web UI process as the stand-in makes it: its folder on sys.path, this repository not on it."""
    monkeypatch.setenv("DWPOSE_CKPTS", str(ckpts))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with host_process(stub.WEBUI_DIR, _isolated):
        shared = importlib.import_module("modules.shared")
        shared.opts.data["control_net_modules_path"] = str(tmp_path / "controlnet_models")
        scripts = importlib.import_module("modules.scripts")

        def load(*extension_dirs):
            modules = scripts.load_scripts([str(d) for d in extension_dirs])
            assert scripts.load_errors == []
            return SimpleNamespace(**{Path(m.__file__).stem: m for m in modules})

        try:
            yield SimpleNamespace(load=load, shared=shared, models_path=tmp_path / "controlnet_models",
                                  callbacks=importlib.import_module("modules.script_callbacks"))
        finally:
            registry = sys.modules.get("scripts.supported_preprocessor")
            for p in list(registry.Preprocessor.all_processors.values()) if registry is not None else []:
                if getattr(p, "_dwpose_annotator_preprocessor", False):
                    p.unload()


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
    ours = sys.modules.get(script.PACKAGE)
    if ours is not None:
        assert Path(ours.__file__) == REPO / "annotator" / "dwpose" / "__init__.py"
        assert Path(sys.modules[script.PACKAGE + ".images"].__file__) == REPO / "annotator" / "dwpose" / "images.py"


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
def test_no_annotator_collision_in_either_order(webui, image, order):
    loaded = load_both(webui, order)
    (pose_map,) = loaded.controlnet.detected_maps([loaded.controlnet.ControlNetUnit(module=NAME, image=image)])
    assert pose_map.any()
    assert_no_collision(loaded.dwpose_preprocessor)
    # sd-webui-controlnet's other preprocessors still import their own annotator modules.
    (other,) = loaded.controlnet.detected_maps([loaded.controlnet.ControlNetUnit(module="openpose_full", image=image)])
    assert other.shape == pose_map.shape
    assert sys.modules["annotator.openpose"].OWNER == stub.OWNER
    assert_no_collision(loaded.dwpose_preprocessor)


@pytest.mark.parametrize("ours_first", [True, False])
def test_our_folder_on_sys_path_never_shadows_controlnets_annotator(webui, ours_first):
    # As Forge does (and as some launchers do), the extension root on sys.path: our `annotator` is a
    # namespace portion, so sd-webui-controlnet's regular package wins wherever ours stands.
    for name in [n for n in sys.modules if n == "annotator" or n.startswith("annotator.")]:
        del sys.modules[name]
    folders = [str(REPO), str(stub.CONTROLNET_DIR)]
    sys.path[:0] = folders if ours_first else folders[::-1]
    assert importlib.import_module("annotator").OWNER == stub.OWNER
    assert importlib.import_module("annotator.openpose").OWNER == stub.OWNER
    assert importlib.import_module("annotator.util").OWNER == stub.OWNER


# Running it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", [512, 320, 768])
def test_pose_map_follows_the_resolution_slider(webui, image, resolution):
    loaded = load_both(webui, "controlnet_first")
    unit = loaded.controlnet.ControlNetUnit(module=NAME, image=image, processor_res=resolution)
    (pose_map,) = loaded.controlnet.detected_maps([unit])
    assert isinstance(pose_map, np.ndarray) and pose_map.dtype == np.uint8
    assert pose_map.shape == (*expected_hw(*image.shape[:2], resolution), 3)
    assert pose_map.any()
    builtin = entry()._dwpose_annotator_replaced.cached_call(image, resolution=resolution).value
    assert pose_map.shape == builtin.shape  # the built-in's size for the same slider value


def test_grey_and_rgba_inputs(webui, image):
    load_both(webui, "controlnet_first")
    grey = image[:, :, 0].copy()
    rgba = np.concatenate([image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=2)
    shapes = {entry().cached_call(x, resolution=256).value.shape for x in (image, grey, rgba)}
    assert shapes == {(*expected_hw(*image.shape[:2], 256), 3)}


def test_openpose_json_goes_to_the_pose_editor(webui, image):
    loaded = load_both(webui, "controlnet_first")
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
    assert len(data["people"]) == len(boxes) == len(CROWD_BOXES_416)  # every person the stand-in finds
    for person in data["people"]:
        assert len(person["pose_keypoints_2d"]) == 18 * 3
        assert person["face_keypoints_2d"] is None or len(person["face_keypoints_2d"]) == 70 * 3
        for hand in ("hand_left_keypoints_2d", "hand_right_keypoints_2d"):
            assert person[hand] is None or len(person[hand]) == 21 * 3
        body = np.array(person["pose_keypoints_2d"]).reshape(18, 3)
        assert set(body[:, 2]) <= {0.0, 1.0} and (body[body[:, 2] == 0] == 0).all()


def test_api_detect_returns_every_person_and_unloads(webui, image):
    loaded = load_both(webui, "controlnet_first")
    response = loaded.api.detect(NAME, [image], controlnet_processor_res=512)
    (poses,) = response["poses"]
    assert len(poses["people"]) == len(CROWD_BOXES_416)  # every person the stand-in finds
    json.dumps(response["poses"])  # what FastAPI serialises
    assert response["images"][0].shape == (*expected_hw(*image.shape[:2], 512), 3)
    assert entry().detector is None and entry().loads == 1  # the endpoint unloads after detecting


def test_api_unit_without_resolution_uses_the_slider_default(webui, image):
    load_both(webui, "controlnet_first")
    assert entry().cached_call(image, resolution=-1).value.shape == (*expected_hw(*image.shape[:2], 512), 3)


# Loading and unloading ----------------------------------------------------------------------------------


def test_models_load_once_unload_when_asked_and_reload(webui, image):
    loaded = load_both(webui, "controlnet_first")
    P, ours = registry(), entry()
    unit = loaded.controlnet.ControlNetUnit(module=NAME, image=image)
    assert ours.detector is None and ours.loads == 0  # lazily: nothing loaded at registration
    loaded.controlnet.detected_maps([unit])
    loaded.controlnet.detected_maps([unit])
    assert ours.loads == 1  # loaded once for both calls
    detector = ours.detector
    assert detector.runtime.backend == "onnxruntime"  # the host's ControlNet device is the CPU here
    devices = sys.modules["modules.devices"]
    gc_calls = devices.gc_calls
    refs = [weakref.ref(detector), weakref.ref(detector.detector.session), weakref.ref(detector.pose_model.session)]
    del detector

    P.unload_unused(active_processors={ours})
    assert ours.detector is not None  # in use: kept
    other = loaded.controlnet.ControlNetUnit(module="openpose_full", image=image)
    loaded.controlnet.detected_maps([other])  # a generation without dw_openpose_full unloads it
    assert ours.detector is None
    gc.collect()
    assert all(ref() is None for ref in refs), "the detector and both onnxruntime sessions are released"
    assert devices.gc_calls == gc_calls + 1  # and the host's torch_gc hands freed GPU memory back
    assert ours.unload() is False

    (cached,) = loaded.controlnet.detected_maps([unit])  # the host's result cache: the preprocessor is not called
    assert ours.loads == 1 and ours.detector is None and cached.any()
    other_image = loaded.controlnet.ControlNetUnit(module=NAME, image=image[:, ::-1].copy())
    (pose_map,) = loaded.controlnet.detected_maps([other_image])
    assert ours.loads == 2 and ours.detector is not None and pose_map.any()
    assert ours.unload() is True and ours.detector is None


def test_script_unload_restores_the_builtin_and_a_reload_replaces_it_again(webui, image):
    load_both(webui, "controlnet_first")
    first = entry()
    builtin = first._dwpose_annotator_replaced
    first.cached_call(image, resolution=256)
    assert first.detector is not None

    webui.callbacks.script_unloaded_callback()  # "Reload UI": scripts are unloaded first
    assert entry() is builtin and first.detector is None
    assert list(registry().all_processors) == ["none", NAME, "openpose_full"]

    webui.load(stub.CONTROLNET_DIR, REPO)  # ... then loaded again
    second = entry()
    assert is_ours(second) and second is not first and second._dwpose_annotator_replaced is builtin

    second.cached_call(image, resolution=256)
    webui.load(stub.CONTROLNET_DIR, REPO)  # a reload without the unload callback
    third = entry()
    assert third is not second and third._dwpose_annotator_replaced is builtin
    assert second.detector is None  # the replaced copy of ours was unloaded


def test_uses_the_weights_controlnet_already_downloaded(webui, image, monkeypatch, ckpts, marker_pose):
    monkeypatch.delenv("DWPOSE_CKPTS")
    folder = webui.models_path / "openpose"
    link(ckpts / "yolox_l.onnx", folder / "yolox_l.onnx")
    pose = link(ckpts / "dw-ll_ucoco_384.onnx", folder / "dw-ll_ucoco_384.onnx")
    loaded = load_both(webui, "controlnet_first")
    assert loaded.dwpose_preprocessor.controlnet_model_dirs() == [folder]
    from_controlnet = entry().load().detect(image)
    assert entry().cached_call(image, resolution=256).value.any()

    # Nothing anywhere (offline): the error names every folder searched, sd-webui-controlnet's included.
    pose.unlink()
    entry().unload()
    with pytest.raises(OSError, match="not found locally") as info:
        entry().load()
    assert type(info.value).__name__ == "WeightsError" and str(folder / "dw-ll_ucoco_384.onnx") in str(info.value)

    # $DWPOSE_CKPTS comes first: here it holds another pose model, which gives other keypoints.
    mine = link(ckpts / "yolox_l.onnx", webui.models_path.parent / "mine" / "yolox_l.onnx").parent
    link(Path(marker_pose), mine / "dw-ll_ucoco_384.onnx")
    link(ckpts / "dw-ll_ucoco_384.onnx", folder / "dw-ll_ucoco_384.onnx")
    monkeypatch.setenv("DWPOSE_CKPTS", str(mine))
    chosen = entry().load().detect(image)
    np.testing.assert_array_equal(chosen.boxes, from_controlnet.boxes)
    assert not np.array_equal(chosen.exact_keypoints, from_controlnet.exact_keypoints)


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
    assert capsys.readouterr().out.count("neither sd-webui-controlnet's preprocessor registry (scripts.supported_preprocessor) nor Forge's") == 1


# Style, settings, API ------------------------------------------------------------------------------------


def test_draws_as_the_builtin_by_default_and_the_reference_on_request(webui, image):
    script = load_both(webui, "controlnet_first").dwpose_preprocessor
    webui.callbacks.ui_settings_callback()
    labels = webui.shared.opts.data_labels
    assert {"dwpose_annotator_style", "dwpose_annotator_keep_loaded", "dwpose_annotator_scale_stick_for_xinsr_cn"} <= set(labels)
    assert webui.shared.opts.dwpose_annotator_style == "sd-webui-controlnet"
    padded, (height, width) = script.resize_with_pad(image, 512)
    poses = entry().load().detect(padded)
    dwpose = script.dwpose_module()
    maps = []
    for style in ("sd-webui-controlnet", "controlnet"):
        webui.shared.opts.data["dwpose_annotator_style"] = style
        maps.append(entry()(image, resolution=512))
        assert np.array_equal(maps[-1], dwpose.draw_poses(poses, style=style)[:height, :width]), style
    assert not np.array_equal(*maps)  # the setting changes the drawing


def test_keep_loaded_setting_keeps_the_models_between_api_calls(webui, image):
    loaded = load_both(webui, "controlnet_first")
    webui.callbacks.ui_settings_callback()
    loaded.api.detect(NAME, [image])
    loaded.api.detect(NAME, [image[:, ::-1].copy()])
    assert entry().loads == 2 and entry().detector is None  # off: loaded again for every call
    webui.shared.opts.data["dwpose_annotator_keep_loaded"] = True
    loaded.api.detect(NAME, [image[::-1].copy()])
    loaded.api.detect(NAME, [image[::2].copy()])
    assert entry().loads == 3 and entry().detector is not None
    # Reload UI: the script's entry goes, and its models with it, kept loaded or not.
    ours = entry()
    webui.callbacks.script_unloaded_callback()
    assert not is_ours(entry()) and ours.detector is None


def test_a_half_loaded_controlnet_is_said_so(webui, capsys):
    script = load_both(webui, "controlnet_first").dwpose_preprocessor
    # As if sd-webui-controlnet had stopped before registering its preprocessors: no dw_openpose_full.
    for table in (registry().all_processors, registry().all_processors_by_name):
        table.pop(NAME)
    capsys.readouterr()
    script.register(sys.modules["scripts.supported_preprocessor"])
    out = capsys.readouterr().out
    assert "has no built-in dw_openpose_full" in out and "is now dwpose-annotator's" not in out


def test_the_hosts_gpu_is_preferred_through_its_torch(webui):
    # modules.devices.get_device_for("controlnet"): a CUDA or MPS device means the torch backend there.
    loaded = load_both(webui, "controlnet_first")
    script = loaded.dwpose_preprocessor
    devices = importlib.import_module("modules.devices")
    for text, expected in (("cuda:1", "cuda:1"), ("mps", "mps"), ("cpu", None), ("privateuseone:0", None)):
        webui_device, devices.controlnet_device = devices.controlnet_device, devices.Device(text)
        try:
            assert script.host_torch_device() == expected
        finally:
            devices.controlnet_device = webui_device
