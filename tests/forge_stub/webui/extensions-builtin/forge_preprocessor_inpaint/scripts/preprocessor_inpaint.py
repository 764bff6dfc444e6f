"""Stand-in of forge_preprocessor_inpaint/scripts/preprocessor_inpaint.py: imports annotator.lama."""

import annotator.lama  # noqa: F401
from modules_forge.shared import add_supported_preprocessor
from modules_forge.supported_preprocessor import Preprocessor


class PreprocessorInpaintOnly(Preprocessor):
    def __init__(self):
        super().__init__()
        self.name = "inpaint_only"
        self.tags = ["Inpaint"]
        self.model_filename_filters = ["inpaint"]


add_supported_preprocessor(PreprocessorInpaintOnly())
