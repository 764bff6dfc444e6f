"""Import dwpose-annotator's `annotator` package under a private module name, for the hosts.

In the web UIs and ComfyUI the name `annotator` may belong to another project (sd-webui-controlnet's
package, another custom node's). The web UI script and the ComfyUI node run this file with
`runpy.run_path` (it needs only the standard library) and call `import_private(annotator_dir)`;
`sys.modules["annotator"]` is never touched.
"""

import hashlib
import importlib
import importlib.util
import os
import sys

PREFIX = "_dwpose_annotator_"


def private_name(annotator_dir) -> str:
    """The private top-level name for the package at `annotator_dir`: one per checkout (its real path,
    symlinks followed), so that two copies never mix."""
    real = os.path.realpath(annotator_dir)
    return PREFIX + hashlib.sha1(os.fsencode(real)).hexdigest()[:12]


def import_private(annotator_dir, submodule: str = "dwpose"):
    """`<annotator_dir>.<submodule>` imported under the private name (the package itself when
    `submodule` is empty); a second call returns the module loaded by the first."""
    name = private_name(annotator_dir)
    if name not in sys.modules:
        real = os.path.realpath(annotator_dir)
        spec = importlib.util.spec_from_file_location(name, os.path.join(real, "__init__.py"),
                                                      submodule_search_locations=[real])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return importlib.import_module(f"{name}.{submodule}") if submodule else sys.modules[name]
