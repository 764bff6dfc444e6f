"""dwpose-annotator as the `dw_openpose_full` preprocessor of the web UIs: AUTOMATIC1111 with
sd-webui-controlnet, and Forge's built-in ControlNet.

The web UI imports this file while it loads extension scripts. A `dw_openpose_full` preprocessor backed
by this repository's DWposeDetector replaces the built-in entry of the host's registry, with the same
name, tag and resolution slider, drawing as the built-in draws (style "sd-webui-controlnet"; the
reference style is a setting). The models are loaded on the first call, released when the web UI
unloads unused preprocessors (unless the setting to keep them is on), and loaded again on the next call.
Where the web UI's ControlNet device (modules.devices.get_device_for("controlnet")) is a CUDA or MPS GPU,
the models run there through the web UI's own torch (backend="torch"); unloading hands the memory back
with devices.torch_gc(). Outside the web UIs importing this file does nothing.

Forge (modules_forge.shared.supported_preprocessors, a dict by name): registered at import, replacing the
built-in in place (user extensions load after Forge's built-in ones); the image is resized with Forge's
resize_image_with_pad and the pad removed as the built-in does; weights also from Forge's
<preprocessor models dir>/openpose.

sd-webui-controlnet (scripts.supported_preprocessor.Preprocessor):
when sd-webui-controlnet's scripts were loaded before this one, the entry is replaced at once; otherwise on the web UI's before_ui / app_started callbacks, after every extension is loaded
(registering earlier would make sd-webui-controlnet's own registration of dw_openpose_full fail).
On script unload (Reload UI) the built-in entry is put back.

Our `annotator` package is loaded under a private module name (annotator/dwpose/private_import.py),
so sd-webui-controlnet's own top-level `annotator` package (it has annotator/util.py too) stays what
`annotator` means.

Weights, file by file: $DWPOSE_CKPTS when set; else the copies the host already downloaded for its
built-in (<its models path>/openpose/yolox_l.onnx and dw-ll_ucoco_384.onnx); else annotator/ckpts in this
folder, the Hugging Face cache, then a download from yzd-v/DWPose.
"""

from __future__ import annotations

import importlib
import importlib.util
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
FORGE_SHARED = "modules_forge.shared"
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
    round(side * k); cubic up, area down: the library's resize_keeping_aspect), then edge-padded at the
    bottom and right to multiples of 64. Returns the padded image and the (height, width) to crop the
    result back to."""
    import numpy as np

    resized = dwpose_module().resize_keeping_aspect(image, resolution)
    target_h, target_w = resized.shape[:2]
    pad_h, pad_w = -target_h % 64, -target_w % 64
    padded = np.pad(resized, [[0, pad_h], [0, pad_w], [0, 0]], mode="edge")
    return np.ascontiguousarray(padded), (target_h, target_w)


def controlnet_model_dirs() -> list:
    """The folder where the host keeps the DWPose files of its built-in, if it has one:
    <sd-webui-controlnet's annotator models path>/openpose, or <Forge's preprocessor models dir>/openpose."""
    folders = []
    forge = sys.modules.get(FORGE_SHARED)
    if getattr(forge, "preprocessor_dir", None):
        folders.append(Path(forge.preprocessor_dir) / "openpose")
    annotator_path = sys.modules.get("annotator.annotator_path")
    if annotator_path is None and "annotator" in sys.modules and forge is None:  # sd-webui-controlnet's package
        try:
            annotator_path = importlib.import_module("annotator.annotator_path")
        except Exception:
            annotator_path = None
    if getattr(annotator_path, "models_path", None):
        folders.append(Path(annotator_path.models_path) / "openpose")
    unique = list(dict.fromkeys(folders))
    return [folder for folder in unique if folder.is_dir()]


def host_torch_device() -> str | None:
    """The web UI's device for ControlNet (modules.devices.get_device_for("controlnet"), in AUTOMATIC1111
    and Forge alike) when it is a GPU that the torch backend runs on (CUDA, ROCm, MPS); else None, and
    the detector runs as outside a host (onnxruntime, exact on the CPU)."""
    try:
        from modules import devices

        device = devices.get_device_for("controlnet")
    except Exception:  # an older or unusual host: no preference
        return None
    return dwpose_module().torch_gpu(device)


def load_detector():
    """A DWposeDetector with the weights found as the module docstring says, on the host's GPU through
    its own torch when it has one (onnxruntime-gpu is often missing or mismatched in the web UIs)."""
    device = host_torch_device()
    on_host_gpu = {"backend": "torch", "device": device} if device else {}
    return dwpose_module().DWposeDetector.from_pretrained(search_dirs=controlnet_model_dirs(), **on_host_gpu)


def free_host_memory() -> None:
    """The host's own way of handing freed GPU memory back (modules.devices.torch_gc), where it has one."""
    try:
        from modules import devices

        devices.torch_gc()
    except Exception:  # nothing to free, or an older host
        pass


