"""Reliability of training runs: exact resume after SIGKILL, checkpoints that survive a kill
during their save, the fallback to the newest loadable checkpoint and ``--resume`` semantics."""
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import mmhrnet  # noqa: F401 (the weights_only allow-list)
from mmhrnet.engine import resolve_resume
from mmhrnet.utils.checkpoint import find_checkpoint, inspect_checkpoint, load_checkpoint_strict

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
POSE = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py')
ENV = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')

# A toy mmengine run that saves a checkpoint every iteration through the hook under test. With
# SLOW_SAVE=N the N-th save stalls inside its write (after the temporary file is written, before
# the rename; for upstream's hook, after half the bytes) and says so in a marker file.
TOY_RUN = textwrap.dedent('''
    import os, sys, time
    from mmengine.runner import Runner
    import mmhrnet.engine  # noqa: F401 (registers the hooks)
    from mmhrnet.engine import checkpoint_hook

    work_dir, hook, best, slow = sys.argv[1], sys.argv[2], sys.argv[3] == 'best', int(sys.argv[4])
    marker = os.path.join(work_dir, '..', 'inside_save')
    saves = [0]

    def stall():
        open(marker, 'w').close()
        time.sleep(60)

    real_atomic = checkpoint_hook.atomic_write
    def atomic(path, data):
        saves[0] += path.endswith('.pth')
        if saves[0] == slow and path.endswith('.pth'):  # written and fsynced, not renamed yet
            real_fsync = os.fsync
            def fsync(fd):
                real_fsync(fd)
                stall()
            os.fsync = fsync
        real_atomic(path, data)
    checkpoint_hook.atomic_write = atomic

    from mmengine.fileio import LocalBackend
    real_put = LocalBackend.put
    def put(self, obj, filepath):
        saves[0] += 1
        if saves[0] == slow:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            stall()
        real_put(self, obj, filepath)
    LocalBackend.put = put

    sys.path.insert(0, sys.argv[5])  # tests/: the toy model of test_checkpoint.py
    from test_checkpoint import ToyData, ToyModel

    from mmengine.evaluator import BaseMetric
    class Score(BaseMetric):  # better at every validation: a new best checkpoint each time
        calls = 0
        def process(self, data_batch, data_samples):
            self.results.append(1)
        def compute_metrics(self, results):
            Score.calls += 1
            return dict(score=float(Score.calls))

    class ValToy(ToyModel):
        def forward(self, x, mode='loss'):
            if mode == 'loss':
                return super().forward(x)
            return [dict()] * len(x)

    loader = dict(dataset=ToyData(4, 256), batch_size=2, sampler=dict(type='DefaultSampler'),
                  collate_fn=dict(type='default_collate'))
    ckpt = dict(type=hook, interval=1, by_epoch=False, max_keep_ckpts=1)
    if best:
        ckpt.update(save_best='score', rule='greater')
    Runner(model=ValToy(256, 256), work_dir=work_dir, train_dataloader=loader,
           val_dataloader=loader if best else None, val_evaluator=[Score()] if best else None,
           val_cfg=dict() if best else None,
           optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3)),
           train_cfg=dict(by_epoch=False, max_iters=10 ** 6, val_interval=1),
           default_hooks=dict(checkpoint=ckpt, logger=dict(type='LoggerHook', interval=100)),
           ).train()
''')


def _train(work_dir, *args):
    return [sys.executable, osp.join(ROOT, 'tools/train.py'), POSE, '--work-dir', str(work_dir),
            *args]


# 8 person crops in batches of 4: 2 steps per epoch, 3 epochs, a checkpoint every 3 steps and
# every epoch, validation after epochs 2 and 3 (its random draws must not shift training's).
TINY = ['randomness.seed=0', 'randomness.deterministic=True', 'train_cfg.max_epochs=3',
        'train_cfg.val_interval=2', 'train_dataloader.batch_size=4',
        'train_dataloader.dataset.indices=8', 'val_dataloader.batch_size=4',
        'default_hooks.checkpoint.iter_interval=3', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'param_scheduler.0.end=4']


