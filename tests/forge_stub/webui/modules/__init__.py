"""Stand-in of Forge's `modules` package: scripts and script_loading are Forge's own here; the other
modules (script_callbacks, shared) are the AUTOMATIC1111 stand-in's, which Forge keeps as they are."""

import os

__path__.append(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))),
                             "sd_webui_stub", "webui", "modules"))
