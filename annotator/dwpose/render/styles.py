"""The pose map styles by name, each drawn by its own module's draw(poses, options, stick_width)."""

from __future__ import annotations

from . import controlnet, easy_dwpose, mimicmotion, musepose, unianimate, vace, wan_animate, webui

DRAWERS = {
    "controlnet": controlnet.draw,  # the ControlNet 1.1 / DWPose reference renderer (the default)
    "sd-webui-controlnet": webui.draw,  # the web UIs' built-in renderer, person by person
    "mimicmotion": mimicmotion.draw,
    "musepose": musepose.draw,
    "unianimate": unianimate.draw,
    "easy-dwpose": easy_dwpose.draw,
    "vace": vace.draw,  # ali-vilab/VACE's pose annotator (its 1024-px canvas, red and blue swapped)
    "wan-animate": wan_animate.draw,  # Wan 2.2 Animate's pose video (20-point body, widths from the size)
}
STYLES = tuple(DRAWERS)
