"""dwpose-annotator as the `dw_openpose_full` preprocessor of sd-webui-controlnet (AUTOMATIC1111 / Forge).

The web UI imports this file while it loads extension scripts. With sd-webui-controlnet present, a
`dw_openpose_full` Preprocessor backed by this repository's DWposeDetector replaces the built-in
entry in sd-webui-controlnet's registry (`scripts.supported_preprocessor.Preprocessor`), with the same
name, label, tag and resolution slider. The models are loaded on the first call, released when the
web UI unloads unused preprocessors, and loaded again on the next call. Outside the web UI importing
this file does nothing.

Load order: when sd-webui-controlnet's scripts were loaded before this one, the entry is replaced at
once; otherwise on the web UI's before_ui / app_started callbacks, after every extension is loaded
(registering earlier would make sd-webui-controlnet's own registration of dw_openpose_full fail).
On script unload (Reload UI) the built-in entry is put back.

Our `annotator` package is loaded under a private module name (annotator/dwpose/private_import.py),
so sd-webui-controlnet's own top-level `annotator` package (it has annotator/util.py too) stays what
`annotator` means.

Weights, file by file: $DWPOSE_CKPTS when set; else the copies sd-webui-controlnet already downloaded
for its built-in (<its annotator models path>/openpose/yolox_l.onnx and dw-ll_ucoco_384.onnx); else
annotator/ckpts in this folder, the Hugging Face cache, then a download from yzd-v/DWPose.
"""

from __future__ import annotations

import importlib
import runpy
import sys
import threading
from pathlib import Path

NAME = "dw_openpose_full"
LABEL = "dw_openpose_full"
TAGS = ["OpenPose"]
TAG = "[dwpose-annotator]"
REGISTRY_MODULE = "scripts.supported_preprocessor"
CALLBACKS_MODULE = "modules.script_callbacks"
EXTENSION_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = EXTENSION_DIR / "annotator" / "dwpose"
_private_import = runpy.run_path(str(PACKAGE_DIR / "private_import.py"))
PACKAGE = _private_import["private_name"](PACKAGE_DIR)  # the private module name of our annotator/dwpose
MARKER = "_dwpose_annotator_preprocessor"  # set on our registered instances, across script reloads
REPLACED = "_dwpose_annotator_replaced"  # on our instance: the entry it replaced (None if there was none)


def dwpose_module():
    """Our `annotator.dwpose` (DWposeDetector, draw_poses, ...), under the private package name."""
    return _private_import["import_private"](PACKAGE_DIR)


def resize_with_pad(image, resolution: int):
    """sd-webui-controlnet's preprocessor resize: shorter side scaled to `resolution` (each side
    round(side * k); cubic up, area down), then edge-padded at the bottom and right to multiples of 64.
    Returns the padded image and the (height, width) to crop the result back to."""
    import cv2
    import numpy as np

    height, width = image.shape[:2]
    k = float(resolution) / float(min(height, width))
    target_h, target_w = int(np.round(height * k)), int(np.round(width * k))
    if target_h < 1 or target_w < 1:
        raise ValueError(f"resolution {resolution} turns a {width}x{height} image into {target_w}x{target_h}")
    interpolation = cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA
    resized = cv2.resize(image, (target_w, target_h), interpolation=interpolation)
    pad_h, pad_w = -target_h % 64, -target_w % 64
    padded = np.pad(resized, [[0, pad_h], [0, pad_w], [0, 0]], mode="edge")
    return np.ascontiguousarray(padded), (target_h, target_w)


def controlnet_model_dirs() -> list:
    """The folder where sd-webui-controlnet keeps the DWPose files of its built-in, if it has one."""
    annotator_path = sys.modules.get("annotator.annotator_path")
    if annotator_path is None and "annotator" in sys.modules:  # sd-webui-controlnet's package (ours is private)
        try:
            annotator_path = importlib.import_module("annotator.annotator_path")
        except Exception:
            return []
    models_path = getattr(annotator_path, "models_path", None)
    if not models_path:
        return []
    folder = Path(models_path) / "openpose"
    return [folder] if folder.is_dir() else []


