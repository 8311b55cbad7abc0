"""Compare mmhrnet.HRNet with the HRNets of mmpose, mmseg and mmdet under the same weights."""
import copy
import importlib

import torch

# What a user adds beside type='mmhrnet.HRNet' where the upstream default differs from ours.
DROP_IN_CHANGES = {
    'mmpose': dict(multiscale_output=False),  # mmpose's HRNetV1 returns the 1/4 branch only
    'mmseg': dict(upsample_mode='bilinear'),  # mmseg fuses with bilinear upsampling
    'mmdet': dict(norm_eval=True),  # mmdet freezes BN statistics by default
}
# Input sides that are not multiples of 32. mmpose and mmdet add nearest-upsampled maps to the
# branch above without resizing, so their HRNets only run where every halving is exact: sides
# 32k-3..32k (253 -> 127 -> 64 at 1/4). mmseg resizes, so it also takes inexact halvings.
TEST_SIZES = {'mmpose': [(253, 189)], 'mmdet': [(253, 189)], 'mmseg': [(253, 189), (200, 136)]}


def upstream_hrnet(package):
    """The ``HRNet`` class of ``package`` ('mmpose', 'mmseg' or 'mmdet')."""
    return importlib.import_module(f'{package}.models.backbones').HRNet


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


def compare(upstream, ours, sizes, batch=2, seed=0):
    """Swap randomised weights between two HRNets strictly and compare their eval outputs.

    Returns:
        dict: ``keys`` (state-dict size) and ``max_rel_diff`` over all outputs and sizes.
    """
    upstream.eval()  # mmpose's train() returns None: no chaining
    ours.eval()
    ours.load_state_dict(randomize(upstream, seed), strict=True)
    upstream.load_state_dict(ours.state_dict(), strict=True)
    worst = 0.0
    for size in sizes:
        x = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            ref, out = upstream(x), ours(x)
        if len(ref) != len(out) or any(a.shape != b.shape for a, b in zip(ref, out)):
            raise AssertionError(f'output shapes differ: {[tuple(a.shape) for a in ref]} vs '
                                 f'{[tuple(b.shape) for b in out]}')
        worst = max([worst] + [max_rel_diff(a, b) for a, b in zip(ref, out)])
    return dict(keys=len(ours.state_dict()), max_rel_diff=worst)


def compare_extra(package, extra, sizes=None):
    """Build ``package``'s HRNet and ours from the same ``extra`` and :func:`compare` them."""
    from mmhrnet.models import HRNet
    upstream = upstream_hrnet(package)(extra=copy.deepcopy(extra))
    ours = HRNet(extra=extra, upsample_mode='bilinear' if package == 'mmseg' else None)
    return compare(upstream, ours, sizes or TEST_SIZES[package])
