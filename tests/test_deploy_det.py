"""The two-stage detector and the one-pass multi-task model exported in graphs (image graph
with the RPN convolutions, box / mask / keypoint head graphs, mmdet's RoIAlign and NMS in torch
between them): the same boxes, masks, keypoints and parts as torch, on both backends."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import ROOT
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmhrnet.deploy import det, export_model, load_backend_model, read_meta
from mmhrnet.deploy.task import build_model, load_config
from mmhrnet.synthetic import generate_synthetic_people

DET_CFG = osp.join(ROOT, 'configs/det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-'
                   '128.py')
MT_CFG = osp.join(ROOT, 'configs/multitask/hrnet-w18-small-v1_1xb8-6e_synthetic-people-256.py')
QUIET = dict(logger=lambda *a: None)


@pytest.fixture(scope='module')
def people(tmp_path_factory):
    out = tmp_path_factory.mktemp('people')
    return generate_synthetic_people(str(out), num_train=4, num_val=3, size=(256, 256),
                                     seed=3)['out_dir'] + '/'


def data_options(people):
    return {'train_dataloader.dataset.data_root': people,
            'test_dataloader.dataset.data_root': people,
            'test_evaluator.ann_file': f'{people}annotations/person_keypoints_val.json'}


def random_model(config, options, path, seed=0):
    """The config's model with random weights (mmdet's initialisation: box deltas near 0),
    saved as a checkpoint at ``path``."""
    cfg = load_config(config, options)
    torch.manual_seed(seed)
    model = build_model(cfg)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, str(path))
    return cfg, model


def first_batch(cfg, num):
    init_default_scope(cfg.default_scope)
    from mmengine.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return dataset, pseudo_collate([dataset[i] for i in range(num)])


def with_gt_proposals(data):
    """The batch with each image's ground-truth boxes as its proposals (mmdet's two-stage
    ``predict`` then skips the RPN): detections near the people even with random weights, so
    that box AP is far from 0."""
    for sample in data['data_samples']:
        boxes = sample.gt_instances.bboxes
        boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
        # the test pipeline loads the boxes after its resize: original pixels -> input pixels
        boxes = boxes * boxes.new_tensor(sample.scale_factor).repeat(2)
        sample.proposals = InstanceData(bboxes=boxes.clone(), scores=torch.ones(len(boxes)))
    return data


def coco_ap(cfg, dataset, model, data):
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    with torch.no_grad():
        outputs = model.test_step(data)
    evaluator.process(data_samples=outputs, data_batch=data)
    return evaluator.evaluate(len(data['inputs'])), outputs


def _openvino_export(config, name, people, tmp_path_factory):
    """A random-weight model of ``config`` exported for OpenVINO (which holds the ONNX Runtime
    fp32 files too: the ONNX files it converts)."""
    work = tmp_path_factory.mktemp(name)
    options = data_options(people)
    ckpt = str(work / f'{name}.pth')
    cfg, model = random_model(config, options, ckpt)
    out = str(work / 'export')
    export_model(config, ckpt, out, backend='openvino', cfg_options=options, **QUIET)
    return dict(cfg=cfg, model=model, out=out, ckpt=ckpt, options=options)


@pytest.fixture(scope='module')
def det_export(people, tmp_path_factory):
    return _openvino_export(DET_CFG, 'det', people, tmp_path_factory)


def test_det_graphs_and_folder(det_export):
    meta = read_meta(det_export['out'])
    assert set(meta['graphs']) == {'model', 'bbox_head', 'mask_head'}
    assert meta['torch_heads'] is None  # every weight is in a graph
    assert meta['input_shape'] == [1, 3, None, None]
    assert meta['output_names'][5:7] == ['rpn_cls0', 'rpn_cls1']
    assert meta['models']['openvino']['fp32']['files']['mask_head'] == 'mask_head_ov.xml'
    assert all(d <= 1e-4 for d in meta['models']['openvino']['fp32']['max_rel_diffs'].values())
    assert sorted(meta['models']) == ['onnxruntime', 'openvino']


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
def test_det_boxes_masks_and_ap_equal_torch(det_export, backend):
    """Whole images at 128 (dynamic size), ground-truth proposals: box and mask AP equal,
    boxes within 1e-2 px, masks equal."""
    cfg = det_export['cfg']
    dataset, data = first_batch(cfg, 3)
    ref_ap, ref = coco_ap(cfg, dataset, det_export['model'], with_gt_proposals(data))
    model = load_backend_model(det_export['out'], backend)
    _, data = first_batch(cfg, 3)
    ap, res = coco_ap(cfg, dataset, model, with_gt_proposals(data))
    assert ref_ap['coco/bbox_mAP'] > 0.2, ref_ap  # a comparison that can tell
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP'):
        assert ap[key] == ref_ap[key], (key, ap, ref_ap)
    for r, o in zip(ref, res):
        r, o = r.pred_instances, o.pred_instances
        assert len(r) == len(o) > 0
        assert (o.bboxes - r.bboxes).abs().max() <= 1e-2
        assert torch.equal(o.labels, r.labels)
        assert (o.masks == r.masks).float().mean() > 0.999


def test_det_rpn_in_the_graph_gives_torch_detections(det_export):
    """Without given proposals: the RPN outputs of the backend feed mmdet's own decoding."""
    cfg = det_export['cfg']
    _, data = first_batch(cfg, 2)
    with torch.no_grad():
        ref = det_export['model'].test_step(data)
    res = load_backend_model(det_export['out'], 'onnxruntime').test_step(data)
    for r, o in zip(ref, res):
        assert len(r.pred_instances) == len(o.pred_instances) > 0
        assert (o.pred_instances.bboxes - r.pred_instances.bboxes).abs().max() <= 1e-2


