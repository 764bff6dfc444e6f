"""sd-webui-controlnet's own `annotator.dwpose` (stand-in): must stay what `annotator.dwpose` means."""

OWNER = "sd-webui-controlnet stand-in"
