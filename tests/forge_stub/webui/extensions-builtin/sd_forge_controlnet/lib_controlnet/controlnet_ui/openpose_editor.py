"""Stand-in of lib_controlnet/controlnet_ui/openpose_editor.py: its line 6 import."""

from annotator.openpose import decode_json_as_poses, draw_poses  # noqa: F401
