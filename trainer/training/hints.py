"""One-line warnings for training settings that slim users know go wrong.

They are hints, not errors: the run goes on. Printed by the run-config loader
(before any component runs) and again by the training library, which also knows
the net's own batch-norm decay.
"""
from __future__ import annotations

import math
from typing import List, Optional

from trainer.config import TrainConfig

# Adam/RMSProp steps scale like lr * g / (sqrt(v) + epsilon); with slim's epsilon=1.0
# and gradients well below 1 the step is ~lr * g, orders of magnitude too small.
ADAPTIVE_OPTIMIZERS = ("adam", "rmsprop")
LARGE_EPSILON = 0.1
# The moving statistics hold decay**steps of their initial value (mean 0, variance 1);
# above this fraction, eval-time batch norm still mostly uses the initial values.
STALE_FRACTION = 0.05


def bn_steps_needed(decay: float) -> int:
    """Steps until ``decay**steps`` falls below :data:`STALE_FRACTION`."""
    return int(math.ceil(math.log(STALE_FRACTION) / math.log(decay)))


def hints(config: TrainConfig, steps: Optional[int] = None,
          net_batch_norm_decay: Optional[float] = None) -> List[str]:
    """The hints for ``config`` trained for ``steps`` (default: max_number_of_steps).

    Args:
      net_batch_norm_decay: the net's own decay when ``config.batch_norm_decay`` is
        None (known once the net is built); None skips the batch-norm hint then.
    """
    out = []
    steps = steps or config.max_number_of_steps
    if config.optimizer in ADAPTIVE_OPTIMIZERS and config.opt_epsilon >= LARGE_EPSILON \
            and not config.checkpoint_path:
        out.append(f"hint: {config.optimizer} with opt_epsilon={config.opt_epsilon:g} (slim's "
                   "default) barely moves a net trained from scratch; set train.opt_epsilon: 1e-8 "
                   "(Adam) or raise the learning rate.")
    decay = config.batch_norm_decay or net_batch_norm_decay
    if decay and steps and not config.checkpoint_path and steps < bn_steps_needed(decay):
        out.append(f"hint: batch_norm_decay={decay:g} needs ~{bn_steps_needed(decay)} steps for the "
                   f"moving statistics to forget their start, the run has {steps}: eval accuracy "
                   "will trail training accuracy; set train.batch_norm_decay: 0.9 (or train longer).")
    return out
