"""PoseMapOptions: what a pose map shows and how it is drawn."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..skeleton import THRESHOLD
from .drawing import STICK_RULES, STICK_WIDTH
from .styles import STYLES


@dataclass(frozen=True)
class PoseMapOptions:
    """What the pose map shows and how it is drawn; the defaults draw the reference's map.

    include_body / include_hand / include_face / include_foot: the parts drawn (feet are not in the
    reference renderer); threshold: the keypoint score a point needs to be shown (and exported);
    stick_width: half-width in pixels of the body limbs (the reference's 4); style: "controlnet" (the
    ControlNet 1.1 / DWPose reference renderer), "sd-webui-controlnet" (the web UIs' built-in renderer,
    person by person), or the renderer of "mimicmotion", "musepose", "unianimate", "easy-dwpose", "vace" or
    "wan-animate" (each style's module says what the switches and the threshold do there); scale_stick_for_xinsr_cn: limbs
    thicker with the map size, as comfyui_controlnet_aux draws them for xinsir's SDXL OpenPose ControlNet
    (the same as stick_rule="xinsir"); stick_rule: the limbs' half-width, "fixed" (stick_width), "xinsir"
    (stick_width x comfyui_controlnet_aux's scale) or "wan" (Wan 2.2 Animate's, max(int(min(H, W) / 200) - 1,
    1)), in pixels of the canvas drawn on; draw_at_output_size: a map wanted at another size than the poses'
    canvas (render.draw_pose_map, and the pipeline's, the tracker's and the hosts' maps) is drawn directly
    at that size, lines sharp and widths in its pixels, instead of drawn on the canvas and resized.
    """

    include_body: bool = True
    include_hand: bool = True
    include_face: bool = True
    include_foot: bool = False
    threshold: float = THRESHOLD
    stick_width: int = STICK_WIDTH
    style: str = "controlnet"
    scale_stick_for_xinsr_cn: bool = False
    stick_rule: str = "fixed"
    draw_at_output_size: bool = False

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, got {self.style!r}")
        for field in ("include_body", "include_hand", "include_face", "include_foot", "scale_stick_for_xinsr_cn",
                      "draw_at_output_size"):
            object.__setattr__(self, field, bool(getattr(self, field)))
        if self.stick_rule not in STICK_RULES:
            raise ValueError(f"stick_rule must be one of {', '.join(STICK_RULES)}, got {self.stick_rule!r}")
        if self.scale_stick_for_xinsr_cn and self.stick_rule == "wan":
            raise ValueError("scale_stick_for_xinsr_cn is stick_rule 'xinsir'; it cannot go with stick_rule 'wan'")
        if self.scale_stick_for_xinsr_cn:
            object.__setattr__(self, "stick_rule", "xinsir")
        object.__setattr__(self, "scale_stick_for_xinsr_cn", self.stick_rule == "xinsir")
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not math.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
        object.__setattr__(self, "threshold", float(threshold))
        width = self.stick_width
        if not (isinstance(width, (int, np.integer)) and 1 <= width <= 64):
            raise ValueError(f"stick_width must be an integer from 1 to 64, got {width!r}")
        object.__setattr__(self, "stick_width", int(width))

    @classmethod
    def build(cls, options: "PoseMapOptions | None" = None, **fields) -> "PoseMapOptions":
        """`options` (default: the defaults) with `fields` changed; an unknown field raises TypeError. Changing one of
        scale_stick_for_xinsr_cn and stick_rule changes the other to match (xinsir's switch off turns "xinsir" back
        to "fixed"; a rule given turns the switch on for "xinsir", off for the others)."""
        if options is not None and not isinstance(options, cls):
            raise TypeError(f"options must be a PoseMapOptions, got {type(options).__name__}")
        unknown = sorted(set(fields) - set(cls.field_names()))
        if unknown:
            raise TypeError(f"unexpected pose map option(s) {', '.join(unknown)}; "
                            f"the options are {', '.join(cls.field_names())}")
        base = options if options is not None else cls()
        if "scale_stick_for_xinsr_cn" in fields and "stick_rule" not in fields:  # the switch turns the rule too
            on = bool(fields["scale_stick_for_xinsr_cn"])
            fields["stick_rule"] = "xinsir" if on else ("fixed" if base.stick_rule == "xinsir" else base.stick_rule)
        elif "stick_rule" in fields and "scale_stick_for_xinsr_cn" not in fields:  # and the rule turns the switch
            fields["scale_stick_for_xinsr_cn"] = fields["stick_rule"] == "xinsir"
        return dataclasses.replace(base, **fields) if fields else base

    @classmethod
    def field_names(cls) -> tuple:
        return tuple(field.name for field in dataclasses.fields(cls))
