"""Exact resume: a killed run continues with the random streams and the data order it had.

mmengine 0.10.7 stores no random state in checkpoints and, resumed from a checkpoint saved in
the middle of an epoch, replays that epoch from its start. :class:`ExactResumeHook` stores the
Python, numpy and torch random states and the position in the epoch in every checkpoint's
``meta``, and on resume skips the batches already trained (without loading them) and puts the
states back just before the next batch is drawn, so the resumed run draws what the
uninterrupted one drew. :func:`resolve_resume` resumes from the newest checkpoint of a work
dir that loads (:func:`mmhrnet.utils.checkpoint.find_checkpoint`), naming any newer one it had
to pass over.
"""
import os
import os.path as osp
import random

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmhrnet.registry import HOOKS
from mmhrnet.utils.checkpoint import find_checkpoint, inspect_checkpoint


def get_rng_state():
    """The Python, numpy, torch (and CUDA, where present) random states."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _cpu_bytes(state):
    """A torch / CUDA generator state as the CPU ``uint8`` tensor that torch sets: a checkpoint
    loaded onto a GPU (mmengine's default where one is present) brings it back as a CUDA tensor,
    a converted one as an array."""
    return torch.as_tensor(state).to(device='cpu', dtype=torch.uint8)


def set_rng_state(state):
    """Restore what :func:`get_rng_state` returned."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(_cpu_bytes(state['torch']))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_cpu_bytes(s) for s in state['cuda']])


class _SkipSampler:
    """A view of ``sampler`` without its first ``skip`` indices for one pass; calls ``on_start``
    when the pass begins, i.e. after the loader's iterator exists and before the first fetch."""

    def __init__(self, sampler, skip, on_start):
        self.sampler, self.skip, self.on_start = sampler, skip, on_start

    def __iter__(self):
        it = iter(self.sampler)
        for _ in range(self.skip):  # indices only: no image is loaded for a skipped batch
            next(it, None)
        self.on_start()
        yield from it

    def __len__(self):  # the loop and the logger keep counting the whole epoch
        return len(self.sampler)

    def __getattr__(self, name):
        return getattr(self.sampler, name)


class _SkipIterator:
    """The iteration-based loop's data iterator with its first ``skip`` ``next`` calls answered
    without loading data (``fast``) or passed through (replay), then ``on_start`` before the
    first batch that is trained."""

    def __init__(self, iterator, skip, fast, on_start):
        self.iterator, self.skip, self.fast, self.on_start = iterator, skip, fast, on_start

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip > 0:
            self.skip -= 1
            return None if self.fast else next(self.iterator)
        if self.on_start is not None:
            self.on_start()
            self.on_start = None
        return next(self.iterator)


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Makes ``--resume`` continue a seeded run exactly where its checkpoint left it.

    Saves, in every checkpoint's ``meta``: ``rng_state`` (Python, numpy, torch, CUDA),
    ``train_position`` (batches trained in the current epoch) and ``epoch_length``. On resume
    it sets the samplers' seed to the checkpoint's, skips the batches of the epoch already
    trained and restores the random states just before the next batch is drawn. Validation
    during training is run on a copy of the random states, so it does not shift the training
    streams (nor does a resumed run, which validates at other moments, shift them).

    Exact (bit-equal weights on CPU with ``randomness.deterministic=True``) for one process with
    ``num_workers=0``. With loader processes the data order is still exact but the workers'
    augmentation streams restart with the epoch; distributed runs restore rank 0's states on
    every rank.
    """
    priority = 'HIGH'  # restores before other hooks (the checkpoint hook) act after validation

    def __init__(self):
        self._pending = None  # checkpoint meta to resume from
        self._val_state = None
        self._restore_epoch = None

    def before_save_checkpoint(self, runner, checkpoint):
        meta = checkpoint.setdefault('meta', {})
        meta['rng_state'] = get_rng_state()
        length = _epoch_length(runner)
        if length is not None:
            meta['epoch_length'] = length
        meta['train_position'] = _position(meta, length)

    def after_load_checkpoint(self, runner, checkpoint):
        if not getattr(runner, '_resume', False):
            return  # load_from: weights only, a fresh run
        meta = checkpoint.get('meta', {})
        if 'rng_state' not in meta:
            runner.logger.warning('the checkpoint has no random states (not saved with '
                                  'mmhrnet.ExactResumeHook): the resumed run will draw '
                                  'other augmentations than an uninterrupted one')
            return
        length = _epoch_length(runner)
        if meta.get('epoch_length', length) != length:
            raise ValueError(f'the checkpoint was saved with {meta["epoch_length"]} batches per '
                             f'epoch, this run has {length}: the data or batch size changed')
        self._pending = meta
        sampler = _sampler(runner)
        if sampler is not None and meta.get('seed') is not None and hasattr(sampler, 'seed'):
            sampler.seed = meta['seed']  # built before the checkpoint was read
            if hasattr(sampler, '_indices_of_rank'):  # InfiniteSampler draws at init
                sampler.indices = sampler._indices_of_rank()

    def before_train(self, runner):
        meta, self._pending = self._pending, None
        if meta is None:
            return
        skip = meta.get('train_position', 0)
        loop = runner.train_loop
        restore = _restorer(meta['rng_state'])
        if hasattr(loop, 'dataloader_iterator'):  # iteration-based loop
            loader = loop.dataloader
            sampler = _sampler(runner)
            fast = loader.num_workers == 0 and hasattr(sampler, 'indices')
            if fast:  # advance the infinite index stream instead of loading the images
                rank_skip = skip * loader.batch_size
                for _ in range(rank_skip):
                    next(sampler.indices)
            loop.dataloader_iterator = _SkipIterator(loop.dataloader_iterator, skip, fast,
                                                     restore)
        elif skip:
            self._restore_epoch = (runner.epoch, skip, restore)
        else:
            restore()  # the epoch's loader iterator is made after this, as it was
        print_log(f'exact resume: epoch {runner.epoch}, iteration {runner.iter}, '
                  f'{skip} batch(es) of this epoch already trained', logger='current')

    def before_train_epoch(self, runner):
        if self._restore_epoch is None or self._restore_epoch[0] != runner.epoch:
            return
        _, skip, restore = self._restore_epoch
        loader = runner.train_loop.dataloader
        batch_sampler = loader.batch_sampler
        self._plain = batch_sampler.sampler
        # loaders built with a batch_sampler (mmdet's AspectRatioBatchSampler) have no
        # batch_size of their own
        batch_size = loader.batch_size or batch_sampler.batch_size
        batch_sampler.sampler = _SkipSampler(self._plain, skip * batch_size, restore)
        # The loop numbers this epoch's batches from 0; the hooks and logs should see them
        # numbered as in the uninterrupted run.
        run_iter = runner.train_loop.run_iter
        runner.train_loop.run_iter = lambda idx, batch: run_iter(idx + skip, batch)

    def after_train_epoch(self, runner):
        if self._restore_epoch is not None:
            runner.train_loop.dataloader.batch_sampler.sampler = self._plain
            del runner.train_loop.run_iter  # back to the class's method
            self._restore_epoch = None

    def before_val_epoch(self, runner):
        self._val_state = get_rng_state()

    def after_val_epoch(self, runner, metrics=None):
        if self._val_state is not None:
            set_rng_state(self._val_state)
            self._val_state = None


def _restorer(state):
    def restore():
        set_rng_state(state)
    return restore


def _epoch_length(runner):
    loop = getattr(runner, '_train_loop', None)
    if loop is None or isinstance(loop, dict) or hasattr(loop, 'dataloader_iterator'):
        return None
    return len(loop.dataloader)


def _position(meta, length):
    """Batches trained in the current epoch when ``meta`` was saved."""
    if length is None:  # iteration-based: one long epoch
        return meta['iter']
    return meta['iter'] - meta['epoch'] * length


def _sampler(runner):
    loader = runner.train_loop.dataloader
    batch_sampler = getattr(loader, 'batch_sampler', None)
    return getattr(batch_sampler, 'sampler', None) or getattr(loader, 'sampler', None)


def resolve_resume(cfg, resume):
    """Set ``cfg`` up for ``tools/train.py --resume`` and say what it does in one line.

    Args:
        cfg (Config): The run's config (``work_dir`` set).
        resume (str): ``'latest'`` (the work dir's newest loadable checkpoint; an error when
            there is none), ``'auto'`` (the same, or a fresh start when there is none) or a
            checkpoint path.

    Returns:
        str: The line to print (resuming from X at epoch E, iteration N / starting fresh).

    Raises:
        FileNotFoundError: nothing to resume from (``'latest'``) or the named file is missing.
        ValueError: the named checkpoint cannot be loaded.
    """
    if resume in ('latest', 'auto'):
        path, meta, skipped = find_checkpoint(cfg.work_dir)
        if path is None:
            tried = '; '.join(f'{p}: {why}' for p, why in skipped) or 'no checkpoint there'
            if resume == 'auto':
                cfg.resume, cfg.load_from = False, None
                return f'--resume auto: nothing to resume in {cfg.work_dir} ({tried}): ' \
                       'starting a fresh run'
            raise FileNotFoundError(
                f'--resume: nothing to resume in {cfg.work_dir} ({tried}); use --resume auto '
                'to start a fresh run when there is none')
        if skipped:
            rank, _ = get_dist_info()
            if rank == 0 and os.environ.get('RANK', '0') == '0':
                # Printed, not logged: no Runner (and so no logger of this run) exists yet.
                print_log(f'warning: --resume: the newest checkpoint {skipped[0][0]} is '
                          f'{skipped[0][1]}; falling back to {path}'
                          + (f' ({len(skipped) - 1} more skipped)' if len(skipped) > 1 else ''),
                          logger=None)
    else:
        path = resume
        if not osp.isfile(path):
            raise FileNotFoundError(f'--resume: checkpoint not found: {path}')
        meta, problem = inspect_checkpoint(path)
        if problem is not None:
            raise ValueError(f'--resume: checkpoint {path} is {problem}')
    cfg.resume, cfg.load_from = True, path
    return f'resuming from {path} at epoch {meta.get("epoch")}, iteration {meta.get("iter")}'
