"""Stand-in of sd-webui-controlnet's scripts/utils.py: ndarray_lru_cache."""

import functools

import numpy as np


def ndarray_lru_cache(max_size: int = 128, typed: bool = False):
    """lru_cache for functions taking numpy arrays: arrays are passed on as a hashable ndarray subclass."""

    def decorator(func):
        class HashableNpArray(np.ndarray):
            def __new__(cls, input_array):
                return np.asarray(input_array).view(cls)

            def __eq__(self, other) -> bool:
                return np.array_equal(self, other)

            def __hash__(self):
                return hash(self.tobytes())

        @functools.lru_cache(maxsize=max_size, typed=typed)
        def cached(*args, **kwargs):
            return func(*args, **kwargs)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            def wrap(item):
                return HashableNpArray(item) if isinstance(item, np.ndarray) else item

            return cached(*[wrap(a) for a in args], **{k: wrap(v) for k, v in kwargs.items()})

        return wrapper

    return decorator

