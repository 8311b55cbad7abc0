"""A checkpoint hook after which no checkpoint is ever lost.

mmengine 0.10.7's ``CheckpointHook`` deletes the checkpoint it no longer keeps (and the previous
best) before it writes the new one, writes in place, then rewrites ``last_checkpoint`` in
place: a kill inside that window leaves a half file, a pointer to a deleted one, and nothing to
resume from. :class:`SafeCheckpointHook` writes every checkpoint and ``last_checkpoint`` to a
temporary file, fsyncs and renames it into place, and deletes old checkpoints only after the
new one is complete.

It also refuses to save weights that hold NaN or inf (a diverged run), and stores a SHA-256
digest of every tensor of the checkpoint (weights, optimizer state) in its ``meta``, which
:func:`mmhrnet.utils.checkpoint.read_checkpoint` checks: a checkpoint whose bytes were
overwritten inside (which ``torch.load`` reads without complaint) is refused instead of resumed
or tested.
"""
import contextlib
import glob
import os
import os.path as osp
import re

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook

from mmhrnet.registry import HOOKS
from mmhrnet.utils.checkpoint import DIGEST_KEY, atomic_write, checkpoint_digest, first_non_finite

ATOMIC_BACKEND = 'mmhrnet_atomic_local'


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic (temporary file, fsync, rename)."""

    def put(self, obj, filepath):
        atomic_write(str(filepath), obj)

    def put_text(self, obj, filepath, encoding='utf-8'):
        atomic_write(str(filepath), obj.encode(encoding))


class _DeferredRemoval:
    """A file backend whose ``remove`` / ``rmtree`` wait until :meth:`flush`."""

    def __init__(self, backend):
        self.backend, self.pending = backend, []

    def remove(self, path):
        self.pending.append(path)

    def rmtree(self, path):
        self.pending.append(path)

    def flush(self):
        for path in self.pending:
            if self.backend.isfile(path):
                self.backend.remove(path)
            elif self.backend.isdir(path):
                self.backend.rmtree(path)
        self.pending = []

    def __getattr__(self, name):
        return getattr(self.backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``mmengine.hooks.CheckpointHook`` with atomic saves and deletion after the new file.

    Args:
        iter_interval (int, optional): In epoch-based training, also save every this many
            iterations (``iter_{N}.pth``), so a kill loses at most that many steps; resuming
            from one continues inside its epoch (needs ``mmhrnet.ExactResumeHook``, which the
            synthetic configs carry). None: epochs only.
        max_keep_iter_ckpts (int): How many ``iter_*.pth`` to keep. Defaults to 1.
        **kwargs: ``CheckpointHook`` arguments (``interval``, ``max_keep_ckpts``,
            ``save_best``, ...). Local folders only: ``backend_args`` must stay unset.
    """

    def __init__(self, iter_interval=None, max_keep_iter_ckpts=1, **kwargs):
        if kwargs.get('backend_args') or kwargs.get('file_client_args'):
            raise ValueError('SafeCheckpointHook writes to local folders only; use '
                             'CheckpointHook for backend_args / file_client_args')
        super().__init__(backend_args=dict(backend=ATOMIC_BACKEND), **kwargs)
        if iter_interval is not None and (not self.by_epoch or iter_interval <= 0):
            raise ValueError('iter_interval is for epoch-based training (by_epoch=True) and '
                             f'must be positive, got {iter_interval}')
        self.iter_interval = iter_interval
        self.max_keep_iter_ckpts = max_keep_iter_ckpts
        self._deferring = 0

    @contextlib.contextmanager
    def _deferred_removal(self):
        """Old files removed inside the block are removed only when it completes."""
        if self._deferring:
            yield
            return
        backend = self.file_backend
        self.file_backend = _DeferredRemoval(backend)
        self._deferring += 1
        try:
            yield
            self.file_backend.flush()
        finally:
            self._deferring -= 1
            self.file_backend = backend

    def before_train(self, runner):
        super().before_train(runner)
        if self.iter_interval is not None and not any(
                type(h).__name__ == 'ExactResumeHook' for h in runner.hooks):
            raise ValueError('SafeCheckpointHook(iter_interval=...) saves inside epochs; '
                             "add dict(type='mmhrnet.ExactResumeHook') to custom_hooks so "
                             'that resuming continues inside the epoch')
        if is_main_process():  # temporary files of saves a kill interrupted
            for tmp in glob.glob(osp.join(self.out_dir, '.*.pth.*.tmp')) + glob.glob(
                    osp.join(runner.work_dir, '.last_checkpoint.*.tmp')):
                os.remove(tmp)
        self._iter_ckpts = sorted(glob.glob(osp.join(self.out_dir, 'iter_*.pth')),
                                  key=lambda p: int(re.findall(r'\d+', osp.basename(p))[0]))

    def before_save_checkpoint(self, runner, checkpoint):
        """Refuses weights with NaN / inf; stores the digest :func:`read_checkpoint` checks.
        The lowest priority: runs after every hook that changes the checkpoint."""
        bad = first_non_finite(checkpoint.get('state_dict', {}))
        if bad is not None:
            meta, last = checkpoint.get('meta', {}), None
            pointer = osp.join(runner.work_dir, 'last_checkpoint')
            if osp.isfile(pointer):
                with open(pointer) as f:
                    last = f.read().strip()
            raise FloatingPointError(
                f'training diverged: {bad} holds NaN or inf at epoch {meta.get("epoch")}, '
                f'iteration {meta.get("iter")}; no checkpoint saved (the last one: '
                f'{last or "none"})')
        checkpoint.setdefault('meta', {})[DIGEST_KEY] = checkpoint_digest(checkpoint)

    def _save_checkpoint_with_step(self, runner, step, meta, filename=None):
        # The same bookkeeping as mmengine's, in a safe order: write the new checkpoint, point
        # `last_checkpoint` at it, then delete the one that fell out of `max_keep_ckpts`.
        filename = filename or self.filename_tmpl.format(step)
        outdated = None
        if self.max_keep_ckpts > 0 and filename == self.filename_tmpl.format(step) and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None:
            self.file_backend.remove(
                self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics):
        with self._deferred_removal():  # the old best goes once the new one is written
            super()._save_best_checkpoint(runner, metrics)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if self.iter_interval is None or not self.every_n_train_iters(runner, self.iter_interval):
            return
        epoch_end = self.end_of_epoch(runner.train_dataloader, batch_idx)
        if epoch_end and (self.every_n_epochs(runner, self.interval, self.save_begin)
                          or (self.save_last and self.is_last_train_epoch(runner))):
            return  # the epoch's own checkpoint follows at once
        runner.logger.info(f'Saving checkpoint at {runner.iter + 1} iterations')
        filename = f'iter_{runner.iter + 1}.pth'
        self._save_checkpoint_with_step(
            runner, runner.iter + 1, dict(epoch=runner.epoch, iter=runner.iter + 1), filename)
        self._iter_ckpts.append(osp.join(self.out_dir, filename))
        while len(self._iter_ckpts) > self.max_keep_iter_ckpts:
            old = self._iter_ckpts.pop(0)
            if is_main_process() and osp.isfile(old):
                self.file_backend.remove(old)
