"""HRNetV2 segmentation: head equal to mmseg's fcn_hr*, official weights, configs, TTA, data."""
import copy
import glob
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.structures import SegDataSample

import mmhrnet  # noqa: F401 (mmhrnet:: configs)
from mmhrnet.synthetic import PART_FLIP_PAIRS, generate_synthetic_people
from mmhrnet.convert import convert_official_seg
from mmhrnet.seg import (CocoPersonSegDataset, LoadSegAnnotations, SwapLabelsSegTTAModel,
                         SyntheticPartsDataset, SyntheticPersonSegDataset, rasterize_person_masks)
from mmhrnet.utils.fidelity import max_rel_diff, randomize

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEG_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/seg/*.py')))
BN = dict(type='BN', requires_grad=True)


def build(cfg_model):
    init_default_scope('mmseg')
    return MMSEG_MODELS.build(copy.deepcopy(cfg_model))


def our_model(arch, num_classes=19, auxiliary=None, **head):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/seg/hrnetv2_w48_cityscapes.py'))
    cfg.model.backbone.update(arch=arch, init_cfg=None, norm_cfg=BN)
    if auxiliary:
        cfg.model.auxiliary_head = auxiliary
    cfg.model.decode_head.update(num_classes=num_classes, norm_cfg=BN, **head)
    return build(cfg.model)


def mmseg_fcn_hr(width):
    """mmseg's own fcn_hr18 / fcn_hr48 model (HRNet + FCNHead, resize_concat), BN for SyncBN."""
    import mmseg
    cfg = Config.fromfile(osp.join(osp.dirname(mmseg.__file__),
                                   '.mim/configs/_base_/models/fcn_hr18.py'))
    channels = [width * 2**i for i in range(4)]
    for stage, n in (('stage2', 2), ('stage3', 3), ('stage4', 4)):
        cfg.model.backbone.extra[stage].num_channels = tuple(channels[:n])
    cfg.model.backbone.norm_cfg = cfg.model.decode_head.norm_cfg = BN
    cfg.model.decode_head.update(in_channels=channels, channels=sum(channels))
    cfg.model.pretrained = None
    return build(cfg.model)


@pytest.mark.parametrize('width,size', [(18, (100, 76)), (48, (64, 96))])
def test_equal_to_mmseg_fcn_hr(width, size):
    """Same weights, strict both ways, logits equal to 1e-5 (sides not multiples of 32 too)."""
    ref, ours = mmseg_fcn_hr(width), our_model(f'w{width}')
    assert ours.decode_head.channels == 15 * width
    ours.load_state_dict(randomize(ref, seed=width), strict=True)
    ref.load_state_dict(ours.state_dict(), strict=True)
    ref.eval(), ours.eval()
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = ref(x, mode='tensor'), ours(x, mode='tensor')
    assert a.shape == b.shape == (2, 19, (size[0] + 3) // 4, (size[1] + 3) // 4)
    assert max_rel_diff(a, b) < 1e-5


def test_head_reads_backbone_channels_and_names_a_mismatch():
    model = our_model('w18_small_v1', num_classes=3)
    assert model.decode_head.branch_channels == model.backbone.out_channels == (16, 32, 64, 128)
    assert model.decode_head.channels == 240
    with pytest.raises(ValueError, match=r'in_channels \(18, 36, 72, 144\).*\(32, 64, 128, 256\)'):
        our_model('w32', in_channels=[18, 36, 72, 144])
    head = our_model('w18').decode_head  # and at run time, fed by another backbone
    feats = [torch.zeros(1, c, 8, 8) for c in (32, 64, 128, 256)]
    with pytest.raises(ValueError, match=r'\(18, 36, 72, 144\).*\(32, 64, 128, 256\)'):
        head(feats)


def test_auxiliary_mmseg_head_checked_too():
    aux = dict(type='FCNHead', in_index=2, channels=16, num_convs=1, concat_input=False,
               num_classes=3, norm_cfg=BN)
    model = our_model('w18_small_v1', num_classes=3, auxiliary=dict(aux, in_channels=None))
    assert model.auxiliary_head.in_channels == 64
    with pytest.raises(ValueError, match=r'FCNHead in_channels 72 .*\(16, 32, 64, 128\)'):
        our_model('w18_small_v1', num_classes=3, auxiliary=dict(aux, in_channels=72))


def official_reference(width, num_classes, align_corners=False):
    """The official HRNetV2 segmentation model (backbone + ``last_layer``) in a few lines:
    keys as in HRNet-Semantic-Segmentation, bias on ``last_layer.0``."""
    from mmhrnet.models import HRNet

    class Official(nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = HRNet(arch=f'w{width}', upsample_mode='bilinear',
                                  align_corners=align_corners)
            c = 15 * width
            self.last_layer = nn.Sequential(
                nn.Conv2d(c, c, 1), nn.BatchNorm2d(c), nn.ReLU(inplace=False),
                nn.Conv2d(c, num_classes, 1))

        def forward(self, x):
            y = self.backbone(x)
            size = y[0].shape[2:]
            y = [y[0]] + [F.interpolate(t, size=size, mode='bilinear',
                                        align_corners=align_corners) for t in y[1:]]
            return self.last_layer(torch.cat(y, 1))

    ref = Official()
    state = randomize(ref, seed=7)
    official = {('model.' + k[len('backbone.'):] if k.startswith('backbone.') else 'model.' + k):
                v for k, v in state.items()}
    official['loss.criterion.weight'] = torch.ones(num_classes)  # as its FullModel saves
    return ref, {'state_dict': official}


@pytest.mark.parametrize('fold_bias', [True, False])
def test_official_checkpoint_loads(fold_bias):
    ref, official = official_reference(18, 5)
    assert 'model.last_layer.0.bias' in official['state_dict']
    ours = our_model('w18', num_classes=5, conv_bias=not fold_bias)
    ours.load_state_dict(convert_official_seg(official, fold_bias=fold_bias), strict=True)
    x = torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(2))
    for train in (False, True):  # folding is exact with running and with batch statistics
        ref.train(train), ours.train(train)
        with torch.no_grad():
            a, b = ref(x), ours(x, mode='tensor')
        assert max_rel_diff(a, b) < 1e-5, (train, max_rel_diff(a, b))


def test_convert_tool(tmp_path):
    _, official = official_reference(18, 5)
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save(official, src)
    proc = run_tool('tools/misc/convert_weights.py', src, dst, '--from', 'official-seg')
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = our_model('w18', num_classes=5)
    ours.load_state_dict(torch.load(dst, weights_only=True)['state_dict'], strict=True)


def test_retarget_dataset_sets_mmsegs_img_path(coco_tiny):
    from mmhrnet.engine import retarget_dataset
    cfg = Config.fromfile(osp.join(ROOT, 'configs/seg/hrnetv2_w18-small_coco-person-512x512.py'))
    retarget_dataset(cfg.train_dataloader, osp.join(coco_tiny, 'test_coco.json'), coco_tiny)
    dataset = cfg.train_dataloader.dataset
    assert dataset.data_prefix['img_path'] == osp.abspath(coco_tiny) + '/'
    assert 'img' not in dataset.data_prefix and dataset.data_root == ''


def test_converter_refuses_other_layouts():
    ours = our_model('w18_small_v1', num_classes=3)
    with pytest.raises(KeyError, match='last_layer'):
        convert_official_seg({'backbone.' + k: v for k, v in ours.state_dict().items()})


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=osp.basename)
def test_config_builds_and_trains_one_step(path):
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'mmhrnet.CheckedEncoderDecoder'
    assert cfg.model.decode_head.type == 'mmhrnet.HRNetV2Head'
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator', 'optim_wrapper',
                'tta_model', 'tta_pipeline'):
        assert key in cfg, key
    cfg.model.backbone.init_cfg = None
    if cfg.model.backbone.norm_cfg['type'] == 'SyncBN':
        cfg.model.backbone.norm_cfg = cfg.model.decode_head.norm_cfg = BN
    cfg.model.data_preprocessor.size = None  # reduced size
    model = build(cfg.model)
    model.train()
    num_classes = cfg.model.decode_head.num_classes
    samples = []
    for i in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64),
                                        ori_shape=(64, 64)))
        label = torch.randint(0, num_classes, (1, 64, 64), generator=torch.Generator()
                              .manual_seed(i))
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_whole_and_sliding_window_inference():
    model = our_model('w18_small_v1', num_classes=4).eval()
    x = torch.randn(1, 3, 96, 128)
    meta = [dict(img_shape=(96, 128), ori_shape=(96, 128), pad_shape=(96, 128))]
    with torch.no_grad():
        whole = model.inference(x, meta)
        model.test_cfg = ConfigDict(mode='slide', crop_size=(96, 128), stride=(64, 64))
        one_window = model.inference(x, meta)
        model.test_cfg = ConfigDict(mode='slide', crop_size=(64, 64), stride=(32, 32))
        windows = model.inference(x, meta)
    assert whole.shape == windows.shape == (1, 4, 96, 128)
    assert max_rel_diff(whole, one_window) < 1e-6  # a window covering the image is whole
    assert max_rel_diff(whole, windows) > 1e-4  # smaller windows see less context


def test_flip_tta_swaps_left_right_classes():
    """A flipped view that calls a region 'right arm' votes for 'left arm' after flipping
    back; mmseg's SegTTAModel would count it for the right arm."""
    module = our_model('w18_small_v1', num_classes=11).eval()
    tta = SwapLabelsSegTTAModel(module=module, swap_seg_labels=PART_FLIP_PAIRS)

    def sample(flip, favoured):
        logits = torch.zeros(11, 4, 4)
        logits[favoured] = 5
        s = SegDataSample(metainfo=dict(flip=flip, flip_direction='horizontal' if flip else None,
                                        img_path='x.jpg'))
        s.seg_logits = PixelData(data=logits)
        return s

    merged = tta.merge_preds([[sample(False, 3), sample(True, 4), sample(True, 4)]])
    assert (merged[0].pred_sem_seg.data == 3).all()
    merged = tta.merge_preds([[sample(False, 2), sample(True, 2)]])  # torso has no side
    assert (merged[0].pred_sem_seg.data == 2).all()


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp('seg') / 'people'
    return generate_synthetic_people(str(out), num_train=8, num_val=4, size=(96, 128),
                                     seed=5)['out_dir']


def test_synthetic_datasets(synthetic):
    kw = dict(data_root=synthetic, data_prefix=dict(img_path='val', seg_map_path='parts/val'))
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='mmhrnet.LoadSegAnnotations', num_classes=11)]
    parts = SyntheticPartsDataset(pipeline=pipeline, **kw)
    person = SyntheticPersonSegDataset(
        pipeline=[pipeline[0], dict(pipeline[1], num_classes=2)], **kw)
    assert len(parts) == len(person) == 4
    assert parts.metainfo['classes'][3:5] == ('left_upper_arm', 'right_upper_arm')
    a, b = parts[0]['gt_seg_map'], person[0]['gt_seg_map']
    assert a.shape == (96, 128) and set(np.unique(a)) - {0} and a.max() <= 10
    np.testing.assert_array_equal(b, (a > 0).astype(np.uint8))


def test_part_flip_swaps_left_and_right(synthetic):
    """The parsing config's flip mirrors the map and swaps each left/right pair."""
    from mmseg.registry import TRANSFORMS
    cfg = Config.fromfile(osp.join(ROOT, 'configs/seg/hrnetv2_w18-small_synthetic-parts-'
                                   '256x256.py'))
    flip_cfg = next(t for t in cfg.train_pipeline if t['type'] == 'RandomFlip')
    assert sorted(map(tuple, flip_cfg['swap_seg_labels'])) == sorted(PART_FLIP_PAIRS)
    init_default_scope('mmseg')
    flip = TRANSFORMS.build(dict(flip_cfg, prob=1.0))
    seg = cv2.imread(sorted(glob.glob(osp.join(synthetic, 'parts/val/*.png')))[0], 0)
    out = flip(dict(img=np.zeros((*seg.shape, 3), np.uint8), gt_seg_map=seg.copy(),
                    seg_fields=['gt_seg_map']))['gt_seg_map']
    expected = seg[:, ::-1].copy()
    for a, b in PART_FLIP_PAIRS:
        expected[seg[:, ::-1] == a], expected[seg[:, ::-1] == b] = b, a
    np.testing.assert_array_equal(out, expected)
    assert set(np.unique(seg)) & {a for pair in PART_FLIP_PAIRS for a in pair}


def run_tool(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_synthetic_parts_config_end_to_end(synthetic, tmp_path):
    """Train two iterations of the embedded parsing config, then test it with flip +
    multi-scale TTA: IoUMetric reports mIoU over the 11 classes."""
    config = osp.join(ROOT, 'configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py')
    loader = ['num_workers=0', 'persistent_workers=False']
    options = [f'train_dataloader.dataset.data_root={synthetic}', 'train_dataloader.batch_size=4',
               f'val_dataloader.dataset.data_root={synthetic}', 'train_cfg.max_iters=2',
               'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2']
    options += [f'{n}.{o}' for n in ('train_dataloader', 'val_dataloader') for o in loader]
    work = tmp_path / 'work'
    proc = run_tool('tools/train.py', config, '--work-dir', work, '--cfg-options', *options)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r'mIoU: [\d.]+', proc.stdout + proc.stderr)
    ckpt = glob.glob(str(work / 'best_mIoU_iter_2.pth'))
    assert ckpt
    proc = run_tool('tools/test.py', config, ckpt[0], '--tta', '--work-dir', tmp_path / 'test',
                    '--cfg-options', f'test_dataloader.dataset.data_root={synthetic}',
                    *[f'test_dataloader.{o}' for o in loader])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert 'SwapLabelsSegTTAModel' in out
    assert re.search(r'\| +left_upper_arm +\|', out) and re.search(r'mIoU: [\d.]+', out)


def test_coco_person_maps_and_metric(coco_tiny):
    """Person masks rasterise to the union of pycocotools' decoded masks; the test pipeline
    runs end to end; IoUMetric gives 100 for the ground truth itself."""
    from mmengine.registry import init_default_scope
    from mmseg.evaluation import IoUMetric
    from xtcocotools.coco import COCO
    init_default_scope('mmseg')  # the pipeline names mmseg's transforms without a prefix
    ann = osp.join(coco_tiny, 'test_coco.json')
    pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(320, 240),
                                                     keep_ratio=True),
                dict(type='mmhrnet.LoadCocoPersonSeg'), dict(type='PackSegInputs')]
    ds = CocoPersonSegDataset(ann_file=ann, data_prefix=dict(img_path=coco_tiny),
                              pipeline=pipeline, test_mode=True)
    coco = COCO(ann)
    assert len(ds) == len(coco.getImgIds()) == 4
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = ds.metainfo
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        union = np.zeros((info['ori_height'], info['ori_width']), bool)
        for a in coco.loadAnns(coco.getAnnIds(imgIds=info['img_id'])):
            union |= coco.annToMask(a) > 0
        item = ds[i]
        gt = item['data_samples'].gt_sem_seg.data[0].numpy()
        assert gt.shape == union.shape  # labels stay at the original size
        assert item['inputs'].shape[1:] != gt.shape  # the image was resized
        np.testing.assert_array_equal(gt == 1, union)
        sample = item['data_samples']
        sample.pred_sem_seg = PixelData(data=sample.gt_sem_seg.data.clone())
        metric.process([], [sample.to_dict()])
    assert metric.compute_metrics(metric.results)['mIoU'] == pytest.approx(100)


def test_coco_tiny_test_pipeline_end_to_end(coco_tiny, tmp_path):
    """tools/test.py on the 4 real images (randomly initialised model: the number is only
    required to exist; tools/misc/overfit_coco_tiny_seg.py trains one)."""
    config = osp.join(ROOT, 'configs/seg/hrnetv2_w18-small_coco-person-512x512.py')
    model = our_model('w18_small_v1', num_classes=2)  # the smallest, for time
    ckpt = tmp_path / 'random.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    proc = run_tool('tools/test.py', config, ckpt, '--work-dir', tmp_path / 'w',
                    '--cfg-options', 'model.backbone.arch=w18_small_v1',
                    'test_dataloader.dataset.data_root=',
                    f'test_dataloader.dataset.ann_file={coco_tiny}/test_coco.json',
                    f'test_dataloader.dataset.data_prefix.img_path={coco_tiny}',
                    'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r'\| +person +\|', proc.stdout + proc.stderr)


def write_pair(folder, name, img_shape, seg):
    cv2.imwrite(str(folder / 'img' / f'{name}.jpg'), np.zeros((*img_shape, 3), np.uint8))
    if seg is not None:
        cv2.imwrite(str(folder / 'ann' / f'{name}.png'), seg)


@pytest.mark.parametrize('case,error,match', [
    ('size', ValueError, r'label map .*bad\.png is 40x50 \(HxW\) but its image .* is 32x48'),
    ('values', ValueError, r'label map .*bad\.png has values \[11, 40\] outside the classes '
     r'0\.\.10 \(ignore index 255\)'),
    ('missing', FileNotFoundError, r'label map not found: .*bad\.png'),
])
def test_bad_label_maps_named(tmp_path, case, error, match):
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    seg = np.zeros((32, 48), np.uint8)
    seg[0, :3] = (1, 10, 255)  # valid, the last class and ignore
    write_pair(tmp_path, 'good', (32, 48), seg)
    bad = {'size': np.zeros((40, 50), np.uint8), 'values': seg.copy(), 'missing': None}[case]
    if case == 'values':
        bad[1, :2] = (11, 40)
    write_pair(tmp_path, 'bad', (32, 48), bad)
    load = LoadSegAnnotations(num_classes=11)
    from mmcv.transforms import LoadImageFromFile

    def run(name):
        r = dict(img_path=str(tmp_path / 'img' / f'{name}.jpg'),
                 seg_map_path=str(tmp_path / 'ann' / f'{name}.png'), seg_fields=[],
                 reduce_zero_label=False, label_map=None)
        return load(LoadImageFromFile()(r))

    assert run('good')['gt_seg_map'][0, :3].tolist() == [1, 10, 255]
    with pytest.raises(error, match=match):
        run('bad')


def test_synthetic_dataset_names_missing_label_map(synthetic, tmp_path):
    import shutil
    root = tmp_path / 'copy'
    shutil.copytree(synthetic, root)
    victim = sorted(glob.glob(str(root / 'parts/val/*.png')))[1]
    osp.exists(victim) and __import__('os').remove(victim)
    with pytest.raises(FileNotFoundError, match=re.escape(victim)):
        SyntheticPartsDataset(data_root=str(root),
                              data_prefix=dict(img_path='val', seg_map_path='parts/val'))


def test_crowd_regions_ignored():
    square = [[2, 2, 8, 2, 8, 8, 2, 8]]
    crowd = {'size': [12, 12], 'counts': [0, 144]}  # uncompressed RLE over the whole image
    seg = rasterize_person_masks([dict(segmentation=square, iscrowd=0),
                                  dict(segmentation=crowd, iscrowd=1)], 12, 12)
    assert seg[5, 5] == 1 and seg[0, 0] == 255 and set(np.unique(seg)) == {1, 255}