class DWposeModels:
    """What both hosts' preprocessors share: the detector, loaded on first use, and the pose map of an
    image already resized and padded as the host does."""

    def _init_models(self):
        self.detector = None  # not in `model`, which the hosts keep for torch modules
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

    def unload(self, force: bool = False) -> bool:
        """Release the detector and its sessions; True if anything was loaded. With the setting KEEP_LOADED
        on, the models stay loaded when the host unloads unused preprocessors (sd-webui-controlnet unloads
        after every /controlnet/detect call, so each API call would load them again), but not when this
        script is reloaded or its entry replaced (`force`): nothing would use them again."""
        if setting(KEEP_LOADED, False) and not force:
            return False
        with self._lock:
            loaded, self.detector = self.detector is not None, None
        if loaded:
            free_host_memory()  # the torch backend's GPU memory goes back to the host
        return loaded

    def padded_pose_map(self, padded, json_pose_callback=None):
        """The map of the padded RGB image; the OpenPose JSON of its people, in its pixels, goes to
        `json_pose_callback` as the built-in does."""
        dwpose = dwpose_module()
        poses = self.load().detect(padded)
        if json_pose_callback is not None:
            json_pose_callback(poses.to_openpose_json())
        options = dwpose.PoseMapOptions(style=setting(STYLE, DEFAULT_STYLE),
                                        scale_stick_for_xinsr_cn=bool(setting(XINSIR, False)))
        return dwpose.draw_poses(poses, options)  # body, hands and face, as the built-in


def as_rgb(input_image):
    import numpy as np

    if isinstance(input_image, np.ndarray):  # the registry's cache hands in an ndarray subclass
        input_image = np.asarray(input_image)
    return dwpose_module().HWC3(input_image)


def preprocessor_class(registry):
    """sd-webui-controlnet's Preprocessor subclass for the registry module `registry` (its base class is
    defined there)."""
    base = registry.Preprocessor
    parameter = registry.PreprocessorParameter

    class PreprocessorDWposeAnnotator(DWposeModels, base):
        """`dw_openpose_full` with dwpose-annotator's detector, declared as the built-in declares it."""

        def __init__(self):
            base.__init__(self, name=NAME)
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
            self._init_models()

        def __call__(self, input_image, resolution=512, slider_1=None, slider_2=None, slider_3=None,
                     json_pose_callback=None, **kwargs):
            """The pose map (HxWx3 uint8 RGB, shorter side `resolution`)."""
            if resolution is None or resolution <= 0:  # an API unit without processor_res
                resolution = self.slider_resolution.value
            padded, (height, width) = resize_with_pad(as_rgb(input_image), int(resolution))
            return self.padded_pose_map(padded, json_pose_callback)[:height, :width].copy()

    return PreprocessorDWposeAnnotator


def forge_preprocessor_class(supported, utils):
    """Forge's Preprocessor subclass (modules_forge.supported_preprocessor), resizing with its utils."""

    class ForgeDWposeAnnotator(DWposeModels, supported.Preprocessor):
        """`dw_openpose_full` with dwpose-annotator's detector, declared as Forge's built-in declares it."""

        def __init__(self, replaced=None):
            supported.Preprocessor.__init__(self)
            self.name = NAME
            self.tags = list(TAGS)
            self.model_filename_filters = ["openpose", "densepose"]
            # The slider the UI shows for the built-in (its own 64..2048 one lives in .resolution, unread).
            self.slider_resolution = getattr(replaced, "slider_resolution", None) or supported.PreprocessorParameter(
                label="Resolution", minimum=128, maximum=2048, value=512, step=8, visible=True)
            self.sorting_priority = getattr(replaced, "sorting_priority", 0)
            self._init_models()
            setattr(self, REPLACED, replaced)

        def __call__(self, input_image, resolution=512, slider_1=None, slider_2=None, slider_3=None, **kwargs):
            if resolution is None or resolution <= 0:
                resolution = self.slider_resolution.gradio_update_kwargs.get("value", 512)
            padded, remove_pad = utils.resize_image_with_pad(as_rgb(input_image), int(resolution))
            return remove_pad(self.padded_pose_map(padded, kwargs.get("json_pose_callback")))

    return ForgeDWposeAnnotator


