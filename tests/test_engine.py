"""Runner pieces: the channels-last hook."""
from types import SimpleNamespace

import pytest
import torch

from mmhrnet.engine import ChannelsLastHook
from mmhrnet.models import HRNet


def test_channels_last_hook_converts_in_place_and_keeps_results():
    torch.manual_seed(0)
    model = HRNet(arch='w18_small_v1').eval()
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1)
    x = torch.rand(2, 3, 64, 48)
    with torch.no_grad():
        before = model(x)
    ChannelsLastHook().before_run(SimpleNamespace(model=model))
    assert model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert not model.conv1.weight.is_contiguous()
    assert all(a is b for a, b in zip(params, model.parameters()))  # the optimiser's own
    with torch.no_grad():
        after = model(x)
    assert after[0].is_contiguous(memory_format=torch.channels_last)
    for a, b in zip(before, after):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    model.train()
    model(x)[0].mean().backward()
    old = model.conv1.weight.detach().clone()
    optimizer.step()
    assert not torch.equal(old, model.conv1.weight)
    plain = HRNet(arch='w18_small_v1')
    plain.load_state_dict(model.state_dict(), strict=True)  # checkpoints stay loadable
    assert torch.equal(plain.conv1.weight, model.conv1.weight)


def test_channels_last_hook_refuses_nchw_only_mmcv_ops():
    from mmcv.ops import RoIAlign
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), RoIAlign((7, 7), 0.25))
    with pytest.raises(ValueError, match=r'1 is an mmcv op \(RoIAlign\)'):
        ChannelsLastHook().before_run(SimpleNamespace(model=model))
    assert model[0].weight.is_contiguous()  # left as it was
