"""A stand-in of the pieces of the AUTOMATIC1111 web UI and of sd-webui-controlnet that
scripts/dwpose_preprocessor.py and install.py touch (the web UI itself cannot be installed in tests).

Written for these tests, mirroring class names, signatures and call sequences of the real sources
(read, not copied) at these commits:

sd-webui-controlnet (github.com/Mikubill/sd-webui-controlnet)
- scripts/supported_preprocessor.py @ 01de1cb9028c1c3d6a799f2230d3ae06caa1fedb: PreprocessorParameter,
  the Preprocessor dataclass and its registry (all_processors by label, all_processors_by_name,
  add_supported_preprocessor asserting a new name and label, get_preprocessor, unload_unused,
  cached_call -> Result(value, display_images), __hash__/__eq__ by name, unload()).
- scripts/controlnet.py and scripts/controlnet_ui/controlnet_ui_group.py @ 01de1cb9...: generation
  calls Preprocessor.unload_unused(active_processors=...) then preprocessor.cached_call(image,
  resolution=, slider_1=, slider_2=, low_vram=, model=) and uses result.value; the preview button
  (run_annotator) passes json_pose_callback=JsonAcceptor.accept, which json.dumps the dict it gets,
  to the openpose preprocessors only.
- scripts/api.py (/controlnet/detect; the JsonAcceptor that keeps the dict, then
  preprocessor.unload()), as found in the stored copy of the repository.
- scripts/preprocessor/legacy/legacy_preprocessors.py @ 91a8ddeee2fe578112bf34908546ced372606126:
  LegacyPreprocessor (its resolution slider goes to `self.resolution`; the UI reads
  `slider_resolution`, whose class default is the same 64..2048 / 512 / step 8).
- scripts/preprocessor/legacy/preprocessor_compiled.py @ b64d0896aeb8c4daf07e50297afd008e260c1bd3:
  the built-in "dw_openpose_full" entry (label dw_openpose_full, tag OpenPose, resolution 64..2048
  value 512, no sliders, priority 0, g_openpose_model.run_model with use_dw_pose=True).
- scripts/preprocessor/legacy/processor.py @ e6789102ace10cd22fad5af1e9dd79fe677eab37:
  resize_image_with_pad and OpenposeModel.run_model (resize with pad, detect, hand the JSON to
  json_pose_callback, remove the pad).
- scripts/preprocessor/model_free_preprocessors.py @ 91a8ddee...: PreprocessorNone ("none").
- scripts/utils.py @ 1d5402326d9e54fc389b187fc01c034d2d118fae: ndarray_lru_cache.
- annotator/annotator_path.py @ d62badd9d1568f84d70ad7d8284965801a97df0f: models_path.
- annotator/openpose/__init__.py (the version with use_animal_pose): encode_poses_as_json returns a
  dict {"people", "animals", "canvas_height", "canvas_width"} for the padded detect canvas.

AUTOMATIC1111 (github.com/AUTOMATIC1111/stable-diffusion-webui)
- modules/scripts.py load_scripts @ 036500223de0a3caaa86360a8ad3ed301e4367b0: for each script file,
  sys.path = [extension dir] + sys.path, script_loading.load_module(path), then sys.path restored;
  errors are reported and loading goes on; callbacks are cleared first.
- modules/script_loading.py @ 00dfe27f59727407c5b408a80ff2a262934df495: load_module uses
  spec_from_file_location(basename, path) and does not enter the module in sys.modules.
- modules/script_callbacks.py @ 0411eced89688f55aec356eea0c7d29377d37bc8: on_app_started(callback,
  *, name=None) called with (demo, app); on_before_ui and on_script_unloaded called with no
  arguments, in reverse order of registration.
- modules/launch_utils.py @ 00dfe27f...: is_installed(package) is importlib.util.find_spec;
  run_pip(command, desc=None, live=...) runs `python -m pip {command} --prefer-binary` through a shell;
  run_extension_installer runs `python install.py` with PYTHONPATH set to the web UI folder.

What is simplified: no torch, gradio, FastAPI or devices; the built-in OpenposeDetector finds no one
and draws an empty canvas; launch.run_pip records its command (to $SD_WEBUI_STUB_PIP_LOG) instead of
running pip, and launch.is_installed reports the modules in $SD_WEBUI_STUB_MISSING as missing.
The stand-in's own regular `annotator` package (annotator/util.py, annotator/openpose, ...; no
annotator/dwpose: sd-webui-controlnet has none) carries OWNER so the tests can tell it from ours.
"""

from pathlib import Path

STUB_DIR = Path(__file__).resolve().parent
WEBUI_DIR = STUB_DIR / "webui"
CONTROLNET_DIR = WEBUI_DIR / "extensions" / "sd-webui-controlnet"
OWNER = "sd-webui-controlnet stand-in"