@pytest.fixture(scope='module')
def people(tmp_path_factory):
    from mmhrnet.synthetic import generate_synthetic_people
    root = tmp_path_factory.mktemp('people')
    generate_synthetic_people(str(root / 'data' / 'synthetic_people'), 16, 4, (64, 64))
    return root


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_weights(people):
    ref = subprocess.Popen(_train('ref', '--cfg-options', *TINY), cwd=people,
                           env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = subprocess.Popen(_train('run', '--cfg-options', *TINY), cwd=people,
                           env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (people / 'run' / 'iter_3.pth').exists():  # epoch 2, one step in
        assert run.poll() is None and time.time() < deadline, 'run ended before the kill'
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    resumed = subprocess.run(_train('run', '--resume', '--cfg-options', *TINY),
                             cwd=people, env=ENV, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    line = next(ln for ln in resumed.stdout.splitlines() if ln.startswith('resuming from'))
    assert 'at epoch 1, iteration' in line  # mid-epoch 2 (0-based 1), not its start
    assert ref.wait(timeout=300) == 0
    a, b = _state(people / 'ref' / 'epoch_3.pth'), _state(people / 'run' / 'epoch_3.pth')
    assert a.keys() == b.keys()
    diff = max((a[k].double() - b[k].double()).abs().max().item() for k in a)
    assert diff == 0.0, f'resumed weights differ from the uninterrupted run by {diff}'


def _kill_inside_save(tmp_path, hook, best, slow):
    work = tmp_path / 'work'
    script = tmp_path / 'toy_run.py'
    script.write_text(TOY_RUN)
    proc = subprocess.Popen([sys.executable, str(script), str(work), hook,
                             'best' if best else 'plain', str(slow), osp.dirname(__file__)],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (tmp_path / 'inside_save').exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-3000:])
        assert time.time() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return str(work)


# Saves of a run with max_keep_ckpts=1: iter_1, iter_2, ... With save_best, mmengine saves
# iter_N, best_score_iter_N, then iter_N again (with the new best recorded): the 5th save is
# iteration 2's best, written while iteration 1's best is still the only best.
@pytest.mark.parametrize('best,slow,last', [(False, 2, 'iter_1.pth'), (True, 5, 'iter_2.pth')],
                         ids=['regular', 'best'])
def test_a_kill_inside_a_save_leaves_a_resumable_checkpoint(tmp_path, best, slow, last):
    work = _kill_inside_save(tmp_path, 'mmhrnet.SafeCheckpointHook', best, slow)
    with open(osp.join(work, 'last_checkpoint')) as f:
        named = f.read().strip()
    path, meta, skipped = find_checkpoint(work)
    assert path == named == osp.join(work, last) and not skipped
    if best:  # the previous best is kept until the new one is complete
        assert inspect_checkpoint(osp.join(work, 'best_score_iter_1.pth'))[1] is None


def test_upstream_hook_killed_inside_a_save_loses_the_run(tmp_path):
    # What SafeCheckpointHook prevents: mmengine's hook has already deleted iter_1.pth and is
    # writing iter_2.pth in place.
    work = _kill_inside_save(tmp_path, 'CheckpointHook', False, slow=2)
    path, _, skipped = find_checkpoint(work)
    assert path is None
    assert [(osp.basename(p), why.split(' ')[0]) for p, why in skipped] == [
        ('iter_1.pth', 'missing'), ('iter_2.pth', 'truncated')]


def _toy_checkpoints(work_dir, n):
    """n epochs of a toy run with a checkpoint after each."""
    from test_checkpoint import ToyData, ToyModel
    from mmengine.runner import Runner
    Runner(model=ToyModel(), work_dir=str(work_dir),
           train_dataloader=dict(dataset=ToyData(), batch_size=2,
                                 sampler=dict(type='DefaultSampler'),
                                 collate_fn=dict(type='default_collate')),
           optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3)),
           train_cfg=dict(by_epoch=True, max_epochs=n),
           default_hooks=dict(checkpoint=dict(type='mmhrnet.SafeCheckpointHook', interval=1)),
           custom_hooks=[dict(type='mmhrnet.ExactResumeHook')]).train()
    return [osp.join(work_dir, f'epoch_{i}.pth') for i in range(1, n + 1)]


