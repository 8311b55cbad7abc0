"""Contracts of mmhrnet.HRNet itself: presets, declared shapes, options and errors."""
import pytest
import torch

from mmhrnet.models import ARCH_ZOO, HRNet, arch_to_extra
from mmhrnet.utils.fidelity import max_rel_diff, randomize


# Branch widths as published (HRNet paper, official cls configs), written out here rather than
# read from ARCH_ZOO, which builds the models under test.
PUBLISHED_WIDTHS = {
    'w18_small_v1': (16, 32, 64, 128), 'w18_small_v2': (18, 36, 72, 144),
    'w18': (18, 36, 72, 144), 'w30': (30, 60, 120, 240), 'w32': (32, 64, 128, 256),
    'w40': (40, 80, 160, 320), 'w44': (44, 88, 176, 352), 'w48': (48, 96, 192, 384),
    'w64': (64, 128, 256, 512),
}
# mmpose's td-hm_hrnet-w32 backbone `extra` as its config file spells it (plus four outputs).
MMPOSE_W32_EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                num_channels=(64, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                num_channels=(32, 64)),
    stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                num_channels=(32, 64, 128)),
    stage4=dict(num_modules=3, num_branches=4, block='BASIC', num_blocks=(4, 4, 4, 4),
                num_channels=(32, 64, 128, 256), multiscale_output=True))


def test_every_preset_has_a_published_width():
    assert sorted(PUBLISHED_WIDTHS) == sorted(ARCH_ZOO)