@pytest.fixture(scope='module')
def mt_export(people, tmp_path_factory):
    return _openvino_export(MT_CFG, 'mt', people, tmp_path_factory)


def test_multitask_graphs_match_torch_on_the_same_proposals(mt_export):
    """Boxes after NMS within 1e-3 px on the same proposals; the keypoint graph's heatmaps on
    the same detections within 1e-5 (relative); parsing labels equal; end to end, the keypoint
    head's inputs (the crops and, with the config's flip test, the mirrored input's crops)
    within 1e-5 (relative, per crop; the median) and 1e-3 (every crop: a box that float noise
    moved resamples its crop, measured 1.4e-4 with AVX-512 kernels) and keypoints within 1e-2
    px of torch's (random weights give flat heatmaps whose maximum may jump between near-equal
    bins when the boxes move by float noise: at least 90% within 1e-2 px)."""
    meta = read_meta(mt_export['out'])
    assert set(meta['graphs']) == {'model', 'bbox_head', 'mask_head', 'keypoint_head'}
    assert {'branch0', 'parse0', 'pyramid0', 'rpn_reg4'} <= set(meta['output_names'])
    cfg, model = mt_export['cfg'], mt_export['model']
    backend = load_backend_model(mt_export['out'], 'openvino').model
    _, data = first_batch(cfg, 2)
    data = model.data_preprocessor(data, False)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        pyramid = model.neck(model.backbone(inputs))
        proposals = model.rpn_head.predict(pyramid, samples, rescale=False)
        ref = model.roi_head.predict(pyramid, [p.clone() for p in proposals], samples)
        ours = backend.roi_head.predict(backend.neck(backend.backbone(inputs)),
                                        [p.clone() for p in proposals], samples)
    for r, o in zip(ref, ours):
        assert len(r) == len(o) > 0
        assert (o.bboxes - r.bboxes).abs().max() <= 1e-3
    parts = [p for p in det.roi_parts(model) if p.name == 'keypoint_head']
    with det.recording(parts, model) as heat_in, torch.no_grad():
        ref = model.test_step(data_batch := first_batch(cfg, 2)[1])
    with det.recording(parts, backend) as heat_out, torch.no_grad():
        res = backend.test_step(first_batch(cfg, 2)[1])
    x = torch.cat(heat_in['keypoint_head'])
    y = torch.cat(heat_out['keypoint_head'])
    assert model.keypoint_head.flips_image and x.shape == y.shape
    rel = (x - y).abs().flatten(1).amax(1) / x.abs().flatten(1).amax(1)
    assert rel.median() <= 1e-5 and rel.max() <= 1e-3, rel
    assert len(x) > 0 and data_batch
    with torch.no_grad():
        a = model.keypoint_head.forward_head(x)
        b = backend.keypoint_head.forward_head(x)
    assert (a - b).abs().max() <= 1e-5 * a.abs().max()
    for r, o in zip(ref, res):
        assert len(r.pred_instances) == len(o.pred_instances) > 0
        assert (o.pred_instances.bboxes - r.pred_instances.bboxes).abs().max() <= 1e-2
        assert o.pred_instances.keypoints.shape == r.pred_instances.keypoints.shape
        moved = (torch.as_tensor(o.pred_instances.keypoints) -
                 torch.as_tensor(r.pred_instances.keypoints)).abs().amax(-1)
        assert (moved <= 1e-2).float().mean() >= 0.9, moved
        assert torch.equal(o.pred_sem_seg.sem_seg, r.pred_sem_seg.sem_seg)


def test_multitask_inferencer_and_infer_tool_on_openvino(mt_export, people, tmp_path,
                                                          capsys):
    from mmhrnet.apis import HRNetInferencer
    image = cv2.imread(osp.join(people, 'val', sorted(
        f for f in __import__('os').listdir(osp.join(people, 'val')))[0]))
    ours = HRNetInferencer(multitask=mt_export['out'], backend='openvino', bbox_thr=0.0)
    ref = HRNetInferencer(multitask=(MT_CFG, mt_export['ckpt']), bbox_thr=0.0)
    assert ours.backends == {'multitask': 'openvino'}
    a, b = ours.predict(image), ref.predict(image)
    assert len(a['persons']) == len(b['persons']) > 0
    for p, q in zip(a['persons'], b['persons']):
        np.testing.assert_allclose(p['bbox'], q['bbox'], atol=1e-2)
        assert len(p['keypoints']) == len(q['keypoints']) == 17
    assert np.array_equal(a['class_map'], b['class_map'])
    spec = importlib.util.spec_from_file_location('infer_tool', osp.join(ROOT, 'tools/infer.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    code = tool.main([osp.join(people, 'val'), '--multitask', mt_export['out'], '--backend',
                      'openvino', '--out-dir', str(tmp_path / 'infer'), '--no-pictures'])
    assert code == 0, capsys.readouterr()
    assert len(list((tmp_path / 'infer' / 'predictions').glob('*.json'))) == 3
