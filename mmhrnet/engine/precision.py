"""Training precision: what the CPU offers, ``--amp``, and a short probe that measures which
precision trains the actual model faster on this machine."""
import functools
import warnings

import torch


@functools.lru_cache(maxsize=None)
def cpu_flags():
    """The feature flags of this CPU (``flags`` of /proc/cpuinfo); None where unknown."""
    try:
        with open('/proc/cpuinfo') as f:
            return frozenset(next(line for line in f if line.startswith('flags')).split()[2:])
    except (OSError, StopIteration):
        return None


def cpu_model():
    """This CPU's model name (``model name`` of /proc/cpuinfo), or the platform's processor."""
    try:
        with open('/proc/cpuinfo') as f:
            return next(line for line in f if line.startswith('model name')).split(':', 1)[1] \
                .strip()
    except (OSError, StopIteration):
        import platform
        return platform.processor() or 'unknown'


def cpu_has_amx():
    """Whether this CPU has AMX bf16 tiles (``amx_bf16`` in /proc/cpuinfo); None where unknown."""
    flags = cpu_flags()
    return None if flags is None else 'amx_bf16' in flags


def cpu_has_bf16():
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX); None where unknown."""
    flags = cpu_flags()
    return None if flags is None else bool({'avx512_bf16', 'amx_bf16'} & flags)


def enable_amp(cfg):
    """Mixed precision: mmengine's fp16 ``AmpOptimWrapper`` on a GPU, bf16 autocast on a CPU.

    bf16 pays off on CPUs with AMX (about 3x for oneDNN convolutions). Without AMX it does not:
    with AVX512-BF16 alone a synthetic pose training step took 0.99-1.11x its fp32 time, with
    AVX2 (bf16 emulated) about 7x; so there this warns.
    """
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper not in ('OptimWrapper', 'AmpOptimWrapper', 'mmhrnet.AutocastOptimWrapper'):
        raise ValueError(f'--amp cannot change the custom optim_wrapper type {wrapper!r}')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'mmhrnet.AutocastOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
        if cfg.optim_wrapper.dtype == 'bfloat16' and cpu_has_amx() is False:
            warnings.warn('--amp: this CPU has no AMX, so bf16 autocast is no faster than '
                          'fp32 here (HRNet training steps: 0.99-1.11x the fp32 time with '
                          'AVX512-BF16 alone, about 7x with AVX2 only)')
