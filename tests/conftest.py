"""Shared fixtures: paths of the repository and of the shared real data; every test starts
with the same random seeds and leaves mmengine's default registry scope as it found it."""
import contextlib
import os.path as osp
import random

import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO_TINY = osp.join(ROOT, '..', 'shared', 'data', 'coco_tiny')
SEED = 0


@pytest.fixture(scope='session')
def coco_tiny():
    if not osp.isdir(COCO_TINY):
        pytest.skip(f'shared data folder {COCO_TINY} is absent')
    return COCO_TINY


@contextlib.contextmanager
def isolation(seed=SEED):
    """Seeds Python, numpy and torch, and restores mmengine's ``DefaultScope`` instances on
    exit: what ran inside does not change what comes after it builds (the scope) or draws."""
    from mmengine.registry import DefaultScope
    scopes = dict(DefaultScope._instance_dict)  # ordered: the last one is the current scope
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        DefaultScope._instance_dict.clear()
        DefaultScope._instance_dict.update(scopes)


@pytest.fixture(autouse=True)
def isolated_scope_and_seeds():
    """Every test starts with the same seeds and leaves the default scope as it found it, so
    a test's result does not depend on which tests ran before it."""
    with isolation():
        yield
