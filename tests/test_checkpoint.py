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

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x, mode='loss'):
        return dict(loss=self.fc(x).square().mean())


class ToyData(torch.utils.data.Dataset):
    metainfo = dict(sigmas=np.linspace(0.1, 1, 17, dtype=np.float32), name='toy')

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(x=torch.full((2, ), float(i)))


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
