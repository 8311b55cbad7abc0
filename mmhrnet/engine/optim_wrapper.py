"""Mixed precision without loss scaling, for devices where mmengine's AmpOptimWrapper is not."""
import functools
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmhrnet.registry import OPTIM_WRAPPERS
from mmhrnet.utils.build import unwrap_model


def _to_float(out):
    """Cast the reduced-precision float tensors of a (nested) output back to fp32."""
    if isinstance(out, torch.Tensor):
        return out.float() if out.dtype in (torch.bfloat16, torch.float16) else out
    if isinstance(out, (list, tuple)):
        return type(out)(_to_float(o) for o in out)
    if isinstance(out, dict):
        return {k: _to_float(v) for k, v in out.items()}
    return out


def autocast_forward(forward, device_type, dtype=torch.bfloat16):
    """``forward`` run under ``torch.autocast(device_type, dtype)``, its float outputs cast back
    to fp32 so that what follows (heads, losses, numpy metrics) needs no change."""
    @functools.wraps(forward)
    def wrapped(*args, **kwargs):
        with torch.autocast(device_type, dtype):
            return _to_float(forward(*args, **kwargs))
    return wrapped


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs the feature extractor under ``torch.autocast`` (bf16 by default) on any device.

    mmengine's ``AmpOptimWrapper`` asserts a GPU and scales fp16 losses; bf16 has fp32's
    exponent range and needs no loss scaling, so on a CPU this is all ``--amp`` takes. Only
    ``modules`` (the backbone and neck, where the multiply-adds are) run in reduced precision;
    their outputs return to fp32, so heads, losses and the metrics mmpose computes with numpy
    (which has no bf16) stay in fp32.

    Args:
        dtype (str): ``'bfloat16'`` or ``'float16'``. Defaults to ``'bfloat16'``.
        modules (tuple[str]): Child modules of the model to autocast; the whole model when
            it has none of them. Defaults to ``('backbone', 'neck')``.
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype='bfloat16', modules=('backbone', 'neck'), **kwargs):
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"AutocastOptimWrapper dtype = {dtype!r}; expected 'bfloat16' "
                             "or 'float16'")
        self.cast_dtype = getattr(torch, dtype)
        self.modules = tuple(modules)

    @contextmanager
    def optim_context(self, model):
        target = unwrap_model(model)
        children = [getattr(target, n) for n in self.modules if hasattr(target, n)] or [target]
        device_type = next(target.parameters()).device.type
        for child in children:  # an instance attribute shadows the class's forward
            child.forward = autocast_forward(child.forward, device_type, self.cast_dtype)
        try:
            with super().optim_context(model):
                yield
        finally:
            for child in children:
                del child.forward
