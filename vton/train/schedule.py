"""The references' learning-rate schedule, actually applied.

CP-VTON and CP-VTON+ declare ``LambdaLR(lambda step: 1 - max(0, step - keep) /
(decay + 1))`` but never call `scheduler.step()`, so their rate stays at 1e-4 throughout.
Here it is stepped once per optimiser step: constant for `keep_steps`, then linear towards
zero over `decay_steps` (the factor of the last step is 1 / (decay + 1), as in the
declared lambda).
"""

from __future__ import annotations

import torch

__all__ = ["ConstantThenLinear", "make_scheduler"]


class ConstantThenLinear:
    """lr factor at step s: ``1 - max(0, s - keep_steps) / (decay_steps + 1)``, >= 0.

    A class, not a lambda, so `LambdaLR.state_dict()` records its parameters.
    """

    def __init__(self, keep_steps: int, decay_steps: int) -> None:
        if keep_steps < 0 or decay_steps < 0:
            raise ValueError(f"steps must be >= 0, got {keep_steps}, {decay_steps}")
        self.keep_steps = int(keep_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step: int) -> float:
        return max(0.0, 1.0 - max(0, step - self.keep_steps) / float(self.decay_steps + 1))


def make_scheduler(
    optimizer: torch.optim.Optimizer, keep_steps: int, decay_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """`LambdaLR` with `ConstantThenLinear`; call `.step()` after every `optimizer.step()`."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda=ConstantThenLinear(keep_steps, decay_steps)
    )
