"""Stand-in of modules/devices.py: get_device_for(task) and torch_gc(), the names both AUTOMATIC1111
(v1.10.1: cmd_opts.use_cpu, else the optimal device) and Forge (over its memory management) define.

What is simplified: no torch; the device is a small object with torch.device's `type` and `index`
and its str(); tests set `controlnet_device` to say what the host would return."""


class Device:
    def __init__(self, text: str):
        self.type, _, index = text.partition(":")
        self.index = int(index) if index else None
        self.text = text

    def __str__(self):
        return self.text


controlnet_device = Device("cpu")
gc_calls = 0  # how often torch_gc() ran


def get_device_for(task):
    return controlnet_device


def torch_gc():
    global gc_calls
    gc_calls += 1
