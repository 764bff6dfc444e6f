"""ComfyUI custom node: the DWPose `dw_openpose_full` preprocessor (IMAGE in, IMAGE and POSE_KEYPOINT out).

Install: symlink (or copy) this folder into ComfyUI/custom_nodes, e.g.
    ln -s /path/to/dwpose-annotator/comfyui ComfyUI/custom_nodes/dwpose_annotator
"""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
