"""Stand-in of Forge's load_scripts (modules/scripts.py): every extension root goes to the front of sys.path
before any script loads, and stays there; a failing script is reported (here: `load_errors`)."""

import os
import sys
import traceback

from modules import script_callbacks, script_loading

load_errors = []
loaded_modules = []


def list_scripts(extension_dir):
    folder = os.path.join(extension_dir, "scripts")
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".py")]


def load_scripts(extension_dirs):
    """`extension_dirs` in Forge's order: the built-in extensions, then the user's."""
    script_callbacks.clear_callbacks()
    load_errors.clear()
    loaded_modules.clear()
    scripts = [(str(d), path) for d in extension_dirs for path in list_scripts(str(d))]
    for basedir, _ in scripts:
        if basedir not in sys.path:
            sys.path = [basedir] + sys.path
    syspath = sys.path
    for basedir, path in scripts:
        try:
            sys.path = [basedir] + sys.path
            loaded_modules.append(script_loading.load_module(path))
        except Exception:
            load_errors.append((path, traceback.format_exc()))
        finally:
            sys.path = syspath
    return loaded_modules
