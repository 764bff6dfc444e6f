"""Stand-in of modules/script_callbacks.py for the callbacks the extension uses: each callback is run in
its own try/except, and an error is reported (to stderr) and does not stop the others."""

import sys
import traceback
from collections import namedtuple

ScriptCallback = namedtuple("ScriptCallback", ["name", "callback"])
callback_map = dict(callbacks_app_started=[], callbacks_before_ui=[], callbacks_script_unloaded=[],
                    callbacks_ui_settings=[])


def clear_callbacks():
    for callbacks in callback_map.values():
        callbacks.clear()


def report_exception(c, job):
    print(f"Error executing callback {job} for {c.name}", file=sys.stderr)
    traceback.print_exc()


def _add(kind, callback, name):
    callback_map[kind].append(ScriptCallback(name or getattr(callback, "__qualname__", repr(callback)), callback))


def on_app_started(callback, *, name=None):
    _add("callbacks_app_started", callback, name)


def on_before_ui(callback, *, name=None):
    _add("callbacks_before_ui", callback, name)


def on_script_unloaded(callback, *, name=None):
    _add("callbacks_script_unloaded", callback, name)


def on_ui_settings(callback, *, name=None):
    _add("callbacks_ui_settings", callback, name)


def _run(kind, job, *args, reverse=False):
    callbacks = callback_map[kind]
    for c in (reversed(callbacks) if reverse else callbacks):
        try:
            c.callback(*args)
        except Exception:
            report_exception(c, job)


def app_started_callback(demo, app):
    _run("callbacks_app_started", "app_started_callback", demo, app)


def before_ui_callback():
    _run("callbacks_before_ui", "before_ui_callback", reverse=True)


def script_unloaded_callback():
    _run("callbacks_script_unloaded", "script_unloaded", reverse=True)


def ui_settings_callback():
    _run("callbacks_ui_settings", "ui_settings_callback")
