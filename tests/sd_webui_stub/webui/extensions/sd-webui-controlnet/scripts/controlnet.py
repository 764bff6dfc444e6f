"""Stand-in of sd-webui-controlnet's scripts/controlnet.py: registration on import and the generation
path's calls into the registry (get_control / controlnet_main_entry)."""

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

import scripts.preprocessor as preprocessor_init  # registers every preprocessor
from annotator.util import HWC3
from scripts.controlnet_ui.controlnet_ui_group import ControlNetUiGroup
from scripts.supported_preprocessor import Preprocessor

__all__ = ["ControlNetUiGroup", "ControlNetUnit", "detected_maps", "preprocessor_init"]


@dataclass
class ControlNetUnit:
    module: str = "none"
    model: str = "None"
    image: Optional[Any] = None
    processor_res: int = 512
    threshold_a: float = -1
    threshold_b: float = -1

    def get_actual_preprocessor(self):
        return Preprocessor.get_preprocessor(self.module)


def detected_maps(units):
    """What controlnet_main_entry + get_control do with the preprocessors of the enabled units."""
    Preprocessor.unload_unused(active_processors={unit.get_actual_preprocessor() for unit in units})
    maps = []
    for unit in units:
        preprocessor = Preprocessor.get_preprocessor(unit.module)
        assert preprocessor is not None
        input_image = np.ascontiguousarray(HWC3(unit.image).copy()).copy()
        result = preprocessor.cached_call(
            input_image,
            resolution=unit.processor_res,
            slider_1=unit.threshold_a,
            slider_2=unit.threshold_b,
            low_vram=False,
            model=unit.model,
        )
        maps.append(result.value)
    return maps
