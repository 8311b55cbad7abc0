"""Every metric path scores the ground truth as perfect.

Each test feeds a dataset's own annotations as the predictions through the evaluator of a
shipped config, the way the test loop does (the test pipeline's packed samples, the
config's evaluator, ``evaluate(len(dataset))``), and asserts AP 1.0 / mIoU 100. A path that
drops, merges or mislabels persons, images or classes fails here before any model is trained.
"""
import copy
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import DATASETS, init_default_scope
from mmengine.structures import InstanceData, PixelData

import mmhrnet  # noqa: F401
from mmdet.datasets.api_wrappers import COCO
from mmhrnet.synthetic import generate_synthetic_people
from test_multitask import CONFIG as MT_CFG
from test_multitask import CONFIGS, DET_CFG, POSE_CFG, SEG_CFG, SIZE

COCO_POSE_CFG = osp.join(CONFIGS, 'pose/hrnet_w32_coco.py')
PERFECT = 1.0 - 1e-6


@pytest.fixture(scope='module')
def people(tmp_path_factory):
    """Synthetic people with several persons an image (the case a per-image id breaks)."""
    out = tmp_path_factory.mktemp('oracle_people')
    root = generate_synthetic_people(str(out), num_train=2, num_val=8, size=(SIZE, SIZE),
                                     seed=5)['out_dir'] + '/'
    return root


def gt_detections(ann_file, out_file):
    """A detection file of the ground-truth person boxes, score 1 (a perfect detector)."""
    with open(ann_file) as f:
        coco = json.load(f)
    dets = [dict(image_id=a['image_id'], category_id=1, bbox=a['bbox'], score=1.0)
            for a in coco['annotations'] if not a.get('iscrowd', 0)]
    with open(out_file, 'w') as f:
        json.dump(dets, f)
    return coco


def person_of(anns, img_id, box_xyxy):
    """The annotation of image ``img_id`` whose box is ``box_xyxy`` (the one a given box of
    :func:`gt_detections` came from)."""
    mine = [a for a in anns if a['image_id'] == img_id]
    gaps = [np.abs(np.asarray(xyxy(a['bbox'])) - np.asarray(box_xyxy)).max() for a in mine]
    assert mine and min(gaps) < 0.1, f'no annotation of image {img_id} has the box {box_xyxy}'
    return mine[int(np.argmin(gaps))]


def oracle_keypoints(ann, box_xyxy):
    """The annotation's keypoints ``(K, 2)`` and scores ``(K,)``; unlabelled keypoints go to
    the box centre (a prediction there is harmless, one at (0, 0) is not for a person with
    no labelled keypoint, whom COCO ignores only if the prediction lands near its box)."""
    kpts = np.asarray(ann['keypoints'], np.float32).reshape(-1, 3)
    xy = kpts[:, :2].copy()
    centre = (np.asarray(box_xyxy[:2]) + np.asarray(box_xyxy[2:])) / 2
    xy[kpts[:, 2] == 0] = centre
    return xy, np.ones(len(kpts), np.float32)


def xyxy(bbox):
    x, y, w, h = bbox
    return [x, y, x + w, y + h]


def run_evaluator(evaluator_cfg, dataset, samples):
    evaluator = Evaluator(copy.deepcopy(evaluator_cfg))
    evaluator.dataset_meta = dataset.metainfo
    for sample in samples:
        evaluator.process(data_samples=[sample], data_batch=None)
    return evaluator.evaluate(len(dataset))


def build_dataset(loader_cfg, scope, **changes):
    init_default_scope(scope)
    cfg = copy.deepcopy(loader_cfg.dataset)
    cfg.update(changes)
    return DATASETS.build(cfg)


# ---------------------------------------------------------------- top-down pose (mmpose)

def topdown_oracle(cfg, dataset, coco):
    """Each packed top-down sample (one given box) gets the keypoints of its person."""
    samples = []
    for i in range(len(dataset)):
        packed = dataset[i]['data_samples']
        box = packed.gt_instances.bboxes[0]
        xy, scores = oracle_keypoints(person_of(coco['annotations'], packed.img_id, box), box)
        packed.pred_instances = InstanceData(keypoints=xy[None], keypoint_scores=scores[None])
        samples.append(packed)
    return samples


@pytest.mark.parametrize('config', ['synthetic', 'coco'])
def test_topdown_pose_given_boxes_scores_ground_truth_perfect(config, people, coco_tiny,
                                                             tmp_path):
    if config == 'synthetic':
        cfg = Config.fromfile(POSE_CFG)
        root, ann_file = people, 'annotations/person_keypoints_val.json'
        img = dict(img='val/')
    else:
        cfg = Config.fromfile(COCO_POSE_CFG)
        root, ann_file, img = coco_tiny + '/', 'test_coco.json', dict(img='')
    bbox_file = str(tmp_path / 'dets.json')
    coco = gt_detections(root + ann_file, bbox_file)
    dataset = build_dataset(cfg.test_dataloader, 'mmpose', data_root=root, ann_file=ann_file,
                            data_prefix=img, bbox_file=bbox_file)
    assert len(dataset) == sum(1 for a in coco['annotations'] if not a.get('iscrowd', 0))
    evaluator = dict(cfg.test_evaluator, ann_file=root + ann_file)
    metrics = run_evaluator(evaluator, dataset, topdown_oracle(cfg, dataset, coco))
    assert metrics['coco/AP'] > PERFECT, metrics


# ---------------------------------------------------------------- multi-task

