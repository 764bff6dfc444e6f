"""The pose map styles by name, each drawn by its own module's draw(poses, options, stick_width)."""

from __future__ import annotations

from . import controlnet, easy_dwpose, mimicmotion, musepose, unianimate, webui

DRAWERS = {
    "controlnet": controlnet.draw,  # the ControlNet 1.1 / DWPose reference renderer (the default)
    "sd-webui-controlnet": webui.draw,  # the web UIs' built-in renderer, person by person
    "mimicmotion": mimicmotion.draw,
    "musepose": musepose.draw,
    "unianimate": unianimate.draw,
    "easy-dwpose": easy_dwpose.draw,
}
STYLES = tuple(DRAWERS)
