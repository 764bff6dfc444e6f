"""Stand-in of sd-webui-controlnet's scripts/logging.py: its `logger`."""

import logging

logger = logging.getLogger("ControlNet")
