"""Weights from everywhere: each source layout converts to keys that load strictly, and every
source key is accounted for (mapped, or dropped with its reason).

timm and mmpretrain state dicts come from their real code (installed); the official repos'
layouts are built from the key tables of ``../shared/HRNET_FACTS.md`` section 3.
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmhrnet.convert import SOURCES, convert_weights
from mmhrnet.utils.build import build_model
from mmhrnet.models import HRNet
from mmhrnet.utils.fidelity import max_rel_diff, randomize

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
POSE_CONFIG = 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py'
SEG_CONFIG = 'configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py'
DET_CONFIG = 'configs/det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py'
CLS_PREFIXES = ('incre_modules.', 'downsamp_modules.', 'final_layer.', 'classifier.')


def assert_accounted(conv, source_state):
    """Every source key is mapped or dropped, exactly once."""
    seen = [o for o, _ in conv.mapped] + [o for o, _ in conv.dropped]
    assert sorted(seen) == sorted(k[7:] if k.startswith('module.') else k for k in source_state)
    assert all(why for _, why in conv.dropped)


def equal_states(a, b):
    assert a.keys() == b.keys()
    bad = [k for k in a if not torch.equal(a[k], b[k])]
    assert not bad, bad[:5]


@pytest.mark.parametrize('name, arch', [('hrnet_w18_small', 'w18_small_v1'),
                                        ('hrnet_w18_small_v2', 'w18_small_v2')])
def test_timm_classification_weights(name, arch):
    timm = pytest.importorskip('timm')
    classifier = timm.create_model(name, pretrained=False)
    state = randomize(classifier)
    conv = convert_weights({'module.' + k: v for k, v in state.items()}, 'timm')
    assert_accounted(conv, state)
    assert {o for o, _ in conv.dropped} == {k for k in state if k.startswith(CLS_PREFIXES)}
    ours = HRNet(arch=arch).eval()
    ours.load_state_dict(conv.state_dict, strict=True)
    # timm's HRNet features (no classification head) equal ours under the converted weights.
    feats = timm.create_model(name, pretrained=False, features_only=True, feature_location='',
                              out_indices=(1, 2, 3, 4)).eval()
    feats.load_state_dict(conv.state_dict, strict=False)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        for a, b in zip(feats(x), ours(x), strict=True):
            assert max_rel_diff(a, b) < 1e-5


def test_official_classification_weights_share_timms_layout():
    timm = pytest.importorskip('timm')
    state = timm.create_model('hrnet_w18_small', pretrained=False).state_dict()
    conv = convert_weights({'state_dict': state}, 'official-cls')
    assert len(conv.dropped) == sum(k.startswith(CLS_PREFIXES) for k in state)
    HRNet(arch='w18_small_v1').load_state_dict(conv.state_dict, strict=True)


def test_mmpretrain_classifier_weights():
    pytest.importorskip('mmpretrain')
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MODELS.build(dict(
            type='ImageClassifier', backbone=dict(type='HRNet', arch='w18'),
            neck=[dict(type='HRFuseScales', in_channels=(18, 36, 72, 144)),
                  dict(type='GlobalAveragePooling')],
            head=dict(type='LinearClsHead', in_channels=2048, num_classes=10))).eval()
    state = randomize(classifier)
    conv = convert_weights(state, 'mmpretrain')
    assert_accounted(conv, state)
    assert {o.split('.')[0] for o, _ in conv.dropped} == {'neck', 'head'}
    ours = HRNet(arch='w18').eval()
    ours.load_state_dict(conv.state_dict, strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(classifier.backbone(x), ours(x), strict=True):
            assert max_rel_diff(a, b) < 1e-5


def test_official_pose_layout():
    model = build_model(osp.join(ROOT, POSE_CONFIG))
    state = randomize(model)
    # deep-high-resolution-net: the backbone at the top level, the 1x1 head as final_layer,
    # saved from DataParallel.
    official = {'module.' + (k[len('backbone.'):] if k.startswith('backbone.') else
                             k.replace('head.final_layer.', 'final_layer.')): v
                for k, v in state.items()}
    conv = convert_weights(official, 'official-pose')
    assert_accounted(conv, official)
    assert not conv.dropped and not conv.check(model)['missing']
    equal_states(conv.state_dict, state)


def test_official_seg_layout_with_bias_folding():
    model = build_model(osp.join(ROOT, SEG_CONFIG))
    state = randomize(model)
    head = {'decode_head.convs.0.conv.': 'last_layer.0.', 'decode_head.convs.0.bn.':
            'last_layer.1.', 'decode_head.conv_seg.': 'last_layer.3.'}

    def official_key(k):
        for new, old in head.items():
            if k.startswith(new):
                return 'model.' + old + k[len(new):]
        return 'model.' + k[len('backbone.'):]
    official = {official_key(k): v for k, v in state.items()}
    bias = torch.randn(state['decode_head.convs.0.bn.running_mean'].shape)
    official['model.last_layer.0.bias'] = bias
    official['loss.criterion.weight'] = torch.ones(3)
    conv = convert_weights(official, 'official-seg')
    assert dict(conv.dropped) == {
        'loss.criterion.weight': "the training criterion's class weights",
        'last_layer.0.bias': 'folded into decode_head.convs.0.bn.running_mean'}
    model.load_state_dict(conv.state_dict, strict=True)
    mean = conv.state_dict['decode_head.convs.0.bn.running_mean']
    assert torch.allclose(mean, state['decode_head.convs.0.bn.running_mean'] - bias, atol=1e-6)


def to_mmdet_v1(state, num_classes):
    """mmdet 3 two-stage keys -> the official detection repo's (mmdetection v1): HRFPN convs
    unwrapped, RoI heads at the top level, background first and with its own rows."""
    out = {}
    for k, v in state.items():
        k = k.replace('neck.reduction_conv.conv.', 'neck.reduction_conv.0.')
        for i in range(5):
            k = k.replace(f'neck.fpn_convs.{i}.conv.', f'neck.fpn_conv.{i}.')
        k = k[len('roi_head.'):] if k.startswith('roi_head.') else k
        name = k.rsplit('.', 2)[-2]
        if name == 'fc_cls':
            v = torch.cat((v[-1:], v[:-1]))
        elif name in ('fc_reg', 'conv_logits'):
            per = v.shape[0] // num_classes
            v = torch.cat((torch.randn(per, *v.shape[1:]), v))
        out[k] = v
    return out


def test_official_det_layout():
    model = build_model(osp.join(ROOT, DET_CONFIG))
    state = randomize(model)
    n = model.roi_head.bbox_head.num_classes
    official = to_mmdet_v1(state, n)
    assert 'neck.reduction_conv.0.weight' in official and 'bbox_head.fc_cls.weight' in official
    conv = convert_weights({'state_dict': official}, 'official-det')
    assert_accounted(conv, official)
    equal_states(conv.state_dict, state)
    model.load_state_dict(conv.state_dict, strict=True)


@pytest.mark.parametrize('source', SOURCES)
def test_wrong_layout_fails_naming_the_source(source):
    not_hrnet = {'fc.weight': torch.zeros(2, 2)}
    with pytest.raises(KeyError, match='not (an?|the) '):
        convert_weights(not_hrnet, source)


def test_convert_tool_checks_against_a_config(tmp_path):
    timm = pytest.importorskip('timm')
    src, dst, report = tmp_path / 'timm.pth', tmp_path / 'out.pth', tmp_path / 'keys.txt'
    torch.save(timm.create_model('hrnet_w18_small', pretrained=False).state_dict(), src)
    proc = subprocess.run(
        [sys.executable, 'tools/misc/convert_weights.py', str(src), str(dst), '--from', 'timm',
         '--config', POSE_CONFIG, '--report', str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'the backbone loads it' in proc.stdout
    lines = report.read_text().splitlines()
    assert sum(line.startswith('dropped incre_modules.') for line in lines) > 0
    assert sum(line.startswith('mapped ') for line in lines) == len(
        torch.load(dst, weights_only=True)['state_dict'])
