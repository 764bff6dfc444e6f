"""A stand-in of the pieces of Forge (lllyasviel/stable-diffusion-webui-forge) that the extension meets:
how Forge imports extension scripts, its preprocessor registry, and the built-in extensions whose
`annotator` namespace package a badly behaved extension breaks. Forge itself cannot run in tests.

Written for these tests, mirroring names, signatures and call sequences of the real sources (read, not
copied). The issue names commit dfdcbab685e5; the stored copies read were these (newest stored):
- modules/scripts.py @ e26abf87ecd1eefd9ab0a198eee56f9c643e4001 load_scripts: before any script loads, the root
  of every extension with a script is put at the front of sys.path, one after another (builtins first, user
  extensions after, so these end up further forward), and stays there; while a script loads its own root is
  first again. modules/script_loading.py @ dac496705db613767323243598b63570b45d7ac2: the module is named after
  the file name (with ".py") and entered in sys.modules only if that name is free.
- modules_forge/supported_preprocessor.py @ d81e353d8928147bbd973068d0efbb2802affe0f: PreprocessorParameter
  (gradio_update_kwargs only), Preprocessor's defaults (slider_resolution 128..2048 / 512 / step 8, ...),
  __call__(input_image, resolution, slider_1=None, slider_2=None, slider_3=None, input_mask=None, **kwargs),
  PreprocessorNone ("None", priority 10) registered at import.
- modules_forge/shared.py @ 07659efd884184dea0bae156803e58f957229361: supported_preprocessors (a dict by name),
  add_supported_preprocessor(p) assigns supported_preprocessors[p.name] (in place), preprocessor_dir
  (--controlnet-preprocessor-models-dir, else models/ControlNetPreprocessor).
- modules_forge/utils.py @ 91f3f628bd4aaa645e786110d5690de1f5bcd198: HWC3, resize_image_with_pad returning
  (padded, remove_pad).
- extensions-builtin/forge_legacy_preprocessors: annotator/ is a namespace portion (no __init__.py) with
  annotator_path.py (models_path = preprocessor_dir), util.py, openpose/ (OpenposeDetector; @ fd75f4f1...);
  scripts/legacy_preprocessors.py @ fa8be066135e503317c92a81798b7753d2b9c9bb registers LegacyPreprocessor
  "dw_openpose_full" (tags ["OpenPose"], filters ["openpose", "openpose", "densepose"], its 64..2048 slider
  kept in .resolution while the UI reads slider_resolution), calling OpenposeModel.run_model
  (legacy_preprocessors/preprocessor.py @ 7a2aca6f...: resize with pad, detect, json_pose_callback with the
  padded canvas, remove the pad).
- forge_preprocessor_normalbae (scripts/preprocessor_normalbae.py @ e34f4cdd...: `from annotator.normalbae ...`)
  and forge_preprocessor_inpaint (`from annotator.lama ...`): more portions of the same namespace.
- sd_forge_controlnet: lib_controlnet/controlnet_ui/openpose_editor.py @ 11477f01... line 6
  `from annotator.openpose import decode_json_as_poses, draw_poses`; lib_controlnet/global_state.py @ 7a2aca6f...
  (get_preprocessor, get_all_preprocessor_names sorted by priority then name, reversed, "None" first);
  lib_controlnet/api.py @ 30c8d742... (/controlnet/module_list; /controlnet/detect asserting the pose callback
  for openpose names).

Simplified: no torch, gradio or FastAPI; the built-in OpenposeDetector finds no one; `modules` falls back to
the AUTOMATIC1111 stand-in (tests/sd_webui_stub) for script_callbacks and shared, which Forge keeps as they are.
"""

from pathlib import Path

STUB_DIR = Path(__file__).resolve().parent
WEBUI_DIR = STUB_DIR / "webui"
BUILTIN_DIR = WEBUI_DIR / "extensions-builtin"
BUILTINS = [BUILTIN_DIR / name for name in ("forge_legacy_preprocessors", "forge_preprocessor_inpaint",
                                            "forge_preprocessor_normalbae", "sd_forge_controlnet")]
OWNER = "Forge stand-in"
