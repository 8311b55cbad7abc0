"""Counting compute, in one place: multiply-adds of the convolutions and linear layers that run.

The one unit is the multiply-add (MAC), counted by :class:`MacCounter` with hooks on every
convolution, transposed convolution and linear layer during a real forward pass, so that
a detector's proposals, detections and person crops count as they ran (``torch.fx`` / jit
tracing cannot follow mmdet's proposal and NMS code). This is the published convention: norms,
activations, resizing and NMS are left out. The HRNet papers print the same count as "GFLOPs"
divided by 1024**3 (:func:`published_gflops`); decimal GMACs are ``macs / 1e9``.
"""
import torch
import torch.nn as nn

MAC_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def layer_macs(module, inputs, output):
    """Multiply-adds of one call of a layer of :data:`MAC_LAYERS`."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return output.numel() * module.in_channels // module.groups * kh * kw
    if isinstance(module, nn.ConvTranspose2d):
        kh, kw = module.kernel_size
        return inputs[0].numel() * module.out_channels // module.groups * kh * kw
    return output.numel() * module.in_features


class MacCounter:
    """Context manager adding up (in ``macs``) the multiply-adds of the convolutions and
    linear layers of ``model`` that run inside it."""

    def __init__(self, model):
        self.model, self.macs, self._handles = model, 0, []

    def _hook(self, module, inputs, output):
        self.macs += layer_macs(module, inputs, output)

    def __enter__(self):
        self._handles = [m.register_forward_hook(self._hook) for m in self.model.modules()
                         if isinstance(m, MAC_LAYERS)]
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()


def published_gflops(macs):
    """The HRNet papers' "GFLOPs" of a multiply-add count: ``macs / 1024**3``."""
    return macs / 1024**3


def complexity(model, inputs):
    """Count parameters and multiply-adds of ``model(*inputs)`` (one forward, no grad).

    Args:
        model (nn.Module): Model to analyse (left in the mode it is in).
        inputs (tuple): Positional inputs of one forward pass.

    Returns:
        dict: ``params`` (count), ``macs`` (multiply-adds of convs and linears, the published
        convention) and ``gflops_published`` (:func:`published_gflops`).
    """
    with MacCounter(model) as counter, torch.no_grad():
        model(*inputs)
    return dict(params=sum(p.numel() for p in model.parameters()), macs=counter.macs,
                gflops_published=published_gflops(counter.macs))


class PoseHRNetV1(nn.Module):
    """HRNetV1 with the pose papers' 1x1 heatmap head (highest-resolution branch only)."""

    def __init__(self, arch, num_keypoints=17):
        from mmhrnet.models import HRNet
        super().__init__()
        self.backbone = HRNet(arch=arch, multiscale_output=False)
        self.head = nn.Conv2d(self.backbone.out_channels[0], num_keypoints, 1)

    def forward(self, x):
        return self.head(self.backbone(x)[0])


class TensorForward(nn.Module):
    """Calls an OpenMMLab model in ``tensor`` mode, or its ``extract_feat`` as a fallback."""

    def __init__(self, model, method):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, x):
        if self.method == 'tensor':
            return self.model(x, mode='tensor')
        return self.model.extract_feat(x)


def measure(model, shape):
    """:func:`complexity` of ``model`` on one ``(H, W)`` input, through ``tensor`` mode or
    ``extract_feat`` for OpenMMLab models. Returns the counts and the method used."""
    x = torch.randn(1, 3, *shape)
    model.eval()
    if hasattr(model, 'extract_feat'):
        for method in ('tensor', 'extract_feat'):
            try:
                return complexity(TensorForward(model, method), (x, )), method
            except Exception as e:  # noqa: BLE001 (detectors need data samples in tensor mode)
                error = e
        raise error
    return complexity(model, (x, )), 'forward'
