"""Pose (HRNetV1 on mmpose): configs, tools, COCO submission and bad input, on coco_tiny."""
import glob
import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope, init_default_scope

import mmhrnet  # noqa: F401
from mmhrnet.engine import retarget_dataset
from mmhrnet.utils.checkpoint import load_checkpoint_strict
from mmhrnet.evaluation import check_results, load_image_ids
from mmhrnet.models import HRNet

POSE_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/pose/*.py')))
# A small stand-in for the W32 recipe on the 4 coco_tiny images: same pipeline, codec, head,
# loss and metric, W18-small-v1 backbone, no ImageNet download.
TINY_CFG = '''
_base_ = '{root}/configs/pose/hrnet_w32_coco.py'
data = '{data}/'
model = dict(backbone=dict(arch='w18_small_v1', init_cfg=None))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data, ann_file='test_coco.json', data_prefix=dict(img=data)))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data, ann_file='test_coco.json', data_prefix=dict(img=data),
                 bbox_file=None))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data + 'test_coco.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=2, val_interval=2)
param_scheduler = [dict(type='ConstantLR', factor=1.0)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
'''


def run_tool(*args, timeout=900):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    return proc


def build_pose_model(cfg):
    init_default_scope('mmpose')
    from mmpose.registry import MODELS
    return MODELS.build(cfg.model)


def test_head_channels_come_from_the_backbone_and_a_mismatch_names_both():
    from mmhrnet.pose import TopdownPoseEstimator
    backbone = dict(type='mmhrnet.HRNet', arch='w18_small_v1', defaults='mmpose')
    head = dict(type='HeatmapHead', out_channels=17, deconv_out_channels=None)
    init_default_scope('mmpose')
    assert TopdownPoseEstimator(backbone=backbone, head=head).head.in_channels == 16
    with pytest.raises(ValueError, match=r'in_channels 32 do not match the out_channels '
                                         r'\(16,\) that HRNet declares'):
        TopdownPoseEstimator(backbone=backbone, head=dict(head, in_channels=32))


@pytest.mark.parametrize('path', POSE_CONFIGS, ids=osp.basename)
def test_pose_config_trains_one_step_on_real_data(path, coco_tiny):
    """Each config's own train pipeline, model and loss on a real person; backward reaches the
    backbone, and the head reads the backbone's declared channels."""
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    assert cfg.model.backbone.type == 'mmhrnet.HRNet' and cfg.default_scope == 'mmpose'
    model = build_pose_model(cfg)
    assert isinstance(model.backbone, HRNet)
    assert model.backbone.out_channels == (model.head.in_channels, )
    retarget_dataset(cfg.train_dataloader, osp.join(coco_tiny, 'test_coco.json'), coco_tiny)
    with DefaultScope.overwrite_default_scope('mmpose'):
        from mmpose.registry import DATASETS
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = model.data_preprocessor(pseudo_collate([dataset[0]]), training=True)
    h, w = cfg.codec.input_size[1], cfg.codec.input_size[0]
    assert batch['inputs'].shape == (1, 3, h, w)
    losses = model(**batch, mode='loss')
    assert torch.isfinite(losses['loss_kpt'])
    losses['loss_kpt'].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory, coco_tiny):
    """Two epochs of train.py, then a resume to a third: the checkpoints and the config."""
    work = tmp_path_factory.mktemp('pose_tiny')
    cfg = work / 'tiny.py'
    cfg.write_text(TINY_CFG.format(root=ROOT, data=coco_tiny))
    proc = run_tool('tools/train.py', cfg, '--work-dir', work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = run_tool('tools/train.py', cfg, '--work-dir', work, '--resume',
                    '--cfg-options', 'train_cfg.max_epochs=3')
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work, cfg, proc.stdout + proc.stderr


def test_train_resume_under_torch_weights_only(tiny_run):
    work, _, log = tiny_run
    assert 'resumed epoch: 2' in log, log[-3000:]
    assert (work / 'epoch_3.pth').exists()
    assert glob.glob(str(work / 'best_coco_AP_epoch_*.pth'))  # save_best='coco/AP'


def test_test_tool_with_detector_boxes_and_flip(tiny_run, coco_tiny):
    work, cfg, _ = tiny_run
    dets = osp.join(coco_tiny, 'test_coco_det_AP_H_56.json')
    proc = run_tool('tools/test.py', cfg, work / 'epoch_3.pth', '--work-dir', work / 'test',
                    '--cfg-options', f'test_dataloader.dataset.bbox_file={dets}')
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert 'Average Precision' in out and 'coco/AP:' in out
    assert 'flip_test' in Config.fromfile(str(cfg)).model.test_cfg


def test_submission_command(tiny_run, coco_tiny, tmp_path):
    work, cfg, _ = tiny_run
    info = osp.join(coco_tiny, 'test_coco.json')
    proc = run_tool('tools/submit_coco.py', cfg, work / 'epoch_3.pth', '--image-info', info,
                    '--img-dir', coco_tiny, '--bbox-file',
                    osp.join(coco_tiny, 'test_coco_det_AP_H_56.json'), '--name', 'tiny-w18',
                    '--out-dir', tmp_path, '--work-dir', work / 'submit')
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = tmp_path / 'person_keypoints_test-dev2017_tiny-w18_results.json'
    assert (tmp_path / (result.stem + '.zip')).exists()
    ids, _ = load_image_ids(info)
    summary = check_results(json.loads(result.read_text()), ids, 'keypoints')
    assert summary['images'] == 4 and summary['entries'] > 4
    proc = run_tool('tools/analysis/check_submission.py', result, '--image-info', info,
                    '--task', 'keypoints')
    assert proc.returncode == 0 and proc.stdout.startswith('OK')


def test_overfit_script_learns_coco_tiny(coco_tiny, tmp_path):
    """A short tools/misc/overfit_coco_tiny.py run (W18-small-v1 instead of W32, 60 epochs)
    fits the 12 real persons: ground-truth-box AP well above chance. The full W32 run (120
    epochs) reaches 0.97; this one reached 0.86-0.88 in two runs."""
    proc = run_tool('tools/misc/overfit_coco_tiny.py', '--epochs', 60, '--lr', 8e-3,
                    '--data', coco_tiny, '--work-dir', tmp_path, '--cfg-options',
                    'model.backbone.arch=w18_small_v1',
                    'randomness.seed=0')
    assert proc.returncode == 0, proc.stderr[-3000:]
    gt_ap, det_ap = map(float, re.search(
        r'AP ([0-9.]+) with ground-truth boxes, ([0-9.]+) with detector boxes',
        proc.stdout).groups())
    assert gt_ap >= 0.7 and det_ap > 0.3, proc.stdout[-2000:]


def test_checkpoint_with_other_keypoint_count_is_refused(tiny_run):
    work, cfg, _ = tiny_run
    cfg = Config.fromfile(str(cfg))
    cfg.model.head.out_channels = 16
    model = build_pose_model(cfg)
    ckpt = str(work / 'epoch_3.pth')
    with pytest.raises(RuntimeError, match=r'(?s)epoch_3\.pth.*head\.final_layer\.weight.*17, 16'):
        load_checkpoint_strict(model, ckpt)


@pytest.fixture
def dataset_kwargs(coco_tiny):
    return dict(ann_file=osp.join(coco_tiny, 'test_coco.json'), data_root='',
                data_prefix=dict(img=coco_tiny + '/'), pipeline=[], data_mode='topdown')


def test_persons_without_keypoints_skipped_in_training(dataset_kwargs):
    init_default_scope('mmpose')
    from mmhrnet.pose import TopdownCocoDataset
    anns = json.load(open(dataset_kwargs['ann_file']))['annotations']
    labelled = sum(a['num_keypoints'] > 0 for a in anns)
    assert 0 < labelled < len(anns)
    assert len(TopdownCocoDataset(**dataset_kwargs)) == labelled


def test_person_box_outside_the_image_skipped(dataset_kwargs, tmp_path):
    """mmpose clips boxes to the image and drops the empty ones; no degenerate crop reaches
    training."""
    init_default_scope('mmpose')
    from mmhrnet.pose import TopdownCocoDataset
    data = json.load(open(dataset_kwargs['ann_file']))
    widths = {im['id']: im['width'] for im in data['images']}
    labelled = [a for a in data['annotations'] if a['num_keypoints'] > 0]
    labelled[0]['bbox'] = [widths[labelled[0]['image_id']] + 5, 10, 40, 80]
    (tmp_path / 'ann.json').write_text(json.dumps(data))
    dataset = TopdownCocoDataset(**{**dataset_kwargs, 'ann_file': str(tmp_path / 'ann.json')})
    assert len(dataset) == len(labelled) - 1
    assert labelled[0]['id'] not in {d['id'] for d in dataset}


@pytest.mark.parametrize('break_it, error, match', [
    (lambda d, t: (t / 'a.json').write_text('{"images": [') and
     dict(ann_file=str(t / 'a.json')), ValueError, r'a\.json is not valid JSON'),
    (lambda d, t: dict(ann_file=str(t / 'missing.json')), FileNotFoundError, 'missing.json'),
    (lambda d, t: (t / 'inst.json').write_text(json.dumps(strip_keypoints(d['ann_file']))) and
     dict(ann_file=str(t / 'inst.json')), ValueError, r'inst\.json is not a COCO person_keypoints'),
    (lambda d, t: (t / 'dets.json').write_text(json.dumps(
        [dict(image_id=4242, category_id=1, bbox=[1, 1, 9, 9], score=0.9)])) and
     dict(bbox_file=str(t / 'dets.json'), test_mode=True), ValueError,
     r'dets\.json names 1 image id.*\[4242\]'),
])
def test_malformed_files_named(dataset_kwargs, tmp_path, break_it, error, match):
    init_default_scope('mmpose')
    from mmhrnet.pose import TopdownCocoDataset
    kwargs = {**dataset_kwargs, **break_it(dataset_kwargs, tmp_path)}
    with pytest.raises(error, match=match):
        TopdownCocoDataset(**kwargs)


def strip_keypoints(ann_file):
    data = json.load(open(ann_file))
    for ann in data['annotations']:
        del ann['keypoints']
    return data


@pytest.mark.parametrize('content', [None, b'not an image'])
def test_missing_or_corrupt_image_named(dataset_kwargs, tmp_path, content):
    init_default_scope('mmpose')
    from mmhrnet.pose import TopdownCocoDataset
    data = json.load(open(dataset_kwargs['ann_file']))
    for image in data['images']:
        image['file_name'] = 'broken.jpg'
    (tmp_path / 'ann.json').write_text(json.dumps(data))
    if content is not None:
        (tmp_path / 'broken.jpg').write_bytes(content)
    dataset = TopdownCocoDataset(**{**dataset_kwargs, 'ann_file': str(tmp_path / 'ann.json'),
                                    'data_prefix': dict(img=str(tmp_path) + '/'),
                                    'pipeline': [dict(type='LoadImage')]})
    with pytest.raises(Exception, match='broken.jpg'):
        dataset[0]


def test_amp_on_cpu_is_bf16_autocast():
    from mmengine.optim import build_optim_wrapper

    from mmhrnet.engine import enable_amp
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3))))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'mmhrnet.AutocastOptimWrapper'
    model = torch.nn.Module()
    model.backbone = HRNet(arch='w18_small_v1')
    model.head = torch.nn.Conv2d(16, 17, 1)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    inner = []
    model.backbone.stage2.register_forward_hook(lambda m, a, out: inner.append(out[0].dtype))
    with wrapper.optim_context(model):
        feats = model.backbone(torch.rand(1, 3, 64, 64))
        heatmaps = model.head(feats[0])
    assert inner == [torch.bfloat16]  # the backbone computes in bf16 ...
    assert feats[0].dtype == heatmaps.dtype == torch.float32  # ... the head in fp32
    assert 'forward' not in vars(model.backbone)  # and the model is left as it was
    wrapper.update_params(heatmaps.mean())
    assert np.isfinite(model.backbone.conv1.weight.detach().numpy()).all()


@pytest.mark.parametrize('amx', [True, False])
def test_amp_warns_without_amx(monkeypatch, amx):
    import warnings

    from mmhrnet.engine import precision as runner
    monkeypatch.setattr(runner, 'cpu_has_amx', lambda: amx)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        runner.enable_amp(cfg)
    slow = [w for w in caught if 'no faster than fp32' in str(w.message)]
    assert len(slow) == (0 if amx else 1)


def test_synthetic_people_config_end_to_end_with_amp(tmp_path):
    """The embedded default on a few freshly generated images: train one epoch under --amp
    (bf16 autocast on a CPU), validate with detector boxes, report COCO AP."""
    from mmhrnet.synthetic import generate_synthetic_people
    data = generate_synthetic_people(str(tmp_path / 'people'), num_train=16, num_val=6,
                                     size=(128, 128), seed=1)['out_dir'] + '/'
    config = glob.glob(osp.join(ROOT, 'configs/pose/*synthetic-people*.py'))[0]
    loader = dict(num_workers=0, persistent_workers=False)
    options = [f'train_dataloader.dataset.data_root={data}', 'train_dataloader.batch_size=8',
               f'val_dataloader.dataset.data_root={data}',
               f'val_dataloader.dataset.bbox_file={data}person_detection_results/'
               'detections_val.json',
               f'val_evaluator.ann_file={data}annotations/person_keypoints_val.json',
               'train_cfg.max_epochs=1', 'train_cfg.val_interval=1']
    options += [f'{loader_name}.{k}={v}' for loader_name in ('train_dataloader', 'val_dataloader')
                for k, v in loader.items()]
    proc = run_tool('tools/train.py', config, '--amp', '--work-dir', tmp_path / 'work',
                    '--cfg-options', *options)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert "type='mmhrnet.AutocastOptimWrapper'" in out  # the config the Runner logs
    assert re.search(r'coco/AP: [\d.]+', out)
    assert glob.glob(str(tmp_path / 'work' / 'best_coco_AP_epoch_1.pth'))
