"""A faster torch path for inference: conv-BN folding, channels-last memory, bf16 autocast and
``torch.compile``, behind one call."""
import functools
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from mmhrnet.engine.optim_wrapper import autocast_forward
from mmhrnet.utils.cpu import cpu_has_bf16, usable_cores
from mmhrnet.utils.build import has_mmcv_ops, unwrap_model

# Children of an OpenMMLab model that carry the network's multiply-adds, in forward order.
FEATURE_MODULES = ('backbone', 'neck', 'head', 'decode_head')


def _fold(conv, bn):
    """Fold eval-mode ``bn`` into ``conv`` (in place): the conv then computes both."""
    scale = bn.running_var.add(bn.eps).rsqrt()
    if bn.affine:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale + (bn.bias if bn.affine else 0)
    with torch.no_grad():
        conv.weight.mul_(scale.reshape(-1, *([1] * (conv.weight.dim() - 1))))
        if conv.bias is None:
            conv.bias = nn.Parameter(shift.detach().clone())
        else:
            conv.bias.copy_(conv.bias * scale + shift)


def _foldable(conv, bn):
    return (isinstance(conv, nn.Conv2d) and type(bn) in (nn.BatchNorm2d, nn.SyncBatchNorm)
            and bn.track_running_stats and bn.num_features == conv.out_channels)


def _pairs(module):
    """(conv, owner, bn name) for each conv that a BN directly follows inside ``module``: the
    layers of an ``nn.Sequential``; ``convN`` + ``bnN`` / ``normN`` of HRNet's and ResNet's
    blocks and stems; ``conv`` + ``norm`` of mmcv's ConvModule (conv before norm)."""
    children = dict(module.named_children())
    if isinstance(module, nn.Sequential):
        names = list(children)
        for a, b in zip(names, names[1:]):
            yield children[a], module, b
        return
    if type(module).__name__ == 'ConvModule' and getattr(module, 'with_norm', False):
        if module.order.index('conv') + 1 == module.order.index('norm'):
            yield module.conv, module, module.norm_name
        return
    for name, child in children.items():
        if name.startswith('conv') and name[4:].isdigit():
            for norm in (f'bn{name[4:]}', f'norm{name[4:]}'):
                if norm in children:
                    yield child, module, norm


def fold_conv_bn(model):
    """Fold every BatchNorm that directly follows a convolution into it (eval mode only) and
    put an ``nn.Identity`` in its place. Returns the number folded."""
    if model.training:
        raise ValueError('fold_conv_bn: the model is in training mode; folding uses the running '
                         'statistics of eval mode (call model.eval() first)')
    count = 0
    for module in list(model.modules()):
        for conv, owner, name in list(_pairs(module)):
            bn = getattr(owner, name)
            if _foldable(conv, bn):
                _fold(conv, bn)
                setattr(owner, name, nn.Identity())
                count += 1
    return count


# Below this many RoIs a call is not split: handing work to threads costs more than it saves.
MIN_ROIS_PER_THREAD = 64


@functools.lru_cache(maxsize=None)
def _roi_pool(workers):
    return ThreadPoolExecutor(workers, thread_name_prefix='roi_align')


