"""Stand-in of the web UI's launch.py: is_installed and run_pip as modules/launch_utils.py declares them.

run_pip records each command as a JSON line in $SD_WEBUI_STUB_PIP_LOG instead of running pip;
is_installed answers False for the modules named in $SD_WEBUI_STUB_MISSING (comma separated).
"""

import importlib.util
import json
import os


def is_installed(package):
    missing = {name.strip() for name in os.environ.get("SD_WEBUI_STUB_MISSING", "").split(",") if name.strip()}
    if package in missing:
        return False
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        return False
    return spec is not None


def run_pip(command, desc=None, live=False):
    log = os.environ.get("SD_WEBUI_STUB_PIP_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"command": command, "desc": desc}) + "\n")
    print(f"Installing {desc}")
    return ""
