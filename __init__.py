"""ComfyUI loads this file when the repository is cloned into ComfyUI/custom_nodes (ComfyUI-Manager's "Install
via Git URL", comfy-cli, the Comfy Registry): the node is in comfyui/. Nothing else needs it: the pip package
is annotator/ and the web UI extension is scripts/ and install.py."""

if __package__:  # ComfyUI imports the folder as a package; a test runner may import this file on its own
    from .comfyui import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

    __all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
