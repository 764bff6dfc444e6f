"""Stand-in of modules/script_callbacks.py for the three callbacks the extension uses."""

from collections import namedtuple

ScriptCallback = namedtuple("ScriptCallback", ["name", "callback"])
callback_map = dict(callbacks_app_started=[], callbacks_before_ui=[], callbacks_script_unloaded=[])


def clear_callbacks():
    for callbacks in callback_map.values():
        callbacks.clear()


def _add(kind, callback, name):
    callback_map[kind].append(ScriptCallback(name or getattr(callback, "__qualname__", repr(callback)), callback))


def on_app_started(callback, *, name=None):
    _add("callbacks_app_started", callback, name)


def on_before_ui(callback, *, name=None):
    _add("callbacks_before_ui", callback, name)


def on_script_unloaded(callback, *, name=None):
    _add("callbacks_script_unloaded", callback, name)


def app_started_callback(demo, app):
    for c in callback_map["callbacks_app_started"]:
        c.callback(demo, app)


def before_ui_callback():
    for c in reversed(callback_map["callbacks_before_ui"]):
        c.callback()


def script_unloaded_callback():
    for c in reversed(callback_map["callbacks_script_unloaded"]):
        c.callback()
