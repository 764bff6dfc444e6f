"""Stand-in of forge_legacy_preprocessors/annotator/util.py (HWC3 only; here Forge's utils one)."""

from modules_forge.utils import HWC3  # noqa: F401

OWNER = "Forge stand-in"
