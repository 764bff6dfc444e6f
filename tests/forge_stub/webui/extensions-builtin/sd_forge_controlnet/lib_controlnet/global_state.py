"""Stand-in of lib_controlnet/global_state.py: lookups in Forge's registry."""

from collections import OrderedDict

from modules_forge.shared import supported_preprocessors


def get_preprocessor(name):
    return supported_preprocessors.get(name, None)


def get_sorted_preprocessors():
    results = OrderedDict([("None", supported_preprocessors["None"])])
    others = sorted((p for k, p in supported_preprocessors.items() if k != "None"),
                    key=lambda p: str(p.sorting_priority).zfill(8) + p.name, reverse=True)
    results.update((p.name, p) for p in others)
    return results


def get_all_preprocessor_names():
    return list(get_sorted_preprocessors().keys())
