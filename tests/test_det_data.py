"""Detection on data: synthetic people and coco_tiny end to end, test-dev submission, bad input.

Models here have random weights; ``score_thr=0`` keeps their (meaningless) detections so that
the whole test pipeline, CocoMetric and the submission format run on real outputs.
"""
import copy
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmhrnet  # noqa: F401
from mmhrnet.synthetic import generate_synthetic_people
from mmhrnet.engine import retarget_dataset
from mmhrnet.evaluation import check_results, load_image_ids

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DET = osp.join(ROOT, 'configs', 'det')
SYNTH_CONFIG = osp.join(DET, 'mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py')
MASK_W32 = osp.join(DET, 'mask_rcnn_hrnetv2p_w32_coco.py')


def light_test_cfg(cfg):
    """Random weights: keep every detection, but few, so the test stays fast."""
    cfg.model.test_cfg.rpn.update(nms_pre=200, max_per_img=50)
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=5)
    return cfg


def small_coco_cfg(data, ann, scale=(320, 200)):
    """The Mask R-CNN W32 COCO config on a COCO-format person set: its own pipelines and
    metric, a W18-Small-v1 backbone (the neck's channels follow it), one class, small scale."""
    cfg = Config.fromfile(MASK_W32)
    cfg.model.backbone.update(arch='w18_small_v1', init_cfg=None)
    cfg.model.roi_head.bbox_head.num_classes = 1
    cfg.model.roi_head.mask_head.num_classes = 1
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        retarget_dataset(loader, ann, data)
        loader.dataset.metainfo = dict(classes=('person', ))
        loader.update(num_workers=0, persistent_workers=False, batch_size=2)
        for t in loader.dataset.pipeline:
            if t['type'] == 'Resize':
                t['scale'] = scale
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = ann
    return light_test_cfg(cfg)


def run_test(cfg, work_dir):
    from mmengine.runner import Runner
    cfg.work_dir = str(work_dir)
    cfg.default_hooks.logger.interval = 1
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    return runner.test()


# ----------------------------------------------------------------------------- synthetic
@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp('det_synth') / 'synthetic_people'
    generate_synthetic_people(str(out), num_train=6, num_val=3, size=(128, 128), seed=5)
    return str(out)


def test_synthetic_config_trains_and_tests(synthetic, tmp_path):
    """The synthetic config as shipped (data root swapped): 1 epoch of 3 iterations, then its
    own test pipeline and CocoMetric, box and mask AP."""
    from mmengine.runner import Runner
    cfg = light_test_cfg(Config.fromfile(SYNTH_CONFIG))
    assert cfg.train_dataloader.dataset.ann_file == 'annotations/person_keypoints_train.json'
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = synthetic + '/'
        loader.update(num_workers=0, persistent_workers=False, batch_size=2)
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = osp.join(
        synthetic, 'annotations', 'person_keypoints_val.json')
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 3
    metrics = runner.test()
    for task in ('bbox', 'segm'):
        assert 0.0 <= metrics[f'coco/{task}_mAP'] <= 1.0
    assert osp.isfile(tmp_path / 'epoch_1.pth')


# ------------------------------------------------------------------------------ coco_tiny
def test_coco_tiny_test_pipeline_reports_bbox_and_segm_ap(coco_tiny, tmp_path):
    ann = osp.join(coco_tiny, 'test_coco.json')
    cfg = small_coco_cfg(coco_tiny, ann)
    metrics = run_test(cfg, tmp_path)
    for task in ('bbox', 'segm'):
        assert 0.0 <= metrics[f'coco/{task}_mAP'] <= 1.0
        assert f'coco/{task}_mAP_50' in metrics


def test_coco_tiny_train_step_on_real_persons(coco_tiny):
    """The W32 COCO train pipeline (1333x800 resize kept: real sizes) on one real image,
    with the W18-Small-v1 backbone: all losses finite, gradients reach the backbone."""
    from mmdet.registry import DATASETS, MODELS
    ann = osp.join(coco_tiny, 'test_coco.json')
    cfg = small_coco_cfg(coco_tiny, ann, scale=(400, 256))
    init_default_scope('mmdet')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 4
    sample = dataset[0]
    assert len(sample['data_samples'].gt_instances) > 0
    assert sample['data_samples'].gt_instances.masks.height == sample['inputs'].shape[1]
    model = MODELS.build(cfg.model).train()
    batch = model.data_preprocessor(pseudo_collate([sample]), True)
    losses = model(**batch, mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total) and 'loss_mask' in losses
    total.backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------------------ submission
def test_submit_coco_detection_end_to_end(coco_tiny, tmp_path):
    """tools/submit_coco.py on a Mask R-CNN config: bbox json + zip and segm/ json + zip,
    named for the server, format-checked, COCO category ids (person = 1)."""
    from mmdet.registry import MODELS
    ann = osp.join(coco_tiny, 'test_coco.json')
    cfg = small_coco_cfg(coco_tiny, ann)
    config = tmp_path / 'tiny_mask_rcnn.py'
    cfg.dump(str(config))
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    checkpoint = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    out = tmp_path / 'submission'
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'submit_coco.py'), str(config),
           str(checkpoint), '--image-info', ann, '--img-dir', coco_tiny, '--name', 'tiny',
           '--out-dir', str(out), '--work-dir', str(tmp_path / 'work')]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    image_ids, category_ids = load_image_ids(ann)
    name = 'detections_test-dev2017_tiny_results'
    for folder, task in ((out, 'bbox'), (out / 'segm', 'segm')):
        assert (folder / f'{name}.zip').is_file()
        results = json.loads((folder / f'{name}.json').read_text())
        summary = check_results(results, image_ids, task, category_ids=category_ids)
        assert summary['entries'] == len(results) > 0
        assert {r['category_id'] for r in results} == {1}
        assert f'{task}: {len(results)} results' in proc.stdout


