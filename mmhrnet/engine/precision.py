"""Training precision: what the CPU offers, ``--amp``, and a short probe that measures which
precision trains the actual model faster on this machine."""
import copy
import hashlib
import json
import os
import os.path as osp
import statistics
import time
import warnings

import torch

from mmhrnet.utils.cpu import cpu_flags, cpu_has_amx, cpu_has_bf16, cpu_model  # noqa: F401


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


PROBE_CACHE = osp.join(osp.expanduser('~'), '.cache', 'mmhrnet', 'precision_probe.json')


def _probe_key(cfg):
    """What a probe result depends on: the CPU, torch, the model and the batch size."""
    text = json.dumps([cpu_model(), torch.__version__, torch.get_num_threads(),
                       cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else cfg.model,
                       cfg.train_dataloader.batch_size,
                       [h.get('type') for h in cfg.get('custom_hooks') or []]],
                      sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def time_train_steps(cfg, data, dtype, steps=3, channels_last=None, model=None, device='cpu',
                     warmup=1):
    """Median seconds of ``steps`` training steps (after ``warmup``) of ``model`` (default: a
    fresh copy of the config's model) on ``data`` (one collated batch) on ``device``: fp32
    (``dtype`` None), bf16 / fp16 autocast on a CPU, or mmengine's fp16 ``AmpOptimWrapper``
    (dynamic loss scaling, as ``--amp``) on a GPU; NHWC when ``channels_last`` (None: when the
    config has ``ChannelsLastHook``)."""
    from mmengine.optim import build_optim_wrapper

    from mmhrnet.utils.build import build_model
    model = (model or build_model(cfg)).to(device).train()
    if channels_last is None:
        channels_last = any('ChannelsLastHook' in h.get('type', '')
                            for h in cfg.get('custom_hooks') or [])
    if channels_last:
        model.to(memory_format=torch.channels_last)
    wrapper_cfg = copy.deepcopy(cfg.optim_wrapper)
    wrapper_cfg.pop('dtype', None)
    wrapper_cfg.pop('loss_scale', None)
    wrapper_cfg.type = 'OptimWrapper'
    cuda = torch.device(device).type == 'cuda'
    if dtype and cuda:
        wrapper_cfg.update(type='AmpOptimWrapper', dtype=dtype, loss_scale='dynamic')
    elif dtype:
        wrapper_cfg.update(type='mmhrnet.AutocastOptimWrapper', dtype=dtype)
    wrapper = build_optim_wrapper(model, wrapper_cfg)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times = []
    for _ in range(steps + warmup):
        sync()
        start = time.perf_counter()
        model.train_step(copy.copy(data), wrapper)
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times[warmup:])


def first_train_batch(cfg):
    """The first collated batch of the config's training dataloader (read in this process)."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    init_default_scope(cfg.default_scope)
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.update(num_workers=0, persistent_workers=False)
    return next(iter(Runner.build_dataloader(loader)))


def measure_train_steps(cfg, steps=3):
    """Seconds per training step in fp32 and under bf16 autocast, on the first real batch."""
    data = first_train_batch(cfg)
    return time_train_steps(cfg, data, None, steps), time_train_steps(cfg, data, 'bfloat16', steps)


def probe_precision(cfg, steps=3, cache=PROBE_CACHE, logger=None):
    """Measure which precision trains this config's model faster here: a few fp32 and bf16
    autocast steps on one real batch (cached per CPU model, torch, model and batch size).

    Returns:
        tuple[str, str]: ``'bf16'`` or ``'fp32'``, and the one-line reason (the timings).
    """
    key = _probe_key(cfg)
    cached = {}
    if cache and osp.isfile(cache):
        with open(cache) as f:
            cached = json.load(f)
    if key in cached:
        fp32, bf16 = cached[key]
        source = f'cached in {cache}'
    elif cpu_has_bf16() is False:
        fp32 = bf16 = None
        source = 'no bf16 units (neither AVX512-BF16 nor AMX): not probed'
    else:
        fp32, bf16 = measure_train_steps(cfg, steps)
        source = f'measured over {steps} steps'
        if cache:
            os.makedirs(osp.dirname(cache), exist_ok=True)
            with open(cache, 'w') as f:
                json.dump({**cached, key: [fp32, bf16]}, f)
    choice = 'bf16' if fp32 and bf16 < 0.95 * fp32 else 'fp32'
    timing = f'fp32 {fp32:.3f} s, bf16 autocast {bf16:.3f} s per step' if fp32 else ''
    reason = f'precision probe: {choice} ({timing}{", " if timing else ""}{source}; ' \
        f'{cpu_model()})'
    if logger is not None:
        logger(reason)
    return choice, reason
