"""The GPU harness's stand-in for mmcv's compiled ops (tools/misc/mmcv_ext_torchvision.py)
computes what mmcv's compiled CPU ops compute: outputs and input gradients."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmcv.utils import ext_loader

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    'mmcv_ext_stand_in', osp.join(ROOT, 'tools', 'misc', 'mmcv_ext_torchvision.py'))
stand_in = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stand_in)
compiled = ext_loader.load_ext('_ext', ['nms', 'roi_align_forward', 'roi_align_rotated_forward'])


def _rois(g, num, size, rotated):
    """Boxes partly outside the map, tiny and large, on two images."""
    cx, cy = torch.rand(num, generator=g) * size * 1.4 - 0.2 * size, \
        torch.rand(num, generator=g) * size * 1.4 - 0.2 * size
    w, h = torch.rand(num, generator=g) * size * 0.8 + 0.3, \
        torch.rand(num, generator=g) * size * 0.8 + 0.3
    b = torch.arange(num) % 2
    if rotated:
        theta = torch.rand(num, generator=g) * 6.4 - 3.2
        return torch.stack([b.float(), cx, cy, w, h, theta], 1)
    return torch.stack([b.float(), cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def _both(name, x, rois, out_shape, **kwargs):
    """Output and input gradient of mmcv's compiled op and of the stand-in."""
    results = []
    g = torch.Generator().manual_seed(1)
    grad_out = torch.randn(out_shape, generator=g)
    for ext in (compiled, stand_in):
        out = x.new_zeros(out_shape)
        grad_in = torch.zeros_like(x)
        if name == 'roi_align':
            arg = x.new_zeros(0)
            ext.roi_align_forward(x, rois, out, arg, arg, pool_mode=1, **kwargs)
            ext.roi_align_backward(grad_out, rois, arg, arg, grad_in, pool_mode=1, **kwargs)
        else:
            ext.roi_align_rotated_forward(x, rois, out, **kwargs)
            ext.roi_align_rotated_backward(grad_out, rois, grad_in, **kwargs)
        results.append((out, grad_in))
    return results


@pytest.mark.parametrize('aligned', [True, False])
def test_roi_align_matches_mmcv(aligned):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 13, 17, generator=g)
    rois = _rois(g, 24, 16, rotated=False)
    (ref, ref_grad), (out, grad) = _both(
        'roi_align', x, rois, (24, 3, 7, 5), aligned_height=7, aligned_width=5,
        spatial_scale=0.8, sampling_ratio=2, aligned=aligned)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('aligned,clockwise', [(True, False), (False, True)])
def test_roi_align_rotated_matches_mmcv(aligned, clockwise):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 13, 17, generator=g)
    rois = _rois(g, 24, 16, rotated=True)
    kwargs = dict(pooled_height=6, pooled_width=4, spatial_scale=0.8, sampling_ratio=2,
                  aligned=aligned, clockwise=clockwise)
    (ref, ref_grad), (out, grad) = _both('roi_align_rotated', x, rois, (24, 3, 6, 4), **kwargs)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-5)
    with pytest.raises(NotImplementedError, match='adaptive'):
        stand_in.roi_align_rotated_forward(x, rois, x.new_zeros(24, 3, 6, 4),
                                           **dict(kwargs, sampling_ratio=0))


def test_nms_matches_mmcv_and_other_ops_name_themselves():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=g) * 50
    boxes = torch.cat([xy, xy + torch.rand(200, 2, generator=g) * 20 + 1], 1)
    scores = torch.rand(200, generator=g)
    for iou in (0.3, 0.7):
        ref = compiled.nms(boxes, scores, iou_threshold=iou, offset=0)
        assert torch.equal(stand_in.nms(boxes, scores, iou_threshold=iou, offset=0), ref)
        assert 20 < len(ref) < 200
    with pytest.raises(NotImplementedError, match='deform_conv_forward'):
        stand_in.deform_conv_forward(boxes)
