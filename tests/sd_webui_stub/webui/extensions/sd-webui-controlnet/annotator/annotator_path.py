"""Stand-in of sd-webui-controlnet's annotator/annotator_path.py (models_path; no folder is created)."""

import os

from modules import shared

models_path = shared.opts.data.get("control_net_modules_path", None)
if not models_path:
    models_path = getattr(shared.cmd_opts, "controlnet_annotator_models_path", None)
if not models_path:
    models_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "downloads")
models_path = os.path.realpath(models_path)