def load_detector():
    """A DWposeDetector with the weights found as the module docstring says."""
    return dwpose_module().DWposeDetector.from_pretrained(search_dirs=controlnet_model_dirs())


def preprocessor_class(registry):
    """The Preprocessor subclass for the registry module `registry` (its base class is defined there)."""
    base = registry.Preprocessor
    parameter = registry.PreprocessorParameter

    class PreprocessorDWposeAnnotator(base):
        """`dw_openpose_full` with dwpose-annotator's detector, declared as the built-in declares it."""

        def __init__(self):
            super().__init__(name=NAME)
            self._label = LABEL
            self.tags = list(TAGS)
            self.slider_resolution = parameter(
                label="Resolution", minimum=64, maximum=2048, value=512, step=8, visible=True
            )
            self.slider_1 = parameter(visible=False)
            self.slider_2 = parameter(visible=False)
            self.slider_3 = parameter(visible=False)
            self.sorting_priority = 0
            self.do_not_need_model = False
            self.show_control_mode = True
            self.returns_image = True
            # The DWposeDetector once loaded. Not in `model`, which sd-webui-controlnet keeps for torch modules.
            self.detector = None
            self.loads = 0  # how many times the models were loaded
            self._lock = threading.Lock()
            setattr(self, MARKER, True)
            setattr(self, REPLACED, None)

        def load(self):
            with self._lock:
                if self.detector is None:
                    self.detector = load_detector()
                    self.loads += 1
                return self.detector

        def unload(self) -> bool:
            """Release the detector and its onnxruntime sessions; True if anything was loaded. With the
            setting KEEP_LOADED on, the models stay loaded (sd-webui-controlnet unloads after every
            /controlnet/detect call, so each API call would load them again)."""
            if keep_loaded():
                return False
            with self._lock:
                loaded, self.detector = self.detector is not None, None
            return loaded

        def __call__(self, input_image, resolution=512, slider_1=None, slider_2=None, slider_3=None,
                     json_pose_callback=None, **kwargs):
            """The pose map (HxWx3 uint8 RGB, shorter side `resolution`); the OpenPose JSON dict of the
            people found goes to `json_pose_callback`, as the built-in does."""
            import numpy as np

            dwpose = dwpose_module()
            images = _private_import["import_private"](PACKAGE_DIR, "images")
            if resolution is None or resolution <= 0:  # an API unit without processor_res
                resolution = self.slider_resolution.value
            if isinstance(input_image, np.ndarray):  # the registry's cache hands in an ndarray subclass
                input_image = np.asarray(input_image)
            image = images.HWC3(input_image)
            padded, (height, width) = resize_with_pad(image, int(resolution))
            poses = self.load().detect(padded)
            if json_pose_callback is not None:
                json_pose_callback(poses.to_openpose_json())
            canvas = dwpose.draw_poses(poses, dwpose.PoseMapOptions())  # body, hands and face, as the built-in
            return canvas[:height, :width].copy()

    return PreprocessorDWposeAnnotator


def is_ours(preprocessor) -> bool:
    return bool(getattr(preprocessor, MARKER, False))


def registry_module():
    """sd-webui-controlnet's registry module as its own scripts imported it, or None."""
    registry = sys.modules.get(REGISTRY_MODULE)
    base = getattr(registry, "Preprocessor", None)
    if base is None or not isinstance(getattr(base, "all_processors", None), dict):
        return None
    return registry