def _split_forward(forward, input, rois):
    """``forward(input, rois)`` of an RoIAlign, its RoIs split over the process's cores when
    no gradient is needed (torchvision's CPU kernel runs on one thread; torch's thread count is
    often one around an exported model, while the cores are idle during the RoI stage). The
    chunks are concatenated in order: the same output bit for bit."""
    workers = min(usable_cores(), len(rois) // MIN_ROIS_PER_THREAD)
    if workers < 2 or torch.is_grad_enabled() or input.device.type != 'cpu':
        return forward(input, rois)
    chunks = rois.chunk(workers)
    return torch.cat(list(_roi_pool(workers).map(lambda r: forward(input, r), chunks)))


@functools.lru_cache(maxsize=None)
def _threaded_class(cls):
    """``cls`` (an RoIAlign class) whose forward goes through :func:`_split_forward`."""
    class Threaded(cls):
        def forward(self, input, rois):
            return _split_forward(super().forward, input, rois)

    Threaded.__name__ = Threaded.__qualname__ = cls.__name__
    return Threaded


def torchvision_roi_align(model):
    """Every mmcv ``RoIAlign`` of ``model`` that average-pools (mmdet's RoI extractors) set to
    run torchvision's kernel (mmcv's own ``use_torchvision`` option): the same outputs and
    gradients bit for bit, 2-3x faster on CPU; without gradients, many RoIs are split over the
    cores (:func:`_split_forward`). Returns the number set."""
    from mmcv.ops import RoIAlign
    count = 0
    for module in model.modules():
        if isinstance(module, RoIAlign) and module.pool_mode == 'avg' and \
                not module.use_torchvision:
            module.use_torchvision = True
            module.__class__ = _threaded_class(type(module))
            count += 1
    return count


def _contiguous(out):
    if isinstance(out, torch.Tensor):
        return out.contiguous()
    if isinstance(out, (list, tuple)):
        return type(out)(_contiguous(o) for o in out)
    return out


def optimize_model(model, precision='fp32', channels_last=True, fold_bn=True, compile=False):
    """Make an OpenMMLab model (or any module) faster for inference on this machine, in place.

    Args:
        model (nn.Module): A pose estimator, segmentor, detector (or TTA / DDP wrapper of
            one), or a bare network; put in eval mode.
        precision (str): ``'fp32'`` (outputs within 1e-5 of the plain model) or ``'bf16'``
            (autocast of the backbone, neck and pose / seg head, outputs back in fp32; refused
            on CPUs without bf16 units).
        channels_last (bool): NHWC memory, which oneDNN's convolutions run faster. A model
            holding mmcv ops (which read NCHW only: mmdet's RoIAlign) gets it in its backbone
            and neck only, their outputs returned to NCHW.
        fold_bn (bool): Fold BatchNorm into the convolution before it.
        compile (bool): ``torch.compile`` the feature modules with inductor's freezing (a
            first call of some 30 s per input shape; inference under ``torch.no_grad``).

    Returns:
        nn.Module: ``model``.
    """
    if precision not in ('fp32', 'bf16'):
        raise ValueError(f"precision {precision!r}: expected 'fp32' or 'bf16'")
    target = unwrap_model(model)
    device = next(target.parameters()).device
    if precision == 'bf16' and device.type == 'cpu' and cpu_has_bf16() is False:
        raise ValueError('precision bf16: this CPU has no bf16 units (neither AVX512-BF16 nor '
                         'AMX in /proc/cpuinfo), where bf16 is emulated and slower than fp32')
    model.eval()
    feats = [getattr(target, n) for n in FEATURE_MODULES
             if isinstance(getattr(target, n, None), nn.Module)] or [target]
    if fold_bn:
        fold_conv_bn(target)
    if channels_last:
        if has_mmcv_ops(target):
            front = [m for m in feats if not has_mmcv_ops(m)]
            for m in front:
                m.to(memory_format=torch.channels_last)
            if front:  # the last feature module hands NCHW maps to the mmcv ops
                front[-1].register_forward_hook(lambda m, args, out: _contiguous(out))
        else:
            target.to(memory_format=torch.channels_last)
    for m in feats:
        if precision == 'bf16' and not has_mmcv_ops(m):
            m.forward = autocast_forward(m.forward, device.type, torch.bfloat16)
        if compile:
            # freezing: weights become constants that inductor folds and prepacks for oneDNN
            # (and fuses conv + add + ReLU): W32 pose batch 8 ran 1.54x eager, against 1.21x
            # for the fold + NHWC path alone (docs/deploy.md).
            m.compile(options={'freezing': True})
    return model
