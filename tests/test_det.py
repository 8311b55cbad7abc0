"""Detection (HRNetV2p): the HRFPN neck against mmdet's, weight loading, configs, data paths."""
import copy
import functools
import glob
import os.path as osp

import pytest
import torch

import mmhrnet  # noqa: F401 (mmhrnet:: configs, checkpoint allow-list)
from mmhrnet.det import HRFPN
from mmhrnet.models import inputs_from
from mmhrnet.models import HRNet
from mmhrnet.utils.fidelity import max_rel_diff, randomize

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DET_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'det', '*.py')))
COCO_CONFIGS = [c for c in DET_CONFIGS if c.endswith('_coco.py')]
SYNTH_CONFIG = osp.join(
    ROOT, 'configs', 'det', 'mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py')
W18 = [18, 36, 72, 144]


def branch_inputs(channels, height, width, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, c, height // 2**i, width // 2**i, generator=g)
            for i, c in enumerate(channels)]


@functools.lru_cache(maxsize=None)
def _read_cfg(path):
    from mmengine.config import Config
    return Config.fromfile(path)  # slow (mmdet:: bases): read each file once


def load_cfg(path, pretrained=False):
    cfg = copy.deepcopy(_read_cfg(path))
    if not pretrained:
        cfg.model.backbone.init_cfg = None  # no ImageNet download in tests
    return cfg


def build_detector(cfg_model):
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    return MODELS.build(copy.deepcopy(cfg_model))


# ---------------------------------------------------------------- neck equality with mmdet
@pytest.mark.parametrize('channels,pooling', [(W18, 'AVG'), ([32, 64, 128, 256], 'AVG'),
                                              (W18, 'MAX')])
def test_hrfpn_equals_mmdet(channels, pooling):
    from mmdet.models.necks import HRFPN as MMDetHRFPN
    ref = MMDetHRFPN(channels, 64, pooling_type=pooling).eval()
    ours = HRFPN(channels, 64, pooling_type=pooling).eval()
    ours.load_state_dict(randomize(ref, seed=1), strict=True)  # same keys both ways
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = branch_inputs(channels, 64, 96)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert len(got) == 5
    for i, (a, b) in enumerate(zip(expected, got)):
        assert a.shape == b.shape == (2, 64, 64 // 2**i, 96 // 2**i)
        assert max_rel_diff(a, b) < 1e-5


def test_hrfpn_on_hrnet_equals_mmdet_backbone_and_neck():
    """Our HRNet + HRFPN against mmdet's HRNet + HRFPN with the same weights, end to end."""
    from mmdet.models.backbones import HRNet as MMDetHRNet
    from mmdet.models.necks import HRFPN as MMDetHRFPN
    ours = torch.nn.Sequential(HRNet(arch='w18', norm_eval=True), HRFPN(W18, 32)).eval()
    ref = torch.nn.Sequential(MMDetHRNet(extra=copy.deepcopy(ours[0].extra)),
                              MMDetHRFPN(W18, 32)).eval()
    ours.load_state_dict(randomize(ref, seed=2), strict=True)
    x = torch.randn(1, 3, 128, 160, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for a, b in zip(ref(x), ours(x)):
            assert max_rel_diff(a, b) < 1e-5


def test_hrfpn_odd_sizes_and_strides():
    """Sizes that are not multiples of 32 still concat (mmdet's scale_factor would not)."""
    neck = HRFPN(W18, 16, num_outs=3, pool_strides=(1, 2, 4)).eval()
    x = [torch.randn(1, c, s, t) for c, (s, t) in zip(W18, [(25, 33), (13, 17), (7, 9), (4, 5)])]
    with torch.no_grad():
        out = neck(x)
    assert [tuple(o.shape[2:]) for o in out] == [(25, 33), (12, 16), (6, 8)]
    assert neck.num_outs == 3


def test_hrfpn_norm_and_act_are_applied():
    plain = HRFPN(W18, 16)
    normed = HRFPN(W18, 16, norm_cfg=dict(type='GN', num_groups=4), act_cfg=dict(type='ReLU'))
    assert plain.reduction_conv.conv.bias is not None and not plain.reduction_conv.with_norm
    assert normed.reduction_conv.with_norm and normed.reduction_conv.conv.bias is None
    assert all(c.with_norm and c.with_activation for c in normed.fpn_convs)
    with torch.no_grad():
        out = normed.eval()(branch_inputs(W18, 32, 32))
    assert all((o >= 0).all() for o in out)  # ReLU ran
    for o in out[:3]:  # GroupNorm ran: each group of each level has zero mean
        assert o.view(2, 4, -1).mean(-1).abs().max() < 0.5


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=18), 'in_channels'),
    (dict(in_channels=W18, pooling_type='sum'), 'pooling_type'),
    (dict(in_channels=W18, pool_strides=(1, 2)), 'pool_strides'),
    (dict(in_channels=W18, upsample_mode='area'), 'upsample_mode'),
])
def test_hrfpn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HRFPN(**kwargs)


