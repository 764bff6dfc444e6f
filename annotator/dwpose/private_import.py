"""Import dwpose-annotator's `annotator.dwpose` package under a private module name, for the hosts.

In the web UIs and ComfyUI the name `annotator` belongs to others too: sd-webui-controlnet's regular
package, Forge's namespace package, another custom node's. `annotator/dwpose` needs nothing outside its
own folder, so it can be imported as a top-level package of its own. The web UI script and the ComfyUI
node run this file with `runpy.run_path` (it needs only the standard library) and call
`import_private(dwpose_dir)`; nothing named `annotator` is imported or touched.
"""

import hashlib
import importlib
import importlib.util
import os
import sys

PREFIX = "_dwpose_annotator_"


def private_name(dwpose_dir) -> str:
    """The private top-level name for the package at `dwpose_dir`: one per checkout (its real path,
    symlinks followed), so that two copies never mix."""
    real = os.path.realpath(dwpose_dir)
    return PREFIX + hashlib.sha1(os.fsencode(real)).hexdigest()[:12]


def import_private(dwpose_dir, submodule: str = ""):
    """The package at `dwpose_dir` (or its `submodule`, e.g. "weights") under the private name; a
    second call returns the module loaded by the first."""
    name = private_name(dwpose_dir)
    if name not in sys.modules:
        real = os.path.realpath(dwpose_dir)
        spec = importlib.util.spec_from_file_location(name, os.path.join(real, "__init__.py"),
                                                      submodule_search_locations=[real])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            for loaded in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
                del sys.modules[loaded]
            raise
    return importlib.import_module(f"{name}.{submodule}") if submodule else sys.modules[name]
