"""Mixed precision without loss scaling, for devices where mmengine's AmpOptimWrapper is not."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmhrnet.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs forward passes under ``torch.autocast`` (bf16 by default) on any device.

    mmengine's ``AmpOptimWrapper`` asserts a GPU and scales fp16 losses; bf16 has fp32's
    exponent range and needs no loss scaling, so on a CPU this is all ``--amp`` takes.

    Args:
        dtype (str): ``'bfloat16'`` or ``'float16'``. Defaults to ``'bfloat16'``.
        device_type (str, optional): Autocast device; defaults to the device of the first
            parameter the optimizer holds.
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype='bfloat16', device_type=None, **kwargs):
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"AutocastOptimWrapper dtype = {dtype!r}; expected 'bfloat16' "
                             "or 'float16'")
        self.cast_dtype = getattr(torch, dtype)
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model):
        device_type = self.device_type or next(
            p.device.type for g in self.optimizer.param_groups for p in g['params'])
        with super().optim_context(model), torch.autocast(device_type, self.cast_dtype):
            yield
