"""Loading HRNet checkpoints into mmhrnet.HRNet through ``init_cfg``."""
import pytest
import torch

import mmhrnet.models.backbones.hrnet as hrnet_module
from mmhrnet.models import HRNet
from mmhrnet.utils.fidelity import randomize

CLS_KEYS = {
    'incre_modules.0.0.conv1.weight': (32, 18, 1, 1),
    'downsamp_modules.0.0.weight': (256, 128, 3, 3),
    'final_layer.0.weight': (2048, 1024, 1, 1),
    'classifier.weight': (1000, 2048),
    'classifier.bias': (1000, ),
}


@pytest.fixture
def logs(monkeypatch):
    messages = []
    monkeypatch.setattr(hrnet_module, 'print_log', lambda msg, **kw: messages.append(msg))
    return messages


@pytest.fixture
def imagenet_ckpt(tmp_path):
    """An ImageNet classification checkpoint laid out like the official ones (four outputs)."""
    state = randomize(HRNet(arch='w18'), seed=1)
    state.update({k: torch.randn(shape) for k, shape in CLS_KEYS.items()})
    path = tmp_path / 'hrnetv2_w18_imagenet.pth'
    torch.save(state, path)
    return path, state


@pytest.mark.parametrize('multiscale', [True, False])
def test_imagenet_checkpoint_loads_every_backbone_key(imagenet_ckpt, logs, multiscale):
    path, state = imagenet_ckpt
    model = HRNet(arch='w18', multiscale_output=multiscale,
                  init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    own = model.state_dict()
    for k, v in own.items():
        assert torch.equal(v, state[k]), k
    assert len(logs) == 1
    assert f'loaded {len(own)} backbone keys' in logs[0]
    assert f'ignored {len(CLS_KEYS)} classification head keys' in logs[0]
    unused = len([k for k in state if k.startswith('stage4.2.fuse_layers.')
                  and k not in own])
    assert (f'{unused} unused stage-4 fusion keys' in logs[0]) == (not multiscale)
    assert 'mismatch' not in logs[0] and 'unexpected' not in logs[0]


def test_whole_model_checkpoint_and_prefix(tmp_path, logs):
    source = HRNet(arch='w18_small_v1')
    state = randomize(source, seed=2)
    whole = {f'backbone.{k}': v for k, v in state.items()}
    whole['head.final_layer.weight'] = torch.randn(17, 16, 1, 1)
    path = tmp_path / 'pose_model.pth'
    torch.save({'state_dict': whole, 'meta': {'epoch': 3}}, path)
    for init_cfg in (dict(type='Pretrained', checkpoint=str(path)),
                     dict(type='Pretrained', checkpoint=str(path), prefix='backbone.')):
        model = HRNet(arch='w18_small_v1', init_cfg=init_cfg)
        model.init_weights()
        assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    model = HRNet(arch='w18_small_v1', pretrained=str(path))
    model.init_weights()
    assert torch.equal(model.conv1.weight, state['conv1.weight'])


def test_mismatched_checkpoint_names_file_and_key(imagenet_ckpt):
    path, _ = imagenet_ckpt
    model = HRNet(arch='w32', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(RuntimeError, match=r'hrnetv2_w18_imagenet\.pth.*shape mismatches.*'
                                            r'transition1\.0\.0\.weight'):
        model.init_weights()


def test_incomplete_checkpoint_names_missing_keys(tmp_path):
    state = randomize(HRNet(arch='w18_small_v1'))
    del state['stage3.0.branches.2.1.conv2.weight']
    path = tmp_path / 'partial.pth'
    torch.save(state, path)
    model = HRNet(arch='w18_small_v1', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(RuntimeError, match=r'partial\.pth.*1 missing.*branches\.2\.1\.conv2'):
        model.init_weights()


def test_pretrained_and_init_cfg_together_is_an_error():
    with pytest.raises(ValueError, match='not both'):
        HRNet(arch='w18', pretrained='a.pth', init_cfg=dict(type='Kaiming', layer='Conv2d'))
