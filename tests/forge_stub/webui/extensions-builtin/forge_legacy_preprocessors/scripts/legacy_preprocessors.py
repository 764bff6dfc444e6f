"""Stand-in of forge_legacy_preprocessors/scripts/legacy_preprocessors.py: LegacyPreprocessor entries (here
only dw_openpose_full and openpose_full) registered in Forge's registry at import."""

import functools

from annotator.util import HWC3
from legacy_preprocessors.preprocessor import g_openpose_model
from modules_forge.shared import add_supported_preprocessor
from modules_forge.supported_preprocessor import Preprocessor, PreprocessorParameter

ALIASES = {"openpose": ["openpose", "densepose"]}
LEGACY = {
    name: {"label": name, "call_function": functools.partial(g_openpose_model.run_model, include_body=True,
                                                             include_hand=True, include_face=True, use_dw_pose=dw),
           "unload_function": g_openpose_model.unload, "model_free": False, "no_control_mode": False,
           "resolution": {"label": "Resolution", "minimum": 64, "maximum": 2048, "value": 512}, "priority": 0,
           "tags": ["OpenPose"]}
    for name, dw in (("dw_openpose_full", True), ("openpose_full", False))
}


class LegacyPreprocessor(Preprocessor):
    def __init__(self, legacy_dict):
        super().__init__()
        self.name = legacy_dict["label"]
        self.call_function = legacy_dict["call_function"]
        self.unload_function = legacy_dict["unload_function"]
        self.do_not_need_model = legacy_dict["model_free"]
        self.show_control_mode = not legacy_dict["no_control_mode"]
        self.sorting_priority = legacy_dict["priority"]
        self.tags = legacy_dict["tags"]
        filters = []
        for tag in self.tags:
            filters += [tag.lower()] + ALIASES.get(tag.lower(), [])
        self.model_filename_filters = filters
        resolution = dict(legacy_dict["resolution"], label="Resolution", step=8)
        self.resolution = PreprocessorParameter(**resolution, visible=True)  # the UI reads slider_resolution

    def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None, **kwargs):
        result, is_image = self.call_function(img=input_image, res=resolution, thr_a=slider_1, thr_b=slider_2, **kwargs)
        if is_image:
            result = HWC3(result)
        self.unload_function()
        return result


for name, data in LEGACY.items():
    preprocessor = LegacyPreprocessor(data)
    preprocessor.name = name
    add_supported_preprocessor(preprocessor)
