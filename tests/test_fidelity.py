"""mmhrnet.HRNet equals the HRNets that mmpose, mmseg and mmdet ship, under the same weights."""
import copy
import os.path as osp

import pytest
import torch
from helpers import max_rel_diff, randomize
from mmengine.config import Config

from mmhrnet.models import HRNet, arch_to_extra
from mmhrnet.utils import complexity

# Sides not multiples of 32. mmpose and mmdet add nearest-upsampled maps to the branch above
# without resizing, so their HRNets only run where every halving is exact: sides 32k-3..32k
# (253 -> 127 -> 64 at 1/4). mmseg resizes, so it also gets sides where halvings are inexact.
SIZES = {'mmpose': [(253, 189)], 'mmdet': [(253, 189)], 'mmseg': [(253, 189), (200, 136)]}


def upstream_hrnet(package):
    if package == 'mmpose':
        from mmpose.models.backbones import HRNet as cls
    elif package == 'mmseg':
        from mmseg.models.backbones import HRNet as cls
    else:
        from mmdet.models.backbones import HRNet as cls
    return cls


# What a user adds beside type='mmhrnet.HRNet' where the upstream default differs from ours.
DROP_IN_CHANGES = {
    'mmpose': dict(multiscale_output=False),  # mmpose's HRNetV1 returns the 1/4 branch only
    'mmseg': dict(upsample_mode='bilinear'),  # mmseg fuses with bilinear upsampling
    'mmdet': dict(norm_eval=True),  # mmdet freezes BN statistics by default
}


def assert_equal_models(upstream, ours, sizes):
    upstream.eval()
    ours.eval()
    state = randomize(upstream)
    ours.load_state_dict(state, strict=True)
    upstream.load_state_dict(ours.state_dict(), strict=True)
    for size in sizes:
        x = torch.randn(2, 3, *size)
        with torch.no_grad():
            ref, out = upstream(x), ours(x)
        assert len(ref) == len(out)
        for a, b in zip(ref, out):
            assert a.shape == b.shape
            assert max_rel_diff(a, b) < 1e-5


@pytest.mark.parametrize('package', ['mmpose', 'mmseg', 'mmdet'])
@pytest.mark.parametrize('width', [18, 32, 48])
def test_drop_in_equality(package, width):
    extra = arch_to_extra(f'w{width}')
    if package == 'mmpose':
        extra['stage4']['multiscale_output'] = False  # what mmpose's default means
    upstream = upstream_hrnet(package)(extra=copy.deepcopy(extra))
    ours = HRNet(extra=extra, upsample_mode='bilinear' if package == 'mmseg' else None)
    assert len(ours.state_dict()) == len(upstream.state_dict())
    assert_equal_models(upstream, ours, SIZES[package])


UPSTREAM_CONFIGS = {
    'mmpose': 'body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py',
    'mmseg': 'hrnet/fcn_hr18_4xb2-160k_cityscapes-512x1024.py',
    'mmdet': 'hrnet/faster-rcnn_hrnetv2p-w32-1x_coco.py',
}


@pytest.mark.parametrize('package', list(UPSTREAM_CONFIGS))
def test_backbone_dict_of_upstream_config(package):
    """The backbone dict of a shipped config builds both, with the one-line change users make."""
    from mmengine.utils import get_installed_path
    path = osp.join(get_installed_path(package.replace('mmseg', 'mmsegmentation')), '.mim',
                    'configs', UPSTREAM_CONFIGS[package])
    cfg = Config.fromfile(path).model.backbone.to_dict()
    cfg.pop('type')
    cfg['norm_cfg'] = dict(type='BN', requires_grad=True)  # SyncBN needs a process group
    upstream = upstream_hrnet(package)(**copy.deepcopy(cfg))
    ours = HRNet(**cfg, **DROP_IN_CHANGES[package])
    assert ours.norm_eval == upstream.norm_eval
    assert_equal_models(upstream, ours, SIZES[package][:1])


def test_non_multiple_of_32_sides_break_upstream_nearest_but_not_ours():
    extra = arch_to_extra('w18')
    upstream, ours = upstream_hrnet('mmdet')(extra=copy.deepcopy(extra)), HRNet(extra=extra)
    upstream.eval()
    ours.eval()
    x = torch.randn(1, 3, 200, 136)
    with pytest.raises(RuntimeError):
        upstream(x)
    assert [o.shape[-2] for o in ours(x)] == [50, 25, 13, 7]


@pytest.mark.parametrize('width, params, gmacs', [(32, 28.54, 7.65), (48, 63.60, 15.69)])
def test_published_pose_complexity(width, params, gmacs):
    """Pose HRNet-W{32,48} (backbone + 1x1 head to 17 heatmaps) at 256x192, as published."""
    model = torch.nn.Sequential()
    backbone = HRNet(arch=f'w{width}', multiscale_output=False)

    class Pose(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = backbone, torch.nn.Conv2d(width, 17, 1)

        def forward(self, x):
            return self.head(self.backbone(x)[0])

    model = Pose().eval()
    res = complexity(model, (torch.randn(1, 3, 256, 192), ))
    assert round(res['params'] / 1e6, 2) == params
    assert round(res['macs'] / 1e9, 2) == gmacs
    assert round(res['gflops_published'], 1) == {32: 7.1, 48: 14.6}[width]
