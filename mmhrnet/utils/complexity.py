"""Parameter and multiply-add counts in the conventions HRNet papers publish."""
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

# fvcore-style operator names whose counts are multiply-adds of weights (what the HRNet papers
# and model zoos count); norms, activations and resizing are left out, as they are there.
MAC_OPERATORS = ('conv', 'linear', 'matmul', 'addmm', 'bmm', 'einsum')


def complexity(model, inputs):
    """Count parameters and multiply-adds of ``model(*inputs)``.

    Args:
        model (nn.Module): Model to analyse (left in the mode it is in).
        inputs (tuple): Positional inputs of one forward pass.

    Returns:
        dict: ``params`` (count), ``macs`` (multiply-adds of convs and linears, the published
        convention), ``gflops_published`` (``macs / 1024**3``, how the HRNet papers print
        "GFLOPs"), and ``other`` (norm / resize operations fvcore counts beside them).
    """
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    with torch.no_grad():
        by_op = analyzer.by_operator()
    macs = sum(v for k, v in by_op.items() if k in MAC_OPERATORS)
    return dict(
        params=sum(p.numel() for p in model.parameters()),
        macs=macs,
        gflops_published=macs / 1024**3,
        other=sum(by_op.values()) - macs)


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
