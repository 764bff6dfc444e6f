"""Stand-in of modules/shared.py: the option and command-line namespaces, and options.add_option."""

from types import SimpleNamespace

cmd_opts = SimpleNamespace()


class OptionInfo:
    """modules/options.py OptionInfo: a default, a label, a section (id, title)."""

    def __init__(self, default=None, label="", component=None, component_args=None, onchange=None, section=None,
                 refresh=None):
        self.default, self.label, self.section = default, label, section


class Options:
    """modules/options.py Options: values in `data`, declarations in `data_labels`, attribute access."""

    def __init__(self):
        super().__setattr__("data", {})
        super().__setattr__("data_labels", {})

    def add_option(self, key, info):
        self.data_labels[key] = info
        self.data.setdefault(key, info.default)

    def __getattr__(self, item):
        if item in self.data:
            return self.data[item]
        if item in self.data_labels:
            return self.data_labels[item].default
        raise AttributeError(item)


opts = Options()
