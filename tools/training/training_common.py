"""What tools/training/train_digits.py and tools/training/train_words.py share: reproducible seeding and the
starting scale of every Linear layer."""
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    # One thread: on this 2-core box a second thread made these small matrices slower (OpenMP overhead, other
    # load), and a fixed count keeps the floating-point reductions, hence the weights, reproducible.
    torch.set_num_threads(1)


@torch.no_grad()
def lecun_linears(model: torch.nn.Module) -> None:
    """Starts every Linear at LeCun scale (std 1/sqrt(fan_in)) rather than transformers' 0.02, so the
    cross-attentions are not uniform at the first step."""
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.weight.normal_(0.0, module.in_features ** -0.5)
