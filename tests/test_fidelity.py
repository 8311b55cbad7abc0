"""mmhrnet.HRNet equals the HRNets that mmpose, mmseg and mmdet ship, under the same weights."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.utils import get_installed_path

from mmhrnet.models import HRNet, arch_to_extra
from mmhrnet.utils import complexity
from mmhrnet.utils.complexity import PoseHRNetV1
from mmhrnet.utils.fidelity import (
    DROP_IN_CHANGES,
    TEST_SIZES,
    compare,
    compare_extra,
    upstream_hrnet,
)


@pytest.mark.parametrize('package', ['mmpose', 'mmseg', 'mmdet'])
@pytest.mark.parametrize('width', [18, 32, 48])
def test_drop_in_equality(package, width):
    res = compare_extra(package, arch_to_extra(f'w{width}'))  # mmpose: no stage-4 key: V1
    assert res['max_rel_diff'] < 1e-5
    if width == 32:  # the key counts HRNET_FACTS gives for one and four outputs
        assert res['keys'] == (1752 if package == 'mmpose' else 1830)


UPSTREAM_CONFIGS = {
    'mmpose': 'body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py',
    'mmseg': 'hrnet/fcn_hr18_4xb2-160k_cityscapes-512x1024.py',
    'mmdet': 'hrnet/faster-rcnn_hrnetv2p-w32-1x_coco.py',
}


@pytest.mark.parametrize('package', list(UPSTREAM_CONFIGS))
def test_backbone_dict_of_upstream_config(package):
    """The backbone dict of a shipped config builds both, with the one-line change users make."""
    path = osp.join(get_installed_path(package.replace('mmseg', 'mmsegmentation')), '.mim',
                    'configs', UPSTREAM_CONFIGS[package])
    cfg = Config.fromfile(path).model.backbone.to_dict()
    cfg.pop('type')
    cfg['norm_cfg'] = dict(type='BN', requires_grad=True)  # SyncBN needs a process group
    upstream = upstream_hrnet(package)(**copy.deepcopy(cfg))
    ours = HRNet(**cfg, **DROP_IN_CHANGES[package])
    assert ours.norm_eval == upstream.norm_eval
    assert compare(upstream, ours, TEST_SIZES[package][:1])['max_rel_diff'] < 1e-5


def test_non_multiple_of_32_sides_break_upstream_nearest_but_not_ours():
    extra = arch_to_extra('w18')
    upstream, ours = upstream_hrnet('mmdet')(extra=copy.deepcopy(extra)), HRNet(extra=extra)
    upstream.eval()
    ours.eval()
    x = torch.randn(1, 3, 200, 136)
    with pytest.raises(RuntimeError):
        upstream(x)
    assert [o.shape[-2] for o in ours(x)] == [50, 25, 13, 7]


@pytest.mark.parametrize('width, params, gmacs, gflops', [(32, 28.54, 7.65, 7.1),
                                                          (48, 63.60, 15.69, 14.6)])
def test_published_pose_complexity(width, params, gmacs, gflops):
    res = complexity(PoseHRNetV1(f'w{width}').eval(), (torch.randn(1, 3, 256, 192), ))
    assert round(res['params'] / 1e6, 2) == params
    assert round(res['macs'] / 1e9, 2) == gmacs
    assert round(res['gflops_published'], 1) == gflops
