"""The faster torch path (mmhrnet.deploy.optimize_model): conv-BN folding, channels-last, bf16
autocast; fp32 outputs within 1e-5 of the plain model for pose, seg and det."""
import copy
import glob
import os.path as osp

import pytest
import torch
from conftest import ROOT
from torch import nn

from mmhrnet.deploy import fold_conv_bn, optimize_model
from mmhrnet.deploy.task import ExportedNet
from mmhrnet.tasks import task_of
from mmhrnet.utils.build import build_model, load_config
from mmhrnet.utils.fidelity import max_rel_diff
from mmhrnet.engine.precision import cpu_has_bf16
from mmhrnet.models import HRNet

CONFIGS = {
    'pose': 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py',
    'seg': 'configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py',
    'det': glob.glob(osp.join(ROOT, 'configs/det/mask-rcnn_*synthetic-people-128.py'))[0],
}


def randomized(model, seed=0):
    """Random BN statistics and affine terms, so that folding has something to fold."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=gen) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=gen) * 0.2 - 0.1)
    return model.eval()


@pytest.fixture(scope='module', params=sorted(CONFIGS))
def model_and_input(request):
    cfg = load_config(osp.join(ROOT, CONFIGS[request.param]))
    torch.manual_seed(0)
    model = randomized(build_model(cfg))
    shape = (2, 3, 192, 144) if request.param == 'pose' else (2, 3, 96, 128)
    return model, task_of(cfg), torch.randn(*shape, generator=torch.Generator().manual_seed(1))


def outputs(model, task, x):
    with torch.no_grad():
        return ExportedNet(model, task)(x)


def test_fp32_fast_path_equals_the_plain_model(model_and_input):
    model, task, x = model_and_input
    fast = optimize_model(copy.deepcopy(model))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.backbone.modules())
    assert max_rel_diff(outputs(model, task, x), outputs(fast, task, x)) <= 1e-5
    if task == 'det':  # mmcv's RoIAlign reads NCHW only: the heads stay NCHW
        assert not fast.rpn_head.rpn_conv.weight.is_contiguous(
            memory_format=torch.channels_last)
        assert all(o.is_contiguous() for o in outputs(fast, task, x))
    else:
        conv = fast.backbone.conv1
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_compiled_fast_path_equals_the_plain_model(model_and_input):
    model, task, x = model_and_input
    if task != 'pose':
        pytest.skip('one task is enough to check the compiled (frozen) path')
    fast = optimize_model(copy.deepcopy(model), compile=True)
    assert max_rel_diff(outputs(model, task, x), outputs(fast, task, x)) <= 1e-5
    assert fast.backbone._compiled_call_impl is not None  # it was compiled


@pytest.mark.skipif(not cpu_has_bf16(), reason='this CPU has no bf16 units')
def test_bf16_fast_path_close_and_fp32_out(model_and_input):
    model, task, x = model_and_input
    fast = optimize_model(copy.deepcopy(model), precision='bf16')
    out, ref = outputs(fast, task, x), outputs(model, task, x)
    assert all(o.dtype == torch.float32 for o in (out if isinstance(out, tuple) else [out]))
    assert 1e-5 < max_rel_diff(ref, out) < 5e-2  # bf16 really ran, and stayed close


def test_fold_counts_hrnet_norms_and_needs_eval():
    model = randomized(HRNet(arch='w18_small_v1'))
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = model(x)
        assert fold_conv_bn(model) == norms  # every HRNet norm follows a conv
        assert max_rel_diff(ref, model(x)) <= 1e-5
    with pytest.raises(ValueError, match='training mode'):
        fold_conv_bn(HRNet(arch='w18_small_v1').train())


def test_bf16_refused_without_bf16_units(monkeypatch):
    from mmhrnet.deploy import optimize
    monkeypatch.setattr(optimize, 'cpu_has_bf16', lambda: False)
    with pytest.raises(ValueError, match='no bf16 units'):
        optimize_model(HRNet(arch='w18_small_v1'), precision='bf16')
    with pytest.raises(ValueError, match="expected 'fp32' or 'bf16'"):
        optimize_model(HRNet(arch='w18_small_v1'), precision='int8')


def test_torchvision_roi_align_is_mmcvs_bit_for_bit():
    """The inferencer's RoI stage runs mmcv's RoIAlign through torchvision's kernel: outputs
    and gradients equal bit for bit (adaptive and fixed sampling, two images, boxes partly
    outside); max pooling, which torchvision lacks, stays mmcv's."""
    from mmcv.ops import RoIAlign

    from mmhrnet.deploy.optimize import torchvision_roi_align
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 8, 30, 40, generator=gen, requires_grad=True)
    xy = torch.rand(20, 2, generator=gen) * 200 - 20
    rois = torch.cat([torch.randint(0, 2, (20, 1), generator=gen).float(), xy,
                      xy + torch.rand(20, 2, generator=gen) * 120 + 1], 1)
    model = nn.ModuleList([RoIAlign((7, 7), 0.25, 0), RoIAlign((14, 14), 0.25, 2),
                           RoIAlign((7, 7), 0.25, 2, pool_mode='max')])
    before = [layer(feats, rois) for layer in model]
    grads = [torch.autograd.grad(b.sum(), feats)[0] for b in before]
    assert torchvision_roi_align(model) == 2 and not model[2].use_torchvision
    for layer, b, g in zip(model, before, grads):
        after = layer(feats, rois)
        assert torch.equal(after, b)
        assert torch.equal(torch.autograd.grad(after.sum(), feats)[0], g)


def test_torchvision_roi_align_splits_many_rois_over_threads_bit_for_bit(monkeypatch):
    """Without gradients, many RoIs go to worker threads in chunks: the same output bit for
    bit, and the chunks really go through the pool."""
    from mmcv.ops import RoIAlign

    from mmhrnet.deploy import optimize
    monkeypatch.setattr(optimize, 'usable_cores', lambda: 3)
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 8, 30, 40, generator=gen)
    xy = torch.rand(500, 2, generator=gen) * 200 - 20
    rois = torch.cat([torch.randint(0, 2, (500, 1), generator=gen).float(), xy,
                      xy + torch.rand(500, 2, generator=gen) * 120 + 1], 1)
    layer = RoIAlign((7, 7), 0.25, 0)
    with torch.no_grad():
        ref = layer(feats, rois)
        assert optimize.torchvision_roi_align(layer) == 1
        calls = []
        monkeypatch.setattr(optimize, '_roi_pool', lambda n: calls.append(n) or
                            optimize.ThreadPoolExecutor(n))
        out = layer(feats, rois)
        assert calls == [3] and torch.equal(out, ref)
        layer(feats, rois[:100])  # too few to split
        assert calls == [3]