def register(registry) -> object:
    """Put our preprocessor in place of the current `dw_openpose_full` entry (keeping its position)."""
    base = registry.Preprocessor
    current = base.all_processors_by_name.get(NAME)
    replaced = current
    if is_ours(current):  # registered by an earlier load of this script
        current.unload()
        replaced = getattr(current, REPLACED, None)
    ours = preprocessor_class(registry)()
    setattr(ours, REPLACED, replaced)
    if current is None:
        base.add_supported_preprocessor(ours)
        # sd-webui-controlnet registers its own dw_openpose_full at import: without it, it stopped half way.
        print(f"{TAG} sd-webui-controlnet's preprocessor registry has no built-in {NAME}: sd-webui-controlnet "
              f"probably failed while loading (see its error above); {NAME} was added, but ControlNet may not work")
    else:
        _put(base, current, ours)
        print(f"{TAG} {NAME} is now dwpose-annotator's DWPose preprocessor")
    return ours


def restore(registry) -> None:
    """Unload ours and put back the entry it replaced."""
    base = registry.Preprocessor
    current = base.all_processors_by_name.get(NAME)
    if not is_ours(current):
        return
    current.unload()
    replaced = getattr(current, REPLACED, None)
    if replaced is not None:
        _put(base, current, replaced)
    else:
        base.all_processors.pop(current.label, None)
        base.all_processors_by_name.pop(current.name, None)


def _put(base, old, new) -> None:
    # Assigning to the existing keys keeps the dropdown order; add_supported_preprocessor would refuse.
    for table, old_key, new_key in ((base.all_processors, old.label, new.label),
                                    (base.all_processors_by_name, old.name, new.name)):
        if old_key == new_key and old_key in table:
            table[old_key] = new
        else:
            table.pop(old_key, None)
            table[new_key] = new


def register_when_ready(*_args) -> None:
    """before_ui / app_started: every extension is loaded now."""
    registry = registry_module()
    if registry is None:
        if not _warned:
            _warned.append(True)
            print(f"{TAG} sd-webui-controlnet's preprocessor registry ({REGISTRY_MODULE}) is not loaded: "
                  f"{NAME} was not registered (Forge's built-in ControlNet is not supported)")
        return
    if not is_ours(registry.Preprocessor.all_processors_by_name.get(NAME)):
        register(registry)


def on_script_unloaded() -> None:
    registry = registry_module()
    if registry is not None:
        restore(registry)


_warned: list = []


KEEP_LOADED = "dwpose_annotator_keep_loaded"
KEEP_LOADED_LABEL = ("Keep dwpose-annotator's DWPose models loaded between uses (faster repeated /controlnet/detect "
                     "calls; holds their memory)")


def keep_loaded() -> bool:
    """The web UI setting KEEP_LOADED (off by default, and off outside the web UI)."""
    shared = sys.modules.get("modules.shared")
    data = getattr(getattr(shared, "opts", None), "data", None)
    return bool(data.get(KEEP_LOADED, False)) if isinstance(data, dict) else False


def on_ui_settings() -> None:
    shared = sys.modules.get("modules.shared")
    if shared is not None and hasattr(shared, "OptionInfo") and hasattr(shared.opts, "add_option"):
        shared.opts.add_option(KEEP_LOADED, shared.OptionInfo(False, KEEP_LOADED_LABEL,
                                                              section=("control_net", "ControlNet")))


def setup() -> None:
    registry = registry_module()
    if registry is not None and NAME in registry.Preprocessor.all_processors_by_name:
        register(registry)  # sd-webui-controlnet is loaded and its preprocessors are registered
    callbacks = sys.modules.get(CALLBACKS_MODULE)
    hooks = ("on_before_ui", "on_app_started", "on_script_unloaded")
    if callbacks is not None and all(callable(getattr(callbacks, hook, None)) for hook in hooks):
        callbacks.on_before_ui(register_when_ready)
        callbacks.on_app_started(register_when_ready)
        callbacks.on_script_unloaded(on_script_unloaded)
        if callable(getattr(callbacks, "on_ui_settings", None)):
            callbacks.on_ui_settings(on_ui_settings)


setup()
