"""Distributed training and testing on machines without a GPU.

mmengine 0.10.7 calls ``torch.cuda.set_device`` in ``init_dist`` whatever the backend, wraps the
model in DDP with ``device_ids=[LOCAL_RANK]`` (which DDP refuses for a CPU module) and keeps
SyncBN layers, whose forward needs a GPU. :func:`setup_cpu_distributed` starts the process group
itself with gloo (so the Runner does not) and adjusts the config for a CPU-only run.
"""
import datetime
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.logging import print_log


def _slurm_env():
    """torch's ``env://`` variables from slurm's, as mmengine's slurm launcher sets them."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {nodes} | head -n1')
    os.environ.setdefault('MASTER_PORT', '29500')


def revert_sync_bn_cfg(cfg):
    """Replace every ``type='SyncBN'`` in the config tree with ``'BN'``; return how many."""
    count = 0
    if isinstance(cfg, dict):
        if cfg.get('type') in ('SyncBN', 'MMSyncBN'):
            cfg['type'] = 'BN'
            count += 1
        for value in cfg.values():
            count += revert_sync_bn_cfg(value)
    elif isinstance(cfg, (list, tuple)):
        count += sum(revert_sync_bn_cfg(v) for v in cfg)
    return count


def setup_cpu_distributed(cfg, launcher):
    """Start gloo and make ``cfg`` trainable with ``launcher`` on a machine without CUDA.

    Does nothing when ``launcher`` is ``'none'`` or CUDA is available. Otherwise: the process
    group is initialised with gloo from torchrun's (``pytorch``) or slurm's (``slurm``)
    environment; SyncBN becomes BN (each process normalises its own batch: statistics over
    ``batch_size`` samples, not over the global batch); DDP is built without ``device_ids``.

    Args:
        cfg (Config): The run's config, changed in place.
        launcher (str): ``'none'``, ``'pytorch'`` or ``'slurm'``.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher == 'slurm':
        _slurm_env()
    if not torch_dist.is_initialized():
        for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
            if var not in os.environ:
                raise RuntimeError(f'--launcher {launcher}: {var} is not set; start the run '
                                   'with tools/dist_train.sh (torchrun) or srun')
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {} if timeout is None else dict(timeout=datetime.timedelta(seconds=timeout))
        torch_dist.init_process_group(backend='gloo', **kwargs)
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    reverted = revert_sync_bn_cfg(cfg.model)
    if cfg.get('sync_bn'):
        cfg.sync_bn = None
        reverted += 1
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None  # DDP of a CPU module; mmengine would pass [LOCAL_RANK]
    cfg.model_wrapper_cfg = wrapper
    if torch_dist.get_rank() == 0:
        print_log(f'distributed on CPU: gloo, {torch_dist.get_world_size()} processes'
                  + (f', {reverted} SyncBN setting(s) -> BN (per-process statistics)'
                     if reverted else ''), logger='current')