def test_hrfpn_declares_its_strides():
    neck = HRFPN(W18, 16, num_outs=4, pool_strides=(1, 2, 4, 16)).eval()
    outs = neck(branch_inputs(W18, 64, 64))
    assert neck.strides == (4, 8, 16, 64)
    assert [256 // o.shape[-1] for o in outs] == list(neck.strides)  # 64 = 256 / 4


def test_hrfpn_wrong_inputs_name_both_numbers():
    neck = HRFPN(W18, 16)
    with pytest.raises(ValueError, match=r'built for input channels \(18, 36, 72, 144\) but '
                                         r'received \(32, 64, 128, 256\)'):
        neck(branch_inputs([32, 64, 128, 256], 32, 32))
    with pytest.raises(ValueError, match='got 3 input maps, expected 4'):
        neck(branch_inputs(W18[:3], 32, 32))


# ---------------------------------------------------------------------------- weight loading
def official_state_dict(mmdet_state, prefix=''):
    """mmdet's HRFPN keys renamed to the official HRNet-Object-Detection layout."""
    out = {}
    for k, v in mmdet_state.items():
        if not k.startswith(prefix):
            out[k] = v
            continue
        local = k[len(prefix):]
        if local.startswith('reduction_conv.conv.'):
            local = 'reduction_conv.0.' + local[len('reduction_conv.conv.'):]
        elif local.startswith('fpn_convs.'):
            _, i, _, name = local.split('.')
            local = f'fpn_conv.{i}.{name}'
        out[prefix + local] = v
    return out


def test_hrfpn_loads_official_and_mmdet_keys():
    from mmdet.models.necks import HRFPN as MMDetHRFPN
    ref = MMDetHRFPN(W18, 32).eval()
    state = randomize(ref, seed=3)
    official = official_state_dict(state)
    assert 'reduction_conv.0.weight' in official and 'fpn_conv.4.bias' in official
    assert len(official) == len(state) == 12
    x = branch_inputs(W18, 32, 48)
    for weights in (state, official):
        ours = HRFPN(W18, 32).eval()
        ours.load_state_dict(copy.deepcopy(weights), strict=True)
        with torch.no_grad():
            for a, b in zip(ref(x), ours(x)):
                assert max_rel_diff(a, b) < 1e-5
    # a wrong shape still fails strictly (the hook only renames)
    bad = dict(official, **{'fpn_conv.0.weight': torch.zeros(32, 32, 1, 1)})
    with pytest.raises(RuntimeError, match='fpn_convs.0.conv.weight'):
        HRFPN(W18, 32).load_state_dict(bad, strict=True)


def test_detector_loads_official_neck_keys_and_mmdet_checkpoints():
    """Inside a detector (prefix ``neck.``) official keys load; an mmdet HRFPN detector's whole
    state dict loads strictly into ours and gives the same features."""
    cfg = load_cfg(osp.join(ROOT, 'configs', 'det', 'faster-rcnn_hrnetv2p-w18-1x_coco.py'))
    ours = build_detector(cfg.model).eval()
    ref_cfg = copy.deepcopy(cfg.model)
    ref_cfg.type = 'FasterRCNN'
    ref_cfg.backbone = dict(type='HRNet', extra=copy.deepcopy(ours.backbone.extra))
    ref_cfg.neck = dict(type='HRFPN', in_channels=W18, out_channels=256)
    ref = build_detector(ref_cfg).eval()
    state = randomize(ref, seed=4)
    ours.load_state_dict(state, strict=True)
    assert set(ours.state_dict()) == set(state)
    ours.load_state_dict(official_state_dict(state, prefix='neck.'), strict=True)
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        for a, b in zip(ref.extract_feat(x), ours.extract_feat(x)):
            assert max_rel_diff(a, b) < 1e-5


# ------------------------------------------------------------------ channels from the backbone
def test_neck_channels_read_from_backbone_and_mismatch_fails():
    backbone = HRNet(arch='w18_small_v1')
    assert inputs_from(dict(type='mmhrnet.HRFPN'), backbone)['in_channels'] == [16, 32, 64, 128]
    with pytest.raises(ValueError, match=r'HRFPN in_channels \(32, 64, 128, 256\) do not match '
                                         r'the out_channels \(16, 32, 64, 128\) that HRNet'):
        inputs_from(dict(type='mmhrnet.HRFPN', in_channels=[32, 64, 128, 256]), backbone)
    cfg = load_cfg(osp.join(ROOT, 'configs', 'det', 'faster-rcnn_hrnetv2p-w18-1x_coco.py'))
    cfg.model.neck.in_channels = [32, 64, 128, 256]
    with pytest.raises(ValueError, match=r'\(18, 36, 72, 144\)'):
        build_detector(cfg.model)


# ------------------------------------------------------------------------------------ configs
def test_config_set():
    names = {osp.basename(c) for c in COCO_CONFIGS}
    assert {'faster_rcnn_hrnetv2p_w32_coco.py', 'mask_rcnn_hrnetv2p_w32_coco.py'} <= names
    for det in ('faster-rcnn', 'mask-rcnn'):
        for w in ('w18', 'w32', 'w40'):
            for sched in ('1x', '2x'):
                if w == 'w32' and sched == '1x':
                    continue  # the entry points
                assert f'{det}_hrnetv2p-{w}-{sched}_coco.py' in names


@pytest.mark.parametrize('path', COCO_CONFIGS, ids=osp.basename)
def test_coco_config_recipe(path):
    """Each config states its target, keeps mmdet's recipe and builds with its own width."""
    import re
    cfg = load_cfg(path)
    text = open(path).read()
    assert re.search(r'Meant to reach: COCO val2017 box AP \d+\.\d', text)
    is_mask = 'mask' in osp.basename(path)
    if is_mask:
        assert re.search(r'mask AP \d+\.\d', text)
    width = re.search(r'w(18|32|40)', osp.basename(path)).group(1)
    two_x = '2x' in osp.basename(path)
    assert cfg.default_scope == 'mmdet'
    assert cfg.model.type == ('mmhrnet.MaskRCNN' if is_mask else 'mmhrnet.FasterRCNN')
    assert cfg.model.backbone.type == 'mmhrnet.HRNet' and cfg.model.backbone.defaults == 'mmdet'
    assert cfg.model.backbone.arch == f'w{width}'
    assert cfg.model.neck.type == 'mmhrnet.HRFPN' and 'in_channels' not in cfg.model.neck
    assert cfg.train_cfg.max_epochs == (24 if two_x else 12)
    assert cfg.param_scheduler[1].milestones == ([16, 22] if two_x else [8, 11])
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_dataloader.dataset.pipeline[2].scale == (1333, 800)
    assert cfg.test_evaluator.metric == (['bbox', 'segm'] if is_mask else 'bbox')
    checkpoint = load_cfg(path, pretrained=True).model.backbone.init_cfg.checkpoint
    assert checkpoint == f'open-mmlab://msra/hrnetv2_w{width}'


def distinct_models():
    """One config per distinct model dict: the 2x configs differ from their 1x only in the
    schedule (checked in :func:`test_two_x_configs_share_the_1x_model`)."""
    return [c for c in DET_CONFIGS if '-2x_' not in osp.basename(c)]


def test_two_x_configs_share_the_1x_model():
    for path in DET_CONFIGS:
        if '-2x_' in osp.basename(path):
            one_x = path.replace('-2x_', '-1x_')
            if not osp.exists(one_x):  # W32: the entry points
                one_x = osp.join(osp.dirname(path), osp.basename(path).split('_')[0].replace(
                    '-', '_') + '_hrnetv2p_w32_coco.py')
            assert load_cfg(path).model.to_dict() == load_cfg(one_x).model.to_dict()


@pytest.mark.parametrize('path', distinct_models(), ids=osp.basename)
def test_config_builds_and_trains_one_step(path):
    """Build + forward/backward of every model at a reduced scale (64x96, 2 images)."""
    from mmdet.testing import demo_mm_inputs
    cfg = load_cfg(path)
    # fewer sampled RoIs: the 2-fc box head over 512 RoIs dominates a CPU step
    cfg.model.train_cfg.rpn_proposal.max_per_img = 64
    cfg.model.train_cfg.rcnn.sampler.num = 32
    model = build_detector(cfg.model)
    model.train()
    with_mask = 'mask' in osp.basename(path)
    num_classes = model.roi_head.bbox_head.num_classes
    data = demo_mm_inputs(2, [(3, 64, 96)] * 2, num_items=[2, 1], num_classes=num_classes + 1,
                          with_mask=with_mask)
    for sample in data['data_samples']:
        sample.gt_instances.labels = sample.gt_instances.labels % num_classes
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox'} <= set(losses)
    assert ('loss_mask' in losses) == with_mask
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.neck.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    # BN statistics stay frozen under norm_eval (COCO configs: mmdet's default), train under
    # the synthetic one
    synthetic = 'synthetic' in osp.basename(path)
    assert model.backbone.norm_eval == (not synthetic)
    assert model.backbone.norm1.training == synthetic


PUBLISHED_MPARAMS = {'w18': 26.2, 'w32': 45.0, 'w40': 60.5}  # official repo, HRNet paper


@pytest.mark.parametrize('width', sorted(PUBLISHED_MPARAMS))
def test_faster_rcnn_params_match_published(width):
    """The published counts are parameters / 2**20 (as the published GFLOPs are MACs / 2**30):
    ours are within the published rounding (+-0.05) plus 0.05 of them."""
    name = ('faster_rcnn_hrnetv2p_w32_coco.py' if width == 'w32' else
            f'faster-rcnn_hrnetv2p-{width}-1x_coco.py')
    model = build_detector(load_cfg(osp.join(ROOT, 'configs', 'det', name)).model)
    params = sum(p.numel() for p in model.parameters())
    assert abs(params / 2**20 - PUBLISHED_MPARAMS[width]) < 0.1
    assert abs(params / 1e6 - PUBLISHED_MPARAMS[width]) > 1  # and clearly not decimal millions
