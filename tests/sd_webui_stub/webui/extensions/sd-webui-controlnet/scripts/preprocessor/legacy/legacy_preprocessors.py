"""Stand-in of scripts/preprocessor/legacy/legacy_preprocessors.py: LegacyPreprocessor and its registration."""

from annotator.util import HWC3

from ...supported_preprocessor import Preprocessor, PreprocessorParameter
from .preprocessor_compiled import legacy_preprocessors


class LegacyPreprocessor(Preprocessor):
    def __init__(self, name: str, legacy_dict):
        super().__init__(name)
        self._label = legacy_dict["label"]
        self.call_function = legacy_dict["call_function"]
        self.unload_function = legacy_dict["unload_function"]
        self.managed_model = legacy_dict["managed_model"]
        self.do_not_need_model = legacy_dict["model_free"]
        self.show_control_mode = not legacy_dict["no_control_mode"]
        self.sorting_priority = legacy_dict["priority"]
        self.tags = legacy_dict["tags"]
        self.returns_image = legacy_dict.get("returns_image", True)
        self.accepts_mask = legacy_dict.get("accepts_mask", False)
        self.requires_mask = legacy_dict.get("requires_mask", False)
        if legacy_dict.get("use_soft_projection_in_hr_fix", False):
            self.use_soft_projection_in_hr_fix = True

        # As in the original: the resolution slider lands in `self.resolution`.
        if legacy_dict["resolution"] is None:
            self.resolution = PreprocessorParameter(visible=False)
        else:
            settings = dict(legacy_dict["resolution"], label="Resolution", step=8)
            self.resolution = PreprocessorParameter(**settings, visible=True)
        for slider in ("slider_1", "slider_2", "slider_3"):
            if legacy_dict[slider] is None:
                setattr(self, slider, PreprocessorParameter(visible=False))
            else:
                setattr(self, slider, PreprocessorParameter(**legacy_dict[slider], visible=True))
        self.active_with_model = False

    def unload(self):
        if self.active_with_model:
            self.unload_function()
            self.active_with_model = False
            return True
        return False

    def __call__(self, input_image, resolution=512, slider_1=None, slider_2=None, slider_3=None, **kwargs):
        del slider_3
        result, is_image = self.call_function(img=input_image, res=resolution, thr_a=slider_1, thr_b=slider_2,
                                              **kwargs)
        if self.managed_model is not None:
            self.active_with_model = True
        if is_image:
            result = HWC3(result)
        return result


for name, data in legacy_preprocessors.items():
    Preprocessor.add_supported_preprocessor(LegacyPreprocessor(name, data))
