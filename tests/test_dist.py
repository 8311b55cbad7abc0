"""Distributed training on a CPU-only machine: tools/dist_train.sh with 2 gloo processes gives
the 1-process run's loss curve and weights at the same global batch and seed."""
import os
import os.path as osp
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

import mmhrnet  # noqa: F401 (the weights_only allow-list)
from mmhrnet.engine.dist import _slurm_env, revert_sync_bn_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
POSE = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py')

# Per-sample computation only (no augmentation, whose random draws depend on which process
# sees a sample; GroupNorm instead of BN, whose statistics depend on the per-process batch),
# SGD (Adam turns summation-order noise in near-zero gradients into +-lr steps), and a hook
# writing every process's loss.
CONFIG = textwrap.dedent(f'''
    _base_ = ['{POSE}']
    train_pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
        dict(type='GenerateTarget', encoder=_base_.codec),
        dict(type='PackPoseInputs')
    ]
    train_dataloader = dict(dataset=dict(pipeline=train_pipeline, indices=16))
    model = dict(backbone=dict(norm_cfg=dict(type='GN', num_groups=4)))
    optim_wrapper = dict(optimizer=dict(_delete_=True, type='SGD', lr=0.1, momentum=0.9))
    custom_imports = dict(imports=['loss_dump'], allow_failed_imports=False)
    custom_hooks = [dict(type='LossDumpHook')]
''')
LOSS_DUMP = textwrap.dedent('''
    import os
    from mmengine.dist import get_rank
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module()
    class LossDumpHook(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            with open(os.path.join(runner.work_dir, f'loss_rank{get_rank()}.txt'), 'a') as f:
                f.write(f"{outputs['loss'].item():.9g}\\n")
''')
OPTS = ['randomness.seed=0', 'randomness.deterministic=True', 'train_cfg.max_epochs=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.checkpoint.iter_interval=None',
        'param_scheduler.0.end=4', 'default_hooks.logger.interval=1']


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _losses(path):
    return torch.tensor([float(x) for x in open(path).read().split()], dtype=torch.float64)


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU (gloo) path')
def test_two_cpu_processes_match_one_at_the_same_global_batch(tmp_path):
    from mmhrnet.synthetic import generate_synthetic_people
    generate_synthetic_people(str(tmp_path / 'data' / 'synthetic_people'), 16, 4, (64, 64))
    (tmp_path / 'cfg.py').write_text(CONFIG)
    (tmp_path / 'loss_dump.py').write_text(LOSS_DUMP)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(tmp_path),
               PORT=str(_free_port()), PYTHONWARNINGS='ignore')
    # Relative config and work-dir paths, from a folder that is not the repository.
    two = subprocess.Popen(['bash', osp.join(ROOT, 'tools/dist_train.sh'), 'cfg.py', '2',
                            '--work-dir', 'two', '--no-validate', '--cfg-options', *OPTS,
                            'train_dataloader.batch_size=2'],
                           cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    one = subprocess.run([sys.executable, osp.join(ROOT, 'tools/train.py'), 'cfg.py',
                          '--work-dir', 'one', '--no-validate', '--cfg-options', *OPTS,
                          'train_dataloader.batch_size=4'],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    out = two.communicate(timeout=400)[0]
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, out[-3000:]
    assert 'distributed on CPU: gloo, 2 processes' in out
    # 16 crops, 4 per step (2 per process): 8 steps
    ref = _losses(tmp_path / 'one' / 'loss_rank0.txt')
    both = (_losses(tmp_path / 'two' / 'loss_rank0.txt')
            + _losses(tmp_path / 'two' / 'loss_rank1.txt')) / 2
    assert len(ref) == len(both) == 8 and len(set(ref.tolist())) == 8  # it trained
    torch.testing.assert_close(both, ref, rtol=1e-5, atol=0)
    a = torch.load(tmp_path / 'one' / 'epoch_2.pth', weights_only=True)['state_dict']
    b = torch.load(tmp_path / 'two' / 'epoch_2.pth', weights_only=True)['state_dict']
    assert a.keys() == b.keys()
    diff = max((a[k].double() - b[k].double()).abs().max().item() for k in a)
    assert diff < 1e-5, f'2-process weights differ from 1-process ones by {diff}'


def test_slurm_environment_and_syncbn_fallback(monkeypatch):
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.setenv(var, '')  # recorded, so that what _slurm_env sets is undone after
        monkeypatch.delenv(var)
    monkeypatch.setenv('SLURM_PROCID', '3')
    monkeypatch.setenv('SLURM_NTASKS', '4')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('MASTER_ADDR', 'node0')
    _slurm_env()
    assert [os.environ[v] for v in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                                    'MASTER_PORT')] == ['3', '4', '1', 'node0', '29500']
    model = dict(backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
                 heads=[dict(norm_cfg=dict(type='SyncBN')), dict(norm_cfg=dict(type='GN'))])
    assert revert_sync_bn_cfg(model) == 2
    assert model['backbone']['norm_cfg'] == dict(type='BN', requires_grad=True)
    assert [h['norm_cfg']['type'] for h in model['heads']] == ['BN', 'GN']
