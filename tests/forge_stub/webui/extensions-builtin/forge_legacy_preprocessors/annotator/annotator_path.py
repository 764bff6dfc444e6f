"""Stand-in of forge_legacy_preprocessors/annotator/annotator_path.py: models_path is Forge's preprocessor_dir."""

from modules_forge.shared import preprocessor_dir

OWNER = "Forge stand-in"
models_path = preprocessor_dir
