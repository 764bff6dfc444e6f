"""Stand-in of forge_preprocessor_normalbae/scripts/preprocessor_normalbae.py: imports annotator.normalbae."""

from annotator.normalbae import load_checkpoint  # noqa: F401
from modules_forge.shared import add_supported_preprocessor
from modules_forge.supported_preprocessor import Preprocessor


class PreprocessorNormalBae(Preprocessor):
    def __init__(self):
        super().__init__()
        self.name = "normalbae"
        self.tags = ["NormalMap"]
        self.model_filename_filters = ["normal"]
        self.sorting_priority = 100


add_supported_preprocessor(PreprocessorNormalBae())
