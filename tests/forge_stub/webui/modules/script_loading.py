"""Stand-in of Forge's modules/script_loading.py: a script becomes a module named after its file name
(with ".py"), entered in sys.modules only when that name is free."""

import importlib.util
import os
import sys


def load_module(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path), path)
    module = importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