def people_oracle(dataset, ann_file, given):
    """Packed multi-task samples with the image's own persons as detections (boxes, masks,
    keypoints, score 1), the label map as the parsing, and, with ``given``, keypoints on the
    given boxes of the dataset's ``bbox_file``."""
    coco = COCO(ann_file)
    samples = []
    for i in range(len(dataset)):
        packed = dataset[i]['data_samples']
        info = dataset.get_data_info(i)
        h, w = info['height'], info['width']
        anns = [coco.anns[a] for a in coco.getAnnIds(imgIds=[info['img_id']])]
        boxes = np.asarray([xyxy(a['bbox']) for a in anns], np.float32).reshape(-1, 4)
        masks = np.stack([coco.annToMask(a).astype(bool) for a in anns]) if anns else \
            np.zeros((0, h, w), bool)
        kpts = [oracle_keypoints(a, b) for a, b in zip(anns, boxes)]
        pred = InstanceData(
            bboxes=torch.from_numpy(boxes), scores=torch.ones(len(anns)),
            labels=torch.zeros(len(anns), dtype=torch.long), masks=torch.from_numpy(masks),
            keypoints=torch.from_numpy(np.stack([k for k, _ in kpts]).reshape(-1, 17, 2)),
            keypoint_scores=torch.ones(len(anns), 17), bbox_scores=torch.ones(len(anns)))
        packed.pred_instances = pred
        packed.pred_sem_seg = PixelData(sem_seg=packed.gt_sem_seg.sem_seg.clone())
        if given:
            boxes = packed.given_instances.bboxes.numpy()
            found = [person_of(anns, info['img_id'], b) for b in boxes]
            kpts = [oracle_keypoints(a, b) for a, b in zip(found, boxes)]
            n = len(boxes)
            packed.pred_pose_instances = InstanceData(
                bboxes=torch.from_numpy(boxes), scores=torch.ones(n),
                keypoints=torch.from_numpy(np.stack([k for k, _ in kpts]).reshape(n, 17, 2)),
                keypoint_scores=torch.ones(n, 17), bbox_scores=torch.ones(n))
        samples.append(packed)
    return samples


@pytest.mark.parametrize('given', [False, True], ids=['own_detections', 'given_boxes'])
def test_multitask_scores_ground_truth_perfect(given, people, tmp_path):
    cfg = Config.fromfile(MT_CFG)
    ann = people + 'annotations/person_keypoints_val.json'
    extra = {}
    if given:
        extra['bbox_file'] = str(tmp_path / 'dets.json')
        gt_detections(ann, extra['bbox_file'])
    dataset = build_dataset(cfg.test_dataloader, 'mmdet', data_root=people, **extra)
    persons = [len(dataset.get_data_info(i)['instances']) for i in range(len(dataset))]
    assert max(persons) >= 2, 'the oracle needs images with several persons'
    evaluator = dict(cfg.test_evaluator, ann_file=ann)
    metrics = run_evaluator(evaluator, dataset, people_oracle(dataset, ann, given))
    assert metrics['pose/AP'] > PERFECT, metrics
    assert metrics['det/bbox_mAP'] > PERFECT and metrics['det/segm_mAP'] > PERFECT, metrics
    assert metrics['parse/mIoU'] == pytest.approx(100.0), metrics


def test_multitask_pose_metric_keeps_every_person(people):
    """Dropping one labelled person from the oracle lowers AP: the metric sees each person."""
    cfg = Config.fromfile(MT_CFG)
    ann = people + 'annotations/person_keypoints_val.json'
    dataset = build_dataset(cfg.test_dataloader, 'mmdet', data_root=people)
    samples = people_oracle(dataset, ann, given=False)
    crowded = max(samples, key=lambda s: len(s.pred_instances))
    assert len(crowded.pred_instances) >= 2
    crowded.pred_instances = crowded.pred_instances[:-1]
    metrics = run_evaluator(dict(cfg.test_evaluator, ann_file=ann), dataset, samples)
    assert metrics['pose/AP'] < PERFECT, metrics


# ---------------------------------------------------------------- single-task det and seg

def test_det_config_scores_ground_truth_perfect(people):
    cfg = Config.fromfile(DET_CFG)
    ann = people + 'annotations/person_keypoints_val.json'
    dataset = build_dataset(cfg.test_dataloader, 'mmdet', data_root=people)
    coco = COCO(ann)
    samples = []
    for i in range(len(dataset)):
        packed = dataset[i]['data_samples']
        anns = [coco.anns[a] for a in coco.getAnnIds(imgIds=[packed.img_id])]
        packed.pred_instances = InstanceData(
            bboxes=torch.tensor([xyxy(a['bbox']) for a in anns]).reshape(-1, 4),
            scores=torch.ones(len(anns)), labels=torch.zeros(len(anns), dtype=torch.long),
            masks=torch.from_numpy(np.stack([coco.annToMask(a).astype(bool) for a in anns])))
        samples.append(packed)
    metrics = run_evaluator(dict(cfg.test_evaluator, ann_file=ann), dataset, samples)
    assert metrics['coco/bbox_mAP'] > PERFECT and metrics['coco/segm_mAP'] > PERFECT, metrics


def test_seg_config_scores_ground_truth_perfect(people):
    cfg = Config.fromfile(SEG_CFG)
    dataset = build_dataset(cfg.test_dataloader, 'mmseg', data_root=people)
    samples = []
    for i in range(len(dataset)):
        packed = dataset[i]['data_samples']
        packed.pred_sem_seg = PixelData(data=packed.gt_sem_seg.data.clone())
        samples.append(packed)
    metrics = run_evaluator(cfg.test_evaluator, dataset, samples)
    assert metrics['mIoU'] == pytest.approx(100.0), metrics
