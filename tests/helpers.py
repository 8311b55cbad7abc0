"""Helpers shared by the tests."""
import os.path as osp

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = osp.join(ROOT, '..', 'shared', 'data')


def randomize(model, seed=0):
    """Fill every float parameter and buffer with random values (variances positive), so that
    any difference between two implementations shows up in their outputs."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in model.state_dict().items():
        if not v.is_floating_point():
            state[k] = v
        elif k.endswith('running_var'):
            state[k] = torch.rand(v.shape, generator=g) + 0.5
        else:
            state[k] = torch.randn(v.shape, generator=g) * 0.1
    model.load_state_dict(state, strict=True)
    return state


def max_rel_diff(a, b):
    """Largest absolute difference over the largest magnitude of ``a``."""
    return ((a - b).abs().max() / a.abs().max()).item()
