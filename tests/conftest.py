"""Shared fixtures: paths of the repository and of the shared real data."""
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO_TINY = osp.join(ROOT, '..', 'shared', 'data', 'coco_tiny')


@pytest.fixture(scope='session')
def coco_tiny():
    if not osp.isdir(COCO_TINY):
        pytest.skip(f'shared data folder {COCO_TINY} is absent')
    return COCO_TINY
