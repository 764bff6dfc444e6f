"""Stand-in of sd_forge_controlnet/scripts/controlnet.py: what it imports at load (the pose editor)."""

from lib_controlnet import api, global_state  # noqa: F401
from lib_controlnet.controlnet_ui import openpose_editor  # noqa: F401
