"""Stand-in of modules/shared.py: the option and command-line namespaces sd-webui-controlnet reads."""

from types import SimpleNamespace

cmd_opts = SimpleNamespace()
opts = SimpleNamespace(data={})
