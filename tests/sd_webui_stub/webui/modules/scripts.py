"""Stand-in of load_scripts from modules/scripts.py: how the web UI imports extension scripts.

Every *.py directly in <extension>/scripts is loaded, extension after extension, file names sorted;
while a file loads, its extension folder is first on sys.path. A failing script is reported (here:
kept in `load_errors`) and loading goes on.
"""

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
    names = sorted(name for name in os.listdir(folder) if name.endswith(".py"))
    return [os.path.join(folder, name) for name in names if os.path.isfile(os.path.join(folder, name))]


def load_scripts(extension_dirs):
    script_callbacks.clear_callbacks()
    load_errors.clear()
    loaded_modules.clear()
    syspath = sys.path
    for extension_dir in extension_dirs:
        for path in list_scripts(str(extension_dir)):
            try:
                sys.path = [str(extension_dir)] + sys.path
                loaded_modules.append(script_loading.load_module(path))
            except Exception:
                load_errors.append((path, traceback.format_exc()))
            finally:
                sys.path = syspath
    return loaded_modules
