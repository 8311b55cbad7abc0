"""Parameter and multiply-add counts in the conventions HRNet papers publish."""
import torch
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
