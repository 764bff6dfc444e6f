"""The repository as a Forge extension, against the stand-in in tests/forge_stub: it must never break
Forge's own ControlNet (its `annotator` namespace package), and it registers dw_openpose_full in Forge's
registry. Stand-in models only (the published file names in a models folder)."""

import importlib
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import forge_stub
from conftest import CROWD_SIZE, REPO, host_process

NAME = "dw_openpose_full"
ISOLATED = ("annotator", "modules", "modules_forge", "lib_controlnet", "legacy_preprocessors", "scripts", "launch")


def _isolated(name: str) -> bool:
    return (name.startswith("_dwpose_annotator_") or name.endswith(".py")
            or any(name == p or name.startswith(p + ".") for p in ISOLATED))


@pytest.fixture
def forge(monkeypatch, tmp_path, crowd_yolox, random_pose):
    """A Forge process: its folder first on sys.path, this repository not on it; preprocessor models in
    tmp_path/ControlNetPreprocessor, holding the stand-ins under the published names."""
    models = tmp_path / "ControlNetPreprocessor"
    (models / "openpose").mkdir(parents=True)
    shutil.copy(crowd_yolox, models / "openpose" / "yolox_l.onnx")
    shutil.copy(random_pose, models / "openpose" / "dw-ll_ucoco_384.onnx")
    monkeypatch.setenv("FORGE_STUB_PREPROCESSOR_DIR", str(models))
    monkeypatch.delenv("DWPOSE_CKPTS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with host_process(forge_stub.WEBUI_DIR, _isolated):
        scripts = importlib.import_module("modules.scripts")

        def load(*extension_dirs):
            loaded = scripts.load_scripts([str(d) for d in extension_dirs])
            return SimpleNamespace(errors=list(scripts.load_errors), modules={Path(m.__file__).stem: m for m in loaded})

        try:
            yield SimpleNamespace(load=load, models=models,
                                  callbacks=importlib.import_module("modules.script_callbacks"))
        finally:
            shared = sys.modules.get("modules_forge.shared")
            for p in list(getattr(shared, "supported_preprocessors", {}).values()):
                if getattr(p, "_dwpose_annotator_preprocessor", False):
                    p.unload()


def registry():
    return sys.modules["modules_forge.shared"].supported_preprocessors


def forge_api():
    return importlib.import_module("lib_controlnet.api")


def builtins_only(forge):
    loaded = forge.load(*forge_stub.BUILTINS)
    assert loaded.errors == []
    return forge_api().module_list()["module_list"], {name: type(p).__name__ for name, p in registry().items()}


def test_a_regular_annotator_package_breaks_forge_as_reported(forge, tmp_path):
    """The stand-in reproduces the defect: an extension whose `annotator` has an __init__.py shadows Forge's
    namespace package, and Forge's ControlNet no longer loads."""
    bad = tmp_path / "extensions" / "bad-extension"
    (bad / "annotator").mkdir(parents=True)
    (bad / "annotator" / "__init__.py").write_text("")
    (bad / "scripts").mkdir()
    (bad / "scripts" / "nothing.py").write_text("")
    loaded = forge.load(*forge_stub.BUILTINS, bad)
    failed = {Path(path).name: error for path, error in loaded.errors}
    assert "No module named 'annotator.openpose'" in failed["controlnet.py"]
    assert "No module named 'annotator.normalbae'" in failed["preprocessor_normalbae.py"]
    assert "No module named 'annotator.lama'" in failed["preprocessor_inpaint.py"]


@pytest.mark.parametrize("ours_first", [False, True])
def test_installing_it_keeps_every_forge_preprocessor_and_replaces_dw_openpose_full(forge, ours_first):
    expected_names, expected_kinds = builtins_only(forge)
    for name in [n for n in sys.modules if _isolated(n) and not n.startswith(("modules.", "modules"))]:
        del sys.modules[name]  # a fresh start of the extensions (Forge's modules stay)
    sys.modules["modules_forge.shared"].supported_preprocessors.clear()
    importlib.reload(sys.modules["modules_forge.supported_preprocessor"])  # registers "None" again

    dirs = [REPO, *forge_stub.BUILTINS] if ours_first else [*forge_stub.BUILTINS, REPO]
    loaded = forge.load(*dirs)
    assert loaded.errors == []
    forge.callbacks.before_ui_callback()
    forge.callbacks.app_started_callback(None, None)
    # Forge's own ControlNet and preprocessors still import their `annotator` modules.
    assert importlib.import_module("annotator.openpose").OWNER == forge_stub.OWNER
    assert importlib.import_module("annotator.util").OWNER == forge_stub.OWNER
    assert importlib.import_module("annotator.normalbae").OWNER == forge_stub.OWNER
    assert "lib_controlnet.controlnet_ui.openpose_editor" in sys.modules
    # ... and our package is importable as annotator.dwpose beside them (a namespace portion).
    assert Path(importlib.import_module("annotator.dwpose").__file__) == REPO / "annotator" / "dwpose" / "__init__.py"
    assert forge_api().module_list()["module_list"] == expected_names  # nothing lost, same order
    kinds = {name: type(p).__name__ for name, p in registry().items()}
    assert kinds == {**expected_kinds, NAME: "ForgeDWposeAnnotator"}


def test_declared_as_forges_builtin(forge):
    forge.load(*forge_stub.BUILTINS, REPO)
    ours = registry()[NAME]
    builtin = ours._dwpose_annotator_replaced
    assert type(builtin).__name__ == "LegacyPreprocessor"
    assert (ours.name, ours.tags, ours.sorting_priority) == (builtin.name, builtin.tags, builtin.sorting_priority)
    assert ours.model_filename_filters == ["openpose", "densepose"]
    assert ours.slider_resolution.gradio_update_kwargs == builtin.slider_resolution.gradio_update_kwargs
    for slider in ("slider_1", "slider_2", "slider_3"):
        assert getattr(ours, slider).gradio_update_kwargs["visible"] is False
    assert (ours.do_not_need_model, ours.show_control_mode) == (False, True)


def test_detect_api_gives_the_library_pose_map_and_the_padded_json(forge, crowd_image):
    forge.load(*forge_stub.BUILTINS, REPO)
    rgba = np.concatenate([crowd_image, np.full(crowd_image.shape[:2] + (1,), 255, np.uint8)], axis=2)
    result = forge_api().detect(NAME, [rgba], controlnet_processor_res=300)
    (pose_map,), (pose_json,) = result["images"], result["poses"]

    # The same steps by hand: Forge's resize with pad, our detector, the sd-webui-controlnet style.
    from annotator.dwpose import DWposeDetector, draw_poses

    utils = importlib.import_module("modules_forge.utils")
    padded, remove_pad = utils.resize_image_with_pad(crowd_image, 300)
    detector = DWposeDetector(forge.models / "openpose" / "yolox_l.onnx",
                              forge.models / "openpose" / "dw-ll_ucoco_384.onnx")
    poses = detector.detect(padded)
    assert len(poses) == 6
    expected = remove_pad(draw_poses(poses, style="sd-webui-controlnet"))
    width, height = CROWD_SIZE
    assert pose_map.shape == (300, round(width * 300 / height), 3) == expected.shape
    assert np.array_equal(pose_map, expected)
    assert pose_json == poses.to_openpose_json()
    assert (pose_json["canvas_height"], pose_json["canvas_width"]) == padded.shape[:2]
    assert padded.shape[0] % 64 == 0 and padded.shape[1] % 64 == 0


def test_style_setting_and_weights_from_forges_models_folder(forge, crowd_image):
    forge.load(*forge_stub.BUILTINS, REPO)
    ours = registry()[NAME]
    script = sys.modules["dwpose_preprocessor.py"]
    assert script.controlnet_model_dirs() == [forge.models / "openpose"]
    webui_style = ours(crowd_image, resolution=256)
    shared = importlib.import_module("modules.shared")
    shared.opts.data[script.STYLE] = "controlnet"
    try:
        reference_style = ours(crowd_image, resolution=256)
    finally:
        del shared.opts.data[script.STYLE]
    assert webui_style.shape == reference_style.shape and not np.array_equal(webui_style, reference_style)
    assert ours.loads == 1


def test_without_forges_builtin_it_registers_as_a_new_entry(forge):
    forge.load(REPO)  # Forge without forge_legacy_preprocessors: no built-in dw_openpose_full to replace
    assert type(registry()[NAME]).__name__ == "ForgeDWposeAnnotator"
    assert registry()[NAME]._dwpose_annotator_replaced is None