def register_forge() -> object | None:
    """Put ours in Forge's registry in place of its dw_openpose_full (None outside Forge)."""
    if sys.modules.get(FORGE_SHARED) is None and importlib.util.find_spec("modules_forge") is None:
        return None
    try:
        shared = importlib.import_module(FORGE_SHARED)
        supported = importlib.import_module("modules_forge.supported_preprocessor")
        try:
            utils = importlib.import_module("modules_forge.utils")  # Forge 2
        except ImportError:
            utils = importlib.import_module("modules_forge.forge_util")  # Forge 1 keeps it here
    except Exception as err:  # another project's modules_forge, or a Forge of another shape
        print(f"{TAG} Forge's preprocessor registry could not be read ({type(err).__name__}: {err}); "
              f"{NAME} was not registered")
        return None
    current = shared.supported_preprocessors.get(NAME)
    if is_ours(current):  # an earlier load of this script
        current.unload(force=True)
        current = getattr(current, REPLACED, None)
    ours = forge_preprocessor_class(supported, utils)(current)
    shared.add_supported_preprocessor(ours)
    print(f"{TAG} {NAME} is now dwpose-annotator's DWPose preprocessor (Forge)")
    return ours


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
        current.unload(force=True)
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
    current.unload(force=True)
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
    forge = sys.modules.get(FORGE_SHARED)
    if forge is not None and not is_ours(getattr(forge, "supported_preprocessors", {}).get(NAME)):
        register_forge()  # a built-in registered after us (an unusual load order) replaced ours
    registry = registry_module()
    if registry is None:
        if not _warned and sys.modules.get(FORGE_SHARED) is None:
            _warned.append(True)
            print(f"{TAG} neither sd-webui-controlnet's preprocessor registry ({REGISTRY_MODULE}) nor Forge's "
                  f"({FORGE_SHARED}) is loaded: {NAME} was not registered")
        return
    if not is_ours(registry.Preprocessor.all_processors_by_name.get(NAME)):
        register(registry)


def on_script_unloaded() -> None:
    registry = registry_module()
    if registry is not None:
        restore(registry)


_warned: list = []


# Settings (Settings -> ControlNet), read at every call.
KEEP_LOADED = "dwpose_annotator_keep_loaded"
STYLE = "dwpose_annotator_style"
XINSIR = "dwpose_annotator_scale_stick_for_xinsr_cn"
DEFAULT_STYLE = "sd-webui-controlnet"  # draw as the built-in this replaces
SETTINGS = {
    KEEP_LOADED: (False, "dwpose-annotator: keep the DWPose models loaded between uses (faster repeated "
                         "/controlnet/detect calls; holds their memory)"),
    STYLE: (DEFAULT_STYLE, "dwpose-annotator: pose map style (sd-webui-controlnet: as the built-in draws; "
                           "controlnet: the ControlNet 1.1 / DWPose reference renderer; mimicmotion, musepose, "
                           "unianimate, easy-dwpose: as those video pipelines draw)"),
    XINSIR: (False, "dwpose-annotator: scale_stick_for_xinsr_cn (thicker limbs for xinsir's SDXL OpenPose "
                    "ControlNet)"),
}


def setting(key: str, default):
    """The web UI setting `key` (`default` where it is not set, and outside the web UI)."""
    data = getattr(getattr(sys.modules.get("modules.shared"), "opts", None), "data", None)
    return data.get(key, default) if isinstance(data, dict) else default


def on_ui_settings() -> None:
    shared = sys.modules.get("modules.shared")
    if shared is None or not hasattr(shared, "OptionInfo") or not hasattr(shared.opts, "add_option"):
        return
    for key, (default, label) in SETTINGS.items():
        info = shared.OptionInfo(default, label, section=("control_net", "ControlNet"))
        if key == STYLE:
            try:
                import gradio as gr

                styles = [DEFAULT_STYLE] + [s for s in dwpose_module().STYLES if s != DEFAULT_STYLE]
                info = shared.OptionInfo(default, label, gr.Radio, {"choices": styles},
                                         section=("control_net", "ControlNet"))
            except ImportError:
                pass
        shared.opts.add_option(key, info)


def setup() -> None:
    register_forge()
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
