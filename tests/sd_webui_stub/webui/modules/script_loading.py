"""Stand-in of modules/script_loading.py: a script file becomes a module named after its file name,
executed without an entry in sys.modules."""

import importlib.util
import os


def load_module(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
