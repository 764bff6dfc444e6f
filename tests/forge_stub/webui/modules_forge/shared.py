"""Stand-in of modules_forge/shared.py: the preprocessor registry and the preprocessor models folder."""

import os

# --controlnet-preprocessor-models-dir, else models/ControlNetPreprocessor (here: $FORGE_STUB_PREPROCESSOR_DIR).
preprocessor_dir = os.environ.get("FORGE_STUB_PREPROCESSOR_DIR") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "ControlNetPreprocessor")

supported_preprocessors = {}


def add_supported_preprocessor(preprocessor):
    supported_preprocessors[preprocessor.name] = preprocessor
