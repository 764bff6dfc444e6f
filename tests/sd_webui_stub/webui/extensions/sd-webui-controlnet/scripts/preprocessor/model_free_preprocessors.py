"""Stand-in of scripts/preprocessor/model_free_preprocessors.py: the "none" entry only."""

from ..supported_preprocessor import Preprocessor


class PreprocessorNone(Preprocessor):
    def __init__(self):
        super().__init__(name="none")
        self.sorting_priority = 10
        self.tags = ["InstructP2P"]

    def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None, input_mask=None,
                 **kwargs):
        return input_image


Preprocessor.add_supported_preprocessor(PreprocessorNone())