def test_submit_coco_refuses_a_bad_name_before_testing(coco_tiny, tmp_path):
    ann = osp.join(coco_tiny, 'test_coco.json')
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'submit_coco.py'), MASK_W32,
           str(tmp_path / 'none.pth'), '--image-info', ann, '--img-dir', coco_tiny,
           '--name', 'bad name', '--out-dir', str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and 'bad name' in proc.stderr


def test_check_results_rejects_bad_detections(coco_tiny):
    image_ids, category_ids = load_image_ids(osp.join(coco_tiny, 'test_coco.json'))
    good = dict(image_id=785, category_id=1, bbox=[1.0, 2.0, 30.0, 40.0], score=0.9)
    assert check_results([good], image_ids, 'bbox', category_ids)['entries'] == 1
    from mmhrnet.evaluation import SubmissionFormatError
    for bad, match in ((dict(good, category_id=0), 'category_id 0'),  # a 0-based label
                       (dict(good, bbox=[1, 2, -3, 4]), 'negative width'),
                       (dict(good, image_id=1), 'not in the image info'),
                       (dict(good, score=float('nan')), 'score')):
        with pytest.raises(SubmissionFormatError, match=match):
            check_results([good, bad], image_ids, 'bbox', category_ids)


# ------------------------------------------------------------------------------- bad input
@pytest.fixture
def odd_coco(synthetic, tmp_path):
    """The synthetic train annotations with an image emptied, a zero-width box and a crowd
    region."""
    src = json.load(open(osp.join(synthetic, 'annotations', 'person_keypoints_train.json')))
    anns = src['annotations']
    empty_image = src['images'][0]['id']
    anns = [a for a in anns if a['image_id'] != empty_image]
    anns[0]['bbox'][2] = 0.0  # degenerate: zero width
    anns[1]['iscrowd'] = 1
    src['annotations'] = anns
    path = tmp_path / 'odd.json'
    path.write_text(json.dumps(src))
    return dict(ann=str(path), img_dir=osp.join(synthetic, 'train'), json=src,
                empty_image=empty_image, zero_width=anns[0]['id'], crowd=anns[1]['id'])


def test_empty_degenerate_and_crowd_annotations_as_mmdet_handles_them(odd_coco):
    from mmdet.registry import DATASETS, MODELS
    cfg = small_coco_cfg(odd_coco['img_dir'], odd_coco['ann'], scale=(128, 128))
    init_default_scope('mmdet')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]  # data_list is serialised
    ids = [info['img_id'] for info in infos]
    assert odd_coco['empty_image'] not in ids  # filter_empty_gt drops it from training
    assert len(ids) == len(odd_coco['json']['images']) - 1
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    assert odd_coco['empty_image'] in [  # tested all the same
        test_set.get_data_info(i)['img_id'] for i in range(len(test_set))]
    instances = {a['image_id']: [] for a in odd_coco['json']['annotations']}
    for a in odd_coco['json']['annotations']:
        instances[a['image_id']].append(a)
    zero = next(a for a in odd_coco['json']['annotations'] if a['id'] == odd_coco['zero_width'])
    info = next(i for i in infos if i['img_id'] == zero['image_id'])
    assert len(info['instances']) == len(instances[zero['image_id']]) - 1  # box dropped
    crowd = next(a for a in odd_coco['json']['annotations'] if a['id'] == odd_coco['crowd'])
    index = next(k for k, i in enumerate(infos) if i['img_id'] == crowd['image_id'])
    flags = [inst['ignore_flag'] for inst in infos[index]['instances']]
    assert sum(flags) == 1  # the crowd region is ignored, not learned as a person
    model = MODELS.build(cfg.model).train()
    batch = model.data_preprocessor(pseudo_collate([dataset[index]]), True)
    total, _ = model.parse_losses(model(**batch, mode='loss'))
    assert torch.isfinite(total)


def test_missing_files_are_named(odd_coco, tmp_path):
    from mmdet.registry import DATASETS
    cfg = small_coco_cfg(odd_coco['img_dir'], odd_coco['ann'])
    init_default_scope('mmdet')
    missing_ann = copy.deepcopy(cfg.train_dataloader.dataset)
    missing_ann.ann_file = str(tmp_path / 'nope.json')
    with pytest.raises(FileNotFoundError, match='nope.json'):
        DATASETS.build(missing_ann)
    images = copy.deepcopy(cfg.train_dataloader.dataset)
    images.data_prefix = dict(img=str(tmp_path / 'no_images') + '/')
    dataset = DATASETS.build(images)
    with pytest.raises(FileNotFoundError, match='no_images'):
        dataset[0]
