"""ComfyUI custom node: the DWPose `dw_openpose_full` preprocessor (IMAGE in, IMAGE and POSE_KEYPOINT out).

Install: clone the repository into ComfyUI/custom_nodes (ComfyUI-Manager's "Install via Git URL", comfy-cli,
the Comfy Registry; the repository's __init__.py loads this folder), or symlink this folder there, e.g.
    ln -s /path/to/dwpose-annotator/comfyui ComfyUI/custom_nodes/dwpose_annotator
"""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
