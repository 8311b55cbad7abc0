"""mmengine checkpoints load under torch's ``weights_only=True`` default, which stays on."""
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import mmhrnet  # noqa: F401 (installs the allow-list)


class ToyModel(BaseModel):
    """A linear layer ``width -> out`` whose loss is its squared output (also the toy run of
    test_resume.py, which needs a checkpoint big enough to be cut in half)."""

    def __init__(self, width=2, out=1):
        super().__init__()
        self.fc = nn.Linear(width, out)

    def forward(self, x, mode='loss'):
        return dict(loss=self.fc(x).square().mean())


class ToyData(torch.utils.data.Dataset):
    """``n`` samples ``x = [i] * width``."""
    metainfo = dict(sigmas=np.linspace(0.1, 1, 17, dtype=np.float32), name='toy')

    def __init__(self, n=8, width=2):
        self.n, self.width = n, width

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return dict(x=torch.full((self.width, ), float(i)))


def test_runner_checkpoint_resumes(tmp_path):
    def runner(epochs, resume):
        return Runner(
            model=ToyModel(), work_dir=str(tmp_path),
            train_dataloader=dict(dataset=ToyData(), batch_size=2,
                                  sampler=dict(type='DefaultSampler', shuffle=False),
                                  collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
            param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=True),
            train_cfg=dict(by_epoch=True, max_epochs=epochs), resume=resume,
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1)))

    runner(1, False).train()
    ckpt = _load_checkpoint(str(tmp_path / 'epoch_1.pth'))
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert np.allclose(ckpt['meta']['dataset_meta']['sigmas'], ToyData.metainfo['sigmas'])
    resumed = runner(2, True)
    resumed.train()
    assert resumed.epoch == 2 and resumed.iter == 8


class Payload:

    def __reduce__(self):
        return getattr, (np.ndarray, 'tofile')


def test_weights_only_protection_stays_on(tmp_path):
    for i, obj in enumerate([{'evil': Payload()}, {'obj': pickle.PicklingError('x')}]):
        path = tmp_path / f'evil{i}.pth'
        torch.save(obj, path)
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path)


class RunsCode:
    """Unpickling this runs a shell command that leaves a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}', )


def _evil_checkpoint(tmp_path):
    """A real-looking training checkpoint (HRNet weights, meta, ...) carrying the payload."""
    from mmhrnet.models import HRNet
    marker = tmp_path / 'code_ran'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=HRNet(arch='w18_small_v1').state_dict(),
                    meta=dict(epoch=1, iter=4, hook=RunsCode(marker)), message_hub={}), path)
    return str(path), marker


def test_code_executing_pickle_refused_on_every_loading_path(tmp_path):
    from mmengine.config import Config

    from mmhrnet.convert import load_and_convert
    from mmhrnet.engine import resolve_resume
    from mmhrnet.utils.checkpoint import find_checkpoint, load_checkpoint_strict
    from mmhrnet.models import HRNet
    path, marker = _evil_checkpoint(tmp_path)

    def toy_runner(**kwargs):
        return Runner(model=ToyModel(), work_dir=str(tmp_path / 'work'),
                      train_dataloader=dict(dataset=ToyData(), batch_size=2,
                                            sampler=dict(type='DefaultSampler'),
                                            collate_fn=dict(type='default_collate')),
                      optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3)),
                      train_cfg=dict(by_epoch=True, max_epochs=1), **kwargs)

    refused = []
    paths = {
        # tools/train.py --resume CKPT checks the file first, then the Runner resumes it
        'train --resume CKPT': lambda: resolve_resume(Config(dict(work_dir=str(tmp_path))),
                                                      path),
        'Runner resume': lambda: toy_runner(resume=True, load_from=path).train(),
        'load_from': lambda: toy_runner(load_from=path).train(),
        'init_cfg Pretrained': lambda: HRNet(arch='w18_small_v1', init_cfg=dict(
            type='Pretrained', checkpoint=path)).init_weights(),
        # tools/test.py and tools/submit_coco.py load with load_checkpoint_strict
        'test.py / submit_coco.py': lambda: load_checkpoint_strict(
            HRNet(arch='w18_small_v1'), path),
        'convert_weights.py': lambda: load_and_convert(path, 'official-pose'),
    }
    for name, load in paths.items():
        with pytest.raises(Exception) as info:
            load()
        text = f'{info.value} {info.value.__cause__}'
        assert 'system' in text or 'Unsupported global' in text, (name, text)
        assert not marker.exists(), f'{name} ran the payload'
        refused.append(name)
    # --resume (no CKPT) passes the file over as unreadable instead of running it
    import shutil
    (tmp_path / 'auto').mkdir()
    shutil.copy(path, tmp_path / 'auto' / 'epoch_1.pth')
    found, _, skipped = find_checkpoint(str(tmp_path / 'auto'))
    assert found is None and skipped[0][1].startswith('refused by weights_only loading')
    assert 'GLOBAL posix.system' in skipped[0][1]
    assert not marker.exists()
    assert len(refused) == 6
