"""sd-webui-controlnet's own top-level `annotator` package (stand-in)."""

OWNER = "sd-webui-controlnet stand-in"