@pytest.mark.parametrize('arch', sorted(PUBLISHED_WIDTHS))
@pytest.mark.parametrize('multiscale', [True, False])
def test_declared_shapes_equal_real_shapes(arch, multiscale):
    model = HRNet(arch=arch, multiscale_output=multiscale).eval()
    h, w = 64, 96
    with torch.no_grad():
        outs = model(torch.rand(2, 3, h, w))
    assert len(outs) == len(model.out_channels) == len(model.strides) == (4 if multiscale else 1)
    for out, c, s in zip(outs, model.out_channels, model.strides):
        assert tuple(out.shape) == (2, c, h // s, w // s)
    assert model.out_channels == PUBLISHED_WIDTHS[arch][:len(outs)]


def test_small_presets_follow_the_official_configs():
    v1, v2 = HRNet(arch='w18_small_v1'), HRNet(arch='w18_small_v2')
    assert len(v1.layer1) == 1 and v1.layer1[0].conv3.out_channels == 128
    assert [len(getattr(v1, f'stage{s}')) for s in (2, 3, 4)] == [1, 1, 1]
    assert len(v1.stage2[0].branches[0]) == 2 and v1.out_channels == (16, 32, 64, 128)
    assert len(v2.layer1) == 2 and v2.layer1[0].conv3.out_channels == 256
    assert [len(getattr(v2, f'stage{s}')) for s in (2, 3, 4)] == [1, 3, 2]
    assert v2.out_channels == (18, 36, 72, 144)


def test_arch_preset_equals_mmpose_built_from_its_config_extra():
    """arch='w32' against mmpose's own HRNet built from the extra its config spells out (an
    independent reference: neither ARCH_ZOO nor arch_to_extra is involved)."""
    from mmpose.models.backbones import HRNet as MMPoseHRNet
    ours, theirs = HRNet(arch='w32').eval(), MMPoseHRNet(extra=MMPOSE_W32_EXTRA)
    theirs.eval()  # mmpose's train() returns None: no chaining
    theirs.load_state_dict(randomize(ours), strict=True)  # same keys, same shapes
    x = torch.randn(1, 3, 96, 64)
    with torch.no_grad():
        outs, refs = ours(x), theirs(x)
    assert len(outs) == len(refs) == 4
    for a, b in zip(outs, refs):
        assert a.shape == b.shape and max_rel_diff(b, a) < 1e-5


def test_presets_are_copied_before_use():
    extra = arch_to_extra('w18')
    extra['stage2']['num_channels'] = (1, 2)
    assert arch_to_extra('w18')['stage2']['num_channels'] == (18, 36)
    given = arch_to_extra('w18')
    HRNet(extra=given, multiscale_output=False)
    assert given == arch_to_extra('w18')


def test_multiscale_output_read_from_extra_like_mmpose():
    extra = arch_to_extra('w18')
    extra['stage4']['multiscale_output'] = False
    model = HRNet(extra=extra)
    assert model.out_channels == (18, ) and model.strides == (4, )
    assert 'stage4.2.fuse_layers.1.0.0.0.weight' not in model.state_dict()
    assert 'stage4.2.fuse_layers.1.0.0.0.weight' in HRNet(arch='w18').state_dict()


@pytest.mark.parametrize('defaults, stage4_key, outputs, mode, norm_eval, conv_init', [
    ('mmpose', None, 1, 'nearest', False, 'Normal'),  # mmpose reads an absent key as False
    ('mmpose', True, 4, 'nearest', False, 'Normal'),  # HRNetV2 face / hand, DEKR, CID
    ('mmseg', None, 4, 'bilinear', False, 'Kaiming'),
    ('mmseg', False, 4, 'bilinear', False, 'Kaiming'),  # mmseg ignores the extra key
    ('mmdet', False, 4, 'nearest', True, 'Kaiming'),  # so does mmdet
    (None, None, 4, 'nearest', False, 'Kaiming'),
    (None, False, 1, 'nearest', False, 'Kaiming'),
])
def test_defaults_follow_the_named_package(defaults, stage4_key, outputs, mode, norm_eval,
                                           conv_init):
    extra = arch_to_extra('w18_small_v1')
    if stage4_key is not None:
        extra['stage4']['multiscale_output'] = stage4_key
    model = HRNet(extra=extra, defaults=defaults)
    assert len(model.out_channels) == outputs
    assert (model.upsample_mode, model.norm_eval) == (mode, norm_eval)
    assert model.align_corners == (False if mode == 'bilinear' else None)
    assert model.init_cfg[0]['type'] == conv_init


def test_explicit_arguments_win_over_defaults():
    model = HRNet(arch='w18_small_v1', defaults='mmdet', norm_eval=False, upsample_mode='bilinear',
                  align_corners=True, multiscale_output=False)
    assert (model.norm_eval, model.upsample_mode, model.align_corners) == (False, 'bilinear', True)
    assert model.out_channels == (16, )
    extra = arch_to_extra('w18_small_v1')
    extra['upsample'] = dict(mode='bilinear', align_corners=True)
    assert HRNet(extra=extra, defaults='mmpose').align_corners is True  # mmpose reads it
    assert HRNet(extra=extra, defaults='mmdet').upsample_mode == 'nearest'  # mmdet does not


@pytest.mark.parametrize('kwargs, match', [
    (dict(defaults='mmcls'), "defaults = 'mmcls'"),
    (dict(arch='w33'), "Unknown HRNet arch 'w33'"),
    (dict(extra={'stage1': {}}), r"extra\['stage1'\] lacks"),
    (dict(extra={k: v for k, v in arch_to_extra('w18').items() if k != 'stage3'}),
     r"extra\['stage3'\] is missing"),
    (dict(extra={**arch_to_extra('w18'), 'stage3': {**arch_to_extra('w18')['stage3'],
                                                  'num_channels': (18, 36)}}),
     r"extra\['stage3'\]\['num_channels'\] = \(18, 36\) must hold 3"),
    (dict(extra={**arch_to_extra('w18'), 'stage2': {**arch_to_extra('w18')['stage2'],
                                                  'block': 'BASICC'}}), "'BASICC'"),
    (dict(upsample_mode='bicubic'), "upsample_mode = 'bicubic'"),
])
def test_bad_configuration_names_the_value(kwargs, match):
    with pytest.raises((KeyError, ValueError), match=match):
        HRNet(**kwargs)


def test_sides_not_multiple_of_32_with_nearest_fusion():
    model = HRNet(arch='w18').eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 100, 70))
    assert [tuple(o.shape[-2:]) for o in outs] == [(25, 18), (13, 9), (7, 5), (4, 3)]