def test_resume_falls_back_to_the_newest_loadable_checkpoint(tmp_path, capsys):
    from mmengine.config import Config
    stale = tmp_path / '.epoch_9.pth.k1ll3d.tmp'  # left by a save that a kill interrupted
    stale.write_bytes(b'half')
    paths = _toy_checkpoints(tmp_path, 3)
    assert not stale.exists()
    with open(paths[2], 'r+b') as f:  # truncated newest
        f.truncate(os.path.getsize(paths[2]) // 3)
    os.remove(paths[1])  # and the one before it deleted
    cfg = Config(dict(work_dir=str(tmp_path)))
    capsys.readouterr()
    line = resolve_resume(cfg, 'latest')
    warned = [ln for ln in capsys.readouterr().out.splitlines() if 'falling back' in ln]
    assert line.startswith(f'resuming from {paths[0]} at epoch 1, iteration 4')
    assert cfg.resume and cfg.load_from == paths[0]
    assert len(warned) == 1 and paths[2] in warned[0] and paths[0] in warned[0]
    assert 'truncated' in warned[0]
    with open(paths[0], 'wb') as f:  # nothing left to load: a clear error, or a fresh start
        f.write(b'not a checkpoint')
    with pytest.raises(FileNotFoundError, match='nothing to resume in .*use --resume auto'):
        resolve_resume(cfg, 'latest')
    assert 'starting a fresh run' in resolve_resume(cfg, 'auto') and not cfg.resume
    with pytest.raises(ValueError, match=f'checkpoint {paths[0]} is not a PyTorch checkpoint'):
        resolve_resume(cfg, paths[0])


def _overwrite_inside_weights(path):
    """Overwrites the bytes of a weight tensor inside the file with other finite values (what
    torch.load reads without complaint)."""
    weight = torch.load(path, weights_only=False)['state_dict']['fc.weight']
    with open(path, 'rb') as f:
        data = f.read()
    at = data.find(weight.numpy().tobytes())
    assert at > 0
    with open(path, 'r+b') as f:
        f.seek(at)
        f.write((weight + 0.5).numpy().tobytes())


def test_bytes_overwritten_inside_a_checkpoint_are_detected(tmp_path):
    from mmengine.config import Config
    paths = _toy_checkpoints(tmp_path, 2)
    _overwrite_inside_weights(paths[1])
    assert torch.load(paths[1], weights_only=False)['state_dict']  # torch reads it silently
    cfg = Config(dict(work_dir=str(tmp_path)))
    line = resolve_resume(cfg, 'latest')  # falls back to the good one
    assert line.startswith(f'resuming from {paths[0]} at epoch 1') and cfg.load_from == paths[0]
    with pytest.raises(ValueError, match=f'checkpoint {paths[1]} is corrupt: its weights do '
                                         'not match the SHA-256 digest'):
        resolve_resume(cfg, paths[1])
    from test_checkpoint import ToyModel
    with pytest.raises(ValueError, match=f'checkpoint {paths[1]} is corrupt'):
        load_checkpoint_strict(ToyModel(), paths[1])  # test.py / infer refuse it too


def test_nan_weights_without_a_digest_are_refused(tmp_path):
    from mmengine.config import Config
    paths = _toy_checkpoints(tmp_path, 2)
    ckpt = torch.load(paths[1], weights_only=False)
    del ckpt['meta']['mmhrnet_sha256']  # an older checkpoint: NaN is still caught
    next(iter(ckpt['state_dict'].values())).view(-1)[0] = float('nan')
    torch.save(ckpt, paths[1])
    cfg = Config(dict(work_dir=str(tmp_path)))
    assert resolve_resume(cfg, 'latest').startswith(f'resuming from {paths[0]}')
    with pytest.raises(ValueError, match=r'holds NaN or inf'):
        resolve_resume(cfg, paths[1])


def test_a_diverged_run_saves_no_nan_checkpoint(tmp_path):
    from mmengine.runner import Runner
    from test_checkpoint import ToyData, ToyModel

    class Diverging(ToyModel):
        def forward(self, x, mode='loss'):
            out = super().forward(x, mode)
            return {k: v * float('nan') for k, v in out.items()} if mode == 'loss' else out

    runner = Runner(model=Diverging(), work_dir=str(tmp_path),
                    train_dataloader=dict(dataset=ToyData(), batch_size=2,
                                          sampler=dict(type='DefaultSampler'),
                                          collate_fn=dict(type='default_collate')),
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3)),
                    train_cfg=dict(by_epoch=True, max_epochs=1),
                    default_hooks=dict(checkpoint=dict(type='mmhrnet.SafeCheckpointHook',
                                                       interval=1)))
    with pytest.raises(FloatingPointError, match='training diverged: .* holds NaN or inf at '
                                                 'epoch 1'):
        runner.train()
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.pth')]


