"""Whether a batch of inputs gives the same outputs as the inputs run one by one."""

from __future__ import annotations

import numpy as np

from .protocol import ModelSession


def batches_like_singles(session: ModelSession, exact: bool) -> bool:
    """Run two random inputs as one batch and one at a time. `exact`: every output bit must agree
    (the exact mode); otherwise they must agree within 1 %."""
    model_input = session.get_inputs()[0]
    shape = [2] + [dim if isinstance(dim, int) else 1 for dim in model_input.shape[1:]]
    batch = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    together = session.run(None, {model_input.name: batch})
    apart = [session.run(None, {model_input.name: batch[i:i + 1]}) for i in range(2)]
    for i, outputs in enumerate(apart):
        for joint, single in zip(together, outputs):
            if joint.shape[0] != 2 or not (np.array_equal(joint[i:i + 1], single) if exact
                                           else np.allclose(joint[i:i + 1], single, rtol=1e-2, atol=1e-2)):
                return False
    return True