def test_train_returns_module_and_norm_eval():
    model = HRNet(arch='w18_small_v1', norm_eval=True)
    assert model.train() is model and model.training
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    before = model.norm1.running_mean.clone()
    model(torch.rand(2, 3, 64, 64))
    assert torch.equal(model.norm1.running_mean, before)


@pytest.mark.parametrize('frozen', [-1, 0, 1, 2, 4])
def test_frozen_stages(frozen):
    model = HRNet(arch='w18_small_v1', frozen_stages=frozen).train()
    groups = [['conv1', 'bn1', 'conv2', 'bn2'], ['layer1', 'transition1'],
              ['stage2', 'transition2'], ['stage3', 'transition3'], ['stage4']]
    for stage, names in enumerate(groups):
        for name, p in model.named_parameters():
            if name.split('.')[0] in names:
                assert p.requires_grad == (stage > frozen), name
        for name in names:
            module = getattr(model, name)
            assert module.training == (stage > frozen), name


def test_with_cp_gives_same_outputs_and_gradients():
    plain = HRNet(arch='w18_small_v1').train()
    ckpt = HRNet(arch='w18_small_v1', with_cp=True).train()
    ckpt.load_state_dict(randomize(plain))
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    grads = []
    for model in (plain, ckpt):
        x.grad = None
        outs = model(x)
        sum(o.square().mean() for o in outs).backward()
        grads.append((outs, x.grad.clone(), model.conv1.weight.grad.clone()))
    for a, b in zip(grads[0][0], grads[1][0]):
        assert max_rel_diff(a, b) < 1e-5
    assert max_rel_diff(grads[0][1], grads[1][1]) < 1e-5
    assert max_rel_diff(grads[0][2], grads[1][2]) < 1e-5


def test_zero_init_residual_and_default_init():
    model = HRNet(arch='w18_small_v1', zero_init_residual=True)
    model.init_weights()
    assert model.stage2[0].branches[0][0].bn2.weight.abs().sum() == 0
    assert model.layer1[0].bn3.weight.abs().sum() == 0
    assert torch.all(model.bn1.weight == 1)
    assert model.conv1.weight.std() > 0.01  # Kaiming, not mmpose's Normal(std=0.001)


def test_norm_and_conv_cfg_are_applied():
    model = HRNet(arch='w18_small_v1', norm_cfg=dict(type='GN', num_groups=2),
                  conv_cfg=dict(type='Conv2d'))
    assert 'gn1.weight' in model.state_dict() and 'stage2.0.branches.0.0.gn2.weight' in \
        model.state_dict()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert len(model(torch.rand(1, 3, 64, 64))) == 4


@pytest.mark.parametrize('mode', ['nearest', 'bilinear'])
def test_onnx_export_keeps_the_odd_size_resize(tmp_path, mode):
    """Traced at 64x64 (every halving exact), the exported graph must still resize on inputs
    whose halvings are not exact: the trace may not freeze that decision."""
    ort = pytest.importorskip('onnxruntime')
    model = HRNet(arch='w18_small_v1', upsample_mode=mode).eval()
    path = str(tmp_path / 'hrnet.onnx')
    torch.onnx.export(model, torch.randn(1, 3, 64, 64), path, dynamo=False, opset_version=17,
                      input_names=['x'], dynamic_axes={'x': {2: 'h', 3: 'w'}})
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    x = torch.randn(1, 3, 50, 70)
    with torch.no_grad():
        ref = model(x)
    out = session.run(None, {'x': x.numpy()})
    for a, b in zip(out, ref):
        assert a.shape == tuple(b.shape)
        assert abs(a - b.numpy()).max() <= 1e-4 * abs(b.numpy()).max()
