"""The segmentation networks HRNetV2 replaced (mmhrnet/seg/baselines, configs/seg_baselines)
and the comparison command."""
import glob
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmhrnet.seg.baselines import (DeconvNetHead, DilatedNetHead, SegNetHead, VGG16Encoder,
                                   boundary_counts, boundary_fscore)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/seg_baselines/*_synthetic-parts-256x256.py')))
PIECES = osp.join(ROOT, 'configs/seg_baselines/_base_/models/baselines.py')


def build(cfg_model):
    init_default_scope('mmseg')
    return MODELS.build(cfg_model)


@pytest.fixture(autouse=True)
def mmseg_scope():
    """The heads build their losses from the default scope's registry: mmseg's for every test
    here (conftest puts the scope back afterwards)."""
    init_default_scope('mmseg')


def test_every_network_has_a_config():
    names = {osp.basename(c).split('_')[0] for c in CONFIGS}
    assert names == {'hrnetv2', 'fcn', 'unet-s5-d16-w16', 'deeplabv3plus', 'deconvnet',
                     'segnet', 'deeplabv1-largefov', 'dilatednet'}


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: osp.basename(c).split('_')[0])
def test_builds_output_size_and_backward(config):
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = build(cfg.model)
    model.init_weights()
    x = torch.rand(2, 3, 64, 96)
    metas = [dict(img_shape=(64, 96), ori_shape=(64, 96), pad_shape=(64, 96))] * 2
    model.eval()
    with torch.no_grad():
        logits = model.encode_decode(x, metas)
    assert logits.shape == (2, 11, 64, 96)  # resized to the input by EncoderDecoder
    model.train()
    samples = []
    for _ in range(2):
        s = SegDataSample(metainfo=metas[0])
        s.gt_sem_seg = PixelData(data=torch.randint(0, 11, (1, 64, 96)))
        samples.append(s)
    losses = model.loss(x, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    first = next(p for p in model.backbone.parameters() if p.dim() == 4)
    assert first.grad is not None and first.grad.abs().sum() > 0


# Published params (millions) at the papers' settings: SegNet (TPAMI 2017) compares SegNet
# 29.5M and DeconvNet 252M and gives 14.7M for the VGG16 encoder; DeepLab v1 (ICLR 2015,
# Table 2) gives DeepLab-LargeFOV 20.5M. Both papers count conv weights and biases / BN.
PAPER = [
    ('segnet', 'vgg16_unpool', 'segnet_head', 12, {}, 29.5),
    ('deconvnet', 'vgg16_unpool', 'deconvnet_head', 21, {}, 252),
    ('deeplabv1-largefov', 'vgg16_deeplab', 'largefov_head', 21, {}, 20.5),
]


@pytest.mark.parametrize('name,backbone,head,classes,extra,published', PAPER,
                         ids=[p[0] for p in PAPER])
def test_params_as_published(name, backbone, head, classes, extra, published):
    pieces = Config.fromfile(PIECES)
    model = dict(type='mmhrnet.CheckedEncoderDecoder', backbone=pieces[backbone],
                 decode_head=dict(pieces[head], num_classes=classes, **extra))
    with torch.device('meta'):  # paper-sized: count without allocating
        m = build(model)
    params = sum(p.numel() for p in m.parameters()) / 1e6
    assert abs(params - published) / published < 0.005, (name, params)


def test_vgg16_encoder_params_and_declared_shapes():
    with torch.device('meta'):
        enc = VGG16Encoder(norm_cfg=None)
    assert abs(sum(p.numel() for p in enc.parameters()) / 1e6 - 14.7) < 0.05
    x = torch.rand(1, 3, 64, 64)
    for kw in (dict(), dict(pool_strides=(2, 2, 2, 1, 1), pool_kernel=3, dilations=(1,) * 4 + (2,)),
               dict(pool_strides=(2, 2, 2, 0, 0), dilations=(1,) * 4 + (2,))):
        enc = VGG16Encoder(width=8, **kw)
        outs = enc(x)
        assert [o.shape[1] for o in outs] == list(enc.out_channels)
        assert [64 // o.shape[-1] for o in outs] == list(enc.strides)


def test_dilatednet_context_module_identity_init_and_size():
    c = 11
    head = DilatedNetHead(16, num_classes=c, fc_channels=8)
    head.init_weights()
    weights = sum(m.weight.numel() for m in list(head.context.modules()) + [head.conv_seg]
                  if isinstance(m, torch.nn.Conv2d))
    assert weights == 64 * c * c  # Yu & Koltun: the basic context module has 64 C^2 weights
    x = torch.rand(1, c, 20, 20)  # scores >= 0 pass the identity-initialised module unchanged
    assert torch.allclose(head.conv_seg(head.context(x)), x)


def test_deconvnet_without_fc_block_unpools_pool5_directly():
    enc = VGG16Encoder(width=8, return_indices=True)
    head = DeconvNetHead(enc.out_channels, num_classes=3, fc_channels=None)
    assert not any(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))
                   for m in head.fc.modules())
    full = DeconvNetHead(enc.out_channels, num_classes=3, fc_channels=16)
    assert sum(p.numel() for p in full.parameters()) > sum(p.numel() for p in head.parameters())
    assert head(enc(torch.rand(1, 3, 64, 64))).shape == (1, 3, 64, 64)


def test_bad_inputs_fail_clearly():
    with pytest.raises(ValueError, match='return_indices'):
        VGG16Encoder(pool_strides=(2, 2, 2, 1, 1), return_indices=True)
    head = SegNetHead((8, 16, 32, 64, 64), num_classes=3)
    with pytest.raises(ValueError, match='5 pooling indices'):
        head([torch.rand(1, 64, 2, 2)] * 5)


def test_boundary_fscore():
    label = torch.zeros(40, 40, dtype=torch.long)
    label[10:30, 10:30] = 1
    assert torch.equal(boundary_fscore(boundary_counts(label, label, 2)),
                       torch.ones(2, dtype=torch.float64))
    near, far = torch.zeros_like(label), torch.zeros_like(label)
    near[12:32, 10:30] = 1  # 2 px off: inside the 3 px tolerance
    far[15:35, 10:30] = 1  # 5 px off
    assert torch.allclose(boundary_fscore(boundary_counts(near, label, 2)),
                          torch.ones(2, dtype=torch.float64))
    f_far = boundary_fscore(boundary_counts(far, label, 2))
    assert (f_far < 0.7).all() and (f_far > 0.3).all()
    assert torch.isnan(boundary_fscore(boundary_counts(label, label, 3)))[2]  # no class 2
    ignored = label.clone()
    ignored[:, 20:] = 255  # a wrong prediction on ignored pixels does not count
    wrong = label.clone()
    wrong[:, 20:] = 0
    assert torch.allclose(boundary_fscore(boundary_counts(wrong, ignored, 2)),
                          torch.ones(2, dtype=torch.float64))


def _samples(labels, preds):
    return [dict(pred_sem_seg=dict(data=p[None]), gt_sem_seg=dict(data=g[None]))
            for g, p in zip(labels, preds)]


def test_ground_truth_as_prediction_scores_100():
    from mmhrnet.analysis.seg_compare import PART_GROUPS
    from mmhrnet.seg.baselines.metrics import SegCompareMetric
    from mmhrnet.synthetic import PART_CLASSES
    labels = []
    for shift in (0, 7):  # two label maps with some part classes and ignored pixels
        g = torch.zeros(48, 64, dtype=torch.long)
        g[5 + shift:20 + shift, 10:30] = 2  # torso
        g[20:24, 30:50] = 5  # left lower arm (thin)
        g[30:40, 5 + shift:12 + shift] = 7  # left upper leg
        g[0:3, :] = 255
        labels.append(g)
    metric = SegCompareMetric(groups=PART_GROUPS)
    metric.dataset_meta = dict(classes=PART_CLASSES)
    metric.process({}, _samples(labels, labels))
    res = metric.compute_metrics(metric.results)
    # Classes absent from both (head, right arm, ...) are left out, not scored 0.
    assert res['mIoU'] == 100 and res['bF'] == 100
    assert res['mIoU_thin'] == 100 and res['mIoU_large'] == 100
    assert res['IoU.torso'] == 100 and math.isnan(res['IoU.head'])
    # A class predicted where the ground truth has none scores 0 and counts.
    wrong = [g.clone() for g in labels]
    wrong[0][40:44, 40:44] = 1  # a "head" that is not there
    metric.results = []
    metric.process({}, _samples(labels, wrong))
    res = metric.compute_metrics(metric.results)
    assert res['IoU.head'] == 0 and res['mIoU_large'] < 100 and res['bF'] < 100


def test_compare_command_trains_to_plateau_resumes_and_rebuilds(tmp_path):
    import json

    from PIL import Image

    from mmhrnet.synthetic import generate_synthetic_people
    data = tmp_path / 'data'
    generate_synthetic_people(str(data), num_train=4, num_val=2)
    configs = [c for c in CONFIGS if osp.basename(c).split('_')[0] in ('hrnetv2', 'fcn')]
    out, work = tmp_path / 'out', tmp_path / 'work'
    # Tolerance -1: never a plateau, so each network trains its schedule (2 iterations) and
    # one doubled schedule (4), two networks side by side.
    cmd = [sys.executable, osp.join(ROOT, 'tools/analysis/compare_seg.py'), *configs,
           '--iters', '2', '--batch-size', '2', '--num-images', '2', '--threads', '1',
           '--tolerance', '-1', '--max-doublings', '1', '--jobs', '2',
           '--work-dir', str(work), '--out-dir', str(out), '--cfg-options',
           f'train_dataloader.dataset.data_root={data}/',
           f'val_dataloader.dataset.data_root={data}/',
           f'test_dataloader.dataset.data_root={data}/']
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    for net in ('hrnetv2', 'fcn'):
        assert (work / net / 'iters_2' / 'iter_2.pth').is_file()
        assert (work / net / 'iters_4' / 'iter_4.pth').is_file()
    summary = json.loads((work / 'fcn' / 'summary.json').read_text())
    assert summary['iters'] == 4 and summary['converged'] is False
    assert [step for step, _ in summary['curve']] == [1, 2, 3, 4]  # validated every iteration
    table = (out / 'seg_compare.md').read_text().splitlines()
    for column in ('recipe', 'plateau', 'boundary F (3 px)', 'mIoU thin'):
        assert column in table[0]
    rows = table[2:]
    assert len(rows) == 2 and all('AdamW 0.002' in r and '4 x 2' in r for r in rows)
    assert any('HRNetV2' in r for r in rows) and any('FCN' in r for r in rows)
    assert Image.open(out / 'seg_compare.png').size[0] > 400
    assert Image.open(out / 'seg_compare_curves.png').size[0] > 400
    # The table is rebuilt from the kept work dirs without training.
    (out / 'seg_compare.md').unlink()
    subprocess.run(cmd + ['--no-train'], check=True, cwd=ROOT, capture_output=True)
    assert (out / 'seg_compare.md').read_text().splitlines() == table
    # Kept without checkpoints (logs, scores, samples), the runs rebuild the same table.
    keep, out2 = tmp_path / 'keep', tmp_path / 'out2'
    subprocess.run(cmd + ['--no-train', '--keep-runs', str(keep)], check=True, cwd=ROOT,
                   capture_output=True)
    assert not list(keep.rglob('*.pth'))
    assert (keep / 'fcn' / 'iters_4' / 'compare_sample.npz').is_file()
    kept = list(cmd)
    kept[kept.index('--work-dir') + 1], kept[kept.index('--out-dir') + 1] = str(keep), str(out2)
    subprocess.run(kept + ['--no-train'], check=True, cwd=ROOT, capture_output=True)
    assert (out2 / 'seg_compare.md').read_text().splitlines() == table
    # A network without a finished work dir is named in --no-train's error.
    other = [c for c in CONFIGS if osp.basename(c).startswith('segnet')]
    res = subprocess.run(cmd[:2] + other + cmd[2 + len(configs):] + ['--no-train'],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode != 0 and 'segnet' in res.stderr and 'iters_2' in res.stderr


def test_plateau_val_curve_and_train_time(tmp_path):
    """The curve and the training time of a run resumed after a kill come from the logs of
    both sessions (the killed one's iterations count; a step logged twice counts once)."""
    from mmhrnet.analysis.seg_compare import plateaued, train_seconds, val_curve
    assert plateaued([(1, 10.0), (2, 30.0), (3, 30.9)])
    assert not plateaued([(1, 10.0), (2, 30.0), (3, 31.2)])
    assert not plateaued([(3, 30.0)])
    for stamp, lines in (('20260101_000000', [(1, 5.0), (2, 9.0)]),
                         ('20260101_010000', [(2, 9.5), (3, 12.0)])):  # resumed at 2
        d = tmp_path / stamp / 'vis_data'
        d.mkdir(parents=True)
        (d / 'scalars.json').write_text(''.join(
            f'{{"lr": 0.1, "time": {s}.0, "step": {s * 10}}}\n'
            f'{{"mIoU": {m}, "time": 99.0, "step": {s * 10}}}\n' for s, m in lines))
    assert val_curve(str(tmp_path)) == [(10, 5.0), (20, 9.5), (30, 12.0)]
    # steps 10, 20, 30 at 1, 2, 3 s an iteration (step 20 logged by both sessions; the
    # validation records' own times not counted)
    assert train_seconds(str(tmp_path)) == 10 * 1.0 + 10 * 2.0 + 10 * 3.0
    assert train_seconds(str(tmp_path / 'none')) is None


def test_recipe_names_per_module_learning_rates():
    from mmhrnet.analysis.seg_compare import recipe
    cfg = Config.fromfile([c for c in CONFIGS if osp.basename(c).startswith('deconvnet')][0])
    assert recipe(cfg) == 'AdamW 0.002, warm-up 50, class-weighted CE'
    cfg.optim_wrapper.paramwise_cfg = dict(custom_keys={'decode_head.fc': dict(lr_mult=0.1),
                                                        'backbone': dict(decay_mult=0.0)})
    assert recipe(cfg) == 'AdamW 0.002, warm-up 50, lr x0.1 on decode_head.fc, class-weighted CE'


def test_a_superseded_schedule_needs_only_its_logs(tmp_path):
    """A finished schedule that did not plateau, its checkpoint deleted, is skipped (its time
    counted); the doubled schedule with a checkpoint is the result; a lone log is not enough."""
    import shutil

    from mmhrnet.analysis.seg_compare import keep_runs, scheduled_config, train_converged
    cfg = scheduled_config(CONFIGS[0], iters=2, batch_size=2)

    def run(iters, curve, ckpt):
        d = tmp_path / 'net' / f'iters_{iters}' / '20260101_000000' / 'vis_data'
        d.mkdir(parents=True)
        (d / 'scalars.json').write_text(''.join(
            f'{{"lr": 0.1, "time": 1.0, "step": {s}}}\n{{"mIoU": {m}, "step": {s}}}\n'
            for s, m in curve))
        if ckpt:
            (d.parent.parent / f'iter_{iters}.pth').write_bytes(b'')

    run(2, [(1, 5.0), (2, 9.0)], ckpt=False)
    with pytest.raises(FileNotFoundError, match='iters_4'):
        train_converged(cfg, str(tmp_path / 'net'), max_doublings=1, train_missing=False)
    run(4, [(2, 9.0), (4, 9.5)], ckpt=True)
    res = train_converged(cfg, str(tmp_path / 'net'), max_doublings=1, train_missing=False)
    assert res['iters'] == 4 and res['converged'] and res['train_s'] == 2 + 4
    assert res['checkpoint'].endswith('iters_4/iter_4.pth')
    # The last allowed schedule is never skipped: without its checkpoint nothing is scored.
    with pytest.raises(FileNotFoundError, match='iters_2'):
        train_converged(cfg, str(tmp_path / 'net'), max_doublings=0, train_missing=False)
    # A scored schedule without a plateau is the row until a longer one finishes.
    (tmp_path / 'net' / 'iters_2' / 'compare_metrics.json').write_text('{}')
    shutil.rmtree(tmp_path / 'net' / 'iters_4')
    res = train_converged(cfg, str(tmp_path / 'net'), max_doublings=1, train_missing=False)
    assert res['iters'] == 2 and not res['converged'] and res['train_s'] == 2
    # keep_runs copies the logs of finished schedules only, never a checkpoint.
    run(8, [(2, 9.0), (4, 9.5)], ckpt=False)  # stopped halfway
    kept = keep_runs(str(tmp_path), str(tmp_path / 'kept'), ['net'])
    assert sorted(k.split('/')[1] for k in kept) == ['iters_2', 'iters_2']  # log and scores
    assert not any(k.endswith('.pth') for k in kept)


@pytest.mark.parametrize('task', ['synthetic-parts-256x256', 'coco-tiny-person-320x240'])
def test_same_schedule_data_and_optimiser_for_every_network(task):
    cfgs = [Config.fromfile(c) for c in
            sorted(glob.glob(osp.join(ROOT, f'configs/seg_baselines/*_{task}.py')))]
    assert len(cfgs) == 8
    for key in ('train_cfg', 'optim_wrapper', 'param_scheduler', 'train_dataloader',
                'test_dataloader'):
        assert all(c[key] == cfgs[0][key] for c in cfgs), key
    assert len({c.model.backbone.type for c in cfgs}) == 4  # HRNet, VGG16, ResNet, UNet


def test_coco_tiny_configs_read_the_shared_images(coco_tiny):
    from mmengine.registry import DATASETS
    cfg = Config.fromfile(osp.join(ROOT, 'configs/seg_baselines/'
                                         'segnet_vgg16-w16_coco-tiny-person-320x240.py'))
    init_default_scope('mmseg')
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset,
                                  ann_file=osp.join(coco_tiny, 'test_coco.json'),
                                  data_prefix=dict(img_path=coco_tiny)))
    assert len(dataset) == 4
    label = dataset[0]['data_samples'].gt_sem_seg.data
    assert max(label.shape[1:]) == 320 and (label == 1).any() and (label == 0).any()


def test_the_page_table_is_the_kept_table_of_the_kept_rows(tmp_path):
    """One number, one source: docs/seg_baselines.md quotes the table that compare_seg.py
    wrote from the runs kept in docs/runs/seg_compare, and that table is its rows."""
    import json

    from mmhrnet.analysis.seg_compare import PART_GROUPS, write_table
    from mmhrnet.synthetic.meta import PART_CLASSES
    kept = osp.join(ROOT, 'docs', 'runs', 'seg_compare', 'table')
    with open(osp.join(kept, 'seg_compare.md')) as f:
        table = f.read()
    with open(osp.join(kept, 'seg_compare.json')) as f:
        rows = json.load(f)
    assert len(rows) == 8
    assert write_table(rows, PART_CLASSES, str(tmp_path / 't.md'), list(PART_GROUPS)) == table
    with open(osp.join(ROOT, 'docs', 'seg_baselines.md')) as f:
        assert table in f.read()