def test_a_copied_work_dir_resumes_from_its_own_files(tmp_path):
    import shutil

    from mmengine.config import Config
    paths = _toy_checkpoints(tmp_path / 'original', 2)
    with open(tmp_path / 'original' / 'last_checkpoint') as f:
        assert f.read().strip() == paths[1]  # mmengine writes an absolute path
    shutil.copytree(tmp_path / 'original', tmp_path / 'copy')
    cfg = Config(dict(work_dir=str(tmp_path / 'copy')))
    resolve_resume(cfg, 'latest')
    assert cfg.load_from == str(tmp_path / 'copy' / 'epoch_2.pth')
    shutil.rmtree(tmp_path / 'original')  # still resumable without the original folder
    assert resolve_resume(cfg, 'latest').startswith(f'resuming from {cfg.load_from}')


def test_resume_with_nothing_to_resume_exits_nonzero_and_test_checks_its_checkpoint(tmp_path):
    work = tmp_path / 'empty'
    proc = subprocess.run(_train(work, '--resume'), cwd=tmp_path, env=ENV,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith(f'error: --resume: nothing to '
                                                           f'resume in {work}')
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools/test.py'), POSE,
                           str(tmp_path / 'missing.pth'), '--work-dir', str(work)],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: checkpoint not found: {tmp_path / "missing.pth"}')
    assert not work.exists()  # nothing left behind


def test_resume_inside_an_epoch_with_a_batch_sampler_skips_its_trained_batches():
    """Loaders built from a batch_sampler (mmdet's configs: AspectRatioBatchSampler) have no
    batch_size of their own; the skipped indices come from the batch sampler's."""
    from types import SimpleNamespace

    from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

    from mmhrnet.engine.resume import ExactResumeHook
    data = list(range(20))
    loader = DataLoader(data, batch_sampler=BatchSampler(SequentialSampler(data), 4, False))
    assert loader.batch_size is None
    started = []
    hook = ExactResumeHook()
    hook._restore_epoch = (0, 2, lambda: started.append(True))  # 2 batches already trained
    loop = SimpleNamespace(dataloader=loader, run_iter=lambda idx, batch: (idx, batch))
    hook.before_train_epoch(SimpleNamespace(epoch=0, train_loop=loop))
    batches = [b.tolist() for b in loader]
    assert batches == [[8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19]] and started
    assert loop.run_iter(0, 'b') == (2, 'b')  # numbered as in the uninterrupted run


def test_rng_state_restores_from_where_a_checkpoint_load_leaves_it():
    """mmengine loads a resumed checkpoint onto the GPU where one is present (the generator
    states then come back as CUDA tensors) and a converted one may hold arrays: either way the
    streams continue as saved."""
    from mmhrnet.engine.resume import get_rng_state, set_rng_state
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.rand(1, device=device)  # CUDA initialised: its state is saved too
    state = get_rng_state()
    expected = torch.rand(3), torch.rand(3, device=device).cpu()
    moved = dict(state, torch=state['torch'].to(device) if device == 'cuda'
                 else state['torch'].numpy())
    if 'cuda' in state:
        moved['cuda'] = [s.to(device) for s in state['cuda']]
    set_rng_state(moved)
    assert torch.equal(torch.rand(3), expected[0])
    assert torch.equal(torch.rand(3, device=device).cpu(), expected[1])
