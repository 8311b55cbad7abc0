"""The multi-task model (one HRNet pass: boxes + masks, parsing, keypoints): build, losses,
masked labels, one test step feeding all three metrics, single-task weights, keypoint geometry,
the data pipeline."""
import copy
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData
from mmengine.registry import DATASETS, METRICS, MODELS, init_default_scope

import mmhrnet  # noqa: F401
from mmhrnet.multitask import load_single_task, topdown_boxes
from mmhrnet.multitask.datasets import PeopleDataset
from mmhrnet.synthetic import PART_FLIP_PAIRS, generate_synthetic_people

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs')
CONFIG = osp.join(CONFIGS, 'multitask/hrnet-w18-small-v1_1xb8-6e_synthetic-people-256.py')
POSE_CFG = osp.join(CONFIGS, 'pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py')
SEG_CFG = osp.join(CONFIGS, 'seg/hrnetv2_w18-small_synthetic-parts-256x256.py')
DET_CFG = osp.join(CONFIGS, 'det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py')
SIZE = 128


@pytest.fixture(scope='module')
def people(tmp_path_factory):
    out = tmp_path_factory.mktemp('people')
    return generate_synthetic_people(str(out), num_train=6, num_val=3, size=(SIZE, SIZE),
                                     seed=3)['out_dir'] + '/'


@pytest.fixture(scope='module')
def cfg(people):
    """The synthetic config on the tiny data, at its own 128 px size."""
    cfg = Config.fromfile(CONFIG)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = people
        for t in loader.dataset.pipeline:
            if 'scale' in t:
                t.scale = (SIZE, SIZE)
    ann = people + 'annotations/person_keypoints_val.json'
    cfg.val_evaluator.det.ann_file = cfg.val_evaluator.pose.ann_file = ann
    cfg.model.test_cfg.rcnn.score_thr = 0.0  # random weights: keep detections to decode
    cfg.model.keypoint_head.test_cfg.update(score_thr=0.0, max_per_img=3)
    # argmax decoding: DARK's Taylor step is unbounded on an untrained head's heatmaps, and
    # the tests check that keypoints fall inside their crop
    cfg.model.keypoint_head.decoder = None
    return cfg


def build(cfg):
    init_default_scope('mmdet')
    torch.manual_seed(0)
    return MODELS.build(copy.deepcopy(cfg.model))


def batch(cfg, split='train', n=2):
    init_default_scope('mmdet')
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    ds = DATASETS.build(loader.dataset)
    return ds, pseudo_collate([ds[i] for i in range(n)])


def head_grad(module):
    return sum(p.grad.abs().sum().item() for p in module.parameters() if p.grad is not None)


def test_dataset_yields_all_three_label_kinds(cfg):
    _, data = batch(cfg)
    sample = data['data_samples'][0]
    gt = sample.gt_instances
    assert len(gt) > 0 and gt.keypoints.shape == (len(gt), 17, 2)
    assert gt.keypoints_visible.shape == (len(gt), 17) and gt.masks.masks.shape[0] == len(gt)
    labels = sample.gt_sem_seg.sem_seg
    assert labels.shape[-2:] == data['inputs'][0].shape[-2:]
    assert 0 < int((labels > 0).sum()) and int(labels.max()) <= 10


def test_flip_moves_keypoints_boxes_and_parts_together(cfg):
    init_default_scope('mmdet')
    ds = DATASETS.build(cfg.val_dataloader.dataset)
    flip = mmhrnet.registry.TRANSFORMS.build(dict(type='mmhrnet.RandomFlipPeople', prob=1.0))
    load = mmhrnet.registry.TRANSFORMS.build(dict(
        type='mmhrnet.LoadPeopleAnnotations', with_bbox=True, with_mask=True, with_seg=True))
    from mmcv.transforms import LoadImageFromFile
    results = load(LoadImageFromFile()(copy.deepcopy(ds.get_data_info(0))))
    before = copy.deepcopy(results)
    after = flip(results)
    w = before['img'].shape[1]
    flip_idx = PeopleDataset.METAINFO['flip_indices']
    # left wrist of the flipped image = mirrored right wrist of the original
    np.testing.assert_allclose(after['gt_keypoints'][:, 9, 0],
                               w - 1 - before['gt_keypoints'][:, flip_idx[9], 0])
    np.testing.assert_array_equal(after['gt_keypoints_visible'],
                                  before['gt_keypoints_visible'][:, flip_idx])
    seg_b, seg_a = before['gt_seg_map'][:, ::-1], after['gt_seg_map']
    for a, b in PART_FLIP_PAIRS:
        np.testing.assert_array_equal(seg_a == a, seg_b == b)
    np.testing.assert_allclose(after['gt_bboxes'].tensor[:, 0],
                               w - before['gt_bboxes'].tensor[:, 2])


def test_missing_part_map_is_all_ignored(people, cfg, tmp_path):
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset.data_prefix.seg = 'no_such_folder/'
    dataset.require_seg_maps = False
    init_default_scope('mmdet')
    sample = DATASETS.build(dataset)[0]['data_samples']
    assert bool((sample.gt_sem_seg.sem_seg == 255).all())
    dataset.require_seg_maps = True
    with pytest.raises(FileNotFoundError, match='label map .*no_such_folder'):
        DATASETS.build(dataset)


def test_forward_backward_returns_the_three_losses(cfg):
    model = build(cfg)
    model.train()
    _, data = batch(cfg)
    data = model.data_preprocessor(data, True)
    losses = model.loss(data['inputs'], data['data_samples'])
    for key in ('loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask', 'loss_parse', 'loss_kpt'):
        assert key in losses
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    for part in (model.backbone, model.neck, model.roi_head, model.parse_head,
                 model.keypoint_head):
        assert head_grad(part) > 0, type(part).__name__


def test_keypoint_head_trains_on_the_mask_heads_masks(cfg):
    """train_cfg.mask_source='predicted': the mask channel gets the mask head's masks of the
    persons' boxes (another loss than with the ground-truth masks), detached: the keypoint
    loss sends no gradient into the mask head."""
    model = build(cfg)
    model.train()
    _, data = batch(cfg)
    data = model.data_preprocessor(data, True)
    model.keypoint_head.train_cfg['mask_source'] = 'ground_truth'
    torch.manual_seed(1)
    truth = model.loss(data['inputs'], data['data_samples'])['loss_kpt']
    model.keypoint_head.train_cfg['mask_source'] = 'predicted'
    calls = []
    predicted = model._predicted_masks
    model._predicted_masks = lambda *a: (lambda boxes: calls.append(len(boxes)) or
                                         predicted(*a)(boxes))
    torch.manual_seed(1)  # the same jitter
    loss = model.loss(data['inputs'], data['data_samples'])['loss_kpt']
    assert calls == [2] and not torch.isclose(loss, truth)
    model.zero_grad()
    loss.backward()
    assert head_grad(model.keypoint_head) > 0
    assert head_grad(model.roi_head.mask_head) == 0


def test_missing_labels_mask_their_loss(cfg):
    model = build(cfg)
    model.train()
    _, data = batch(cfg)
    data = model.data_preprocessor(data, True)
    inputs, samples = data['inputs'], data['data_samples']
    for s in samples:  # no keypoints anywhere, no part maps anywhere
        s.gt_instances.keypoints_visible = torch.zeros_like(s.gt_instances.keypoints_visible)
        s.gt_sem_seg.sem_seg = torch.full_like(s.gt_sem_seg.sem_seg, 255)
    losses = model.loss(inputs, samples)
    assert losses['loss_kpt'].item() == 0 and losses['loss_parse'].item() == 0
    model.parse_losses(losses)[0].backward()
    assert head_grad(model.keypoint_head) == 0 and head_grad(model.parse_head) == 0
    assert head_grad(model.roi_head) > 0  # the detector still trains

    # an image whose boxes are not labelled drops out of the detection losses only
    model.eval()  # BN on running statistics: one image's features do not depend on the other
    torch.manual_seed(1)
    one = model.loss(inputs[:1], samples[:1])
    samples[1].set_metainfo(dict(det_labelled=False))
    torch.manual_seed(1)
    both = model.loss(inputs, samples)
    assert torch.allclose(sum(one['loss_rpn_cls']), sum(both['loss_rpn_cls']), atol=1e-6)
    assert torch.allclose(one['loss_mask'], both['loss_mask'], atol=1e-6)
    samples[1].set_metainfo(dict(det_labelled=True))
    torch.manual_seed(1)
    assert not torch.allclose(sum(one['loss_rpn_cls']),
                              sum(model.loss(inputs, samples)['loss_rpn_cls']), atol=1e-6)


def test_test_step_feeds_all_three_metrics(cfg):
    model = build(cfg)
    model.eval()
    ds, data = batch(cfg, 'val', n=3)
    with torch.no_grad():
        out = model.test_step(data)
    first = out[0]
    h, w = first.ori_shape
    assert first.pred_sem_seg.sem_seg.shape == (1, h, w)
    pred = first.pred_instances
    n = len(pred)
    assert n > 0 and pred.keypoints.shape == (n, 17, 2) and pred.keypoint_scores.shape == (n, 17)
    assert pred.masks.shape == (n, h, w)
    # keypoints come from their own box's crop: they lie inside it, grown by the padding
    # (mmpose's codec marks a peak it cannot find with score <= 0 and location -1)
    crops = topdown_boxes(pred.bboxes, 0.75)
    inside = ((pred.keypoints >= crops[:, None, :2] - 1) &
              (pred.keypoints <= crops[:, None, 2:] + 1)).all(-1)
    found = pred.keypoint_scores > 0
    assert bool(found.any()) and bool(inside[found].all())
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = ds.metainfo
    metric.process(data, [s.to_dict() for s in out])
    results = metric.evaluate(len(out))
    for key in ('det/bbox_mAP', 'det/segm_mAP', 'parse/mIoU', 'pose/AP'):
        assert key in results


def _write_detections(people, tmp_path, low_score=0.01):
    """A COCO detection results file of the val images: each person's ground-truth box at 0.9
    and one extra box per image at ``low_score``; returns its path and the boxes by image."""
    with open(people + 'annotations/person_keypoints_val.json') as f:
        coco = json.load(f)
    dets, boxes = [], {}
    for ann in coco['annotations']:
        dets.append(dict(image_id=ann['image_id'], category_id=1, bbox=ann['bbox'], score=0.9))
        x, y, w, h = ann['bbox']
        boxes.setdefault(ann['image_id'], []).append([x, y, x + w, y + h])
    for img in coco['images']:
        dets.append(dict(image_id=img['id'], category_id=1, bbox=[1, 1, 20, 30], score=low_score))
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps(dets))
    return str(path), boxes


def test_given_person_boxes_get_keypoints_and_feed_the_pose_metric(people, cfg, tmp_path):
    bbox_file, boxes = _write_detections(people, tmp_path)
    cfg = copy.deepcopy(cfg)
    cfg.val_dataloader.dataset.update(bbox_file=bbox_file, det_bbox_thr=0.05)
    model = build(cfg).eval()
    ds, data = batch(cfg, 'val', n=3)
    with torch.no_grad():
        out = model.test_step(data)
    for sample in out:
        given = np.array(boxes[sample.img_id], np.float32)  # the 0.01 box is left out
        pose = sample.pred_pose_instances
        np.testing.assert_allclose(sample.given_instances.bboxes.numpy(), given, atol=1e-4)
        np.testing.assert_allclose(pose.bboxes.numpy(), given, atol=1e-4)
        assert pose.keypoints.shape == (len(given), 17, 2)
        crops = topdown_boxes(pose.bboxes, 0.75)
        found = pose.keypoint_scores > 0
        inside = ((pose.keypoints >= crops[:, None, :2] - 1) &
                  (pose.keypoints <= crops[:, None, 2:] + 1)).all(-1)
        assert bool(inside[found].all())
        assert len(sample.pred_instances) == 3  # its own detections are kept for det / segm
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = ds.metainfo
    metric.process(data, [s.to_dict() for s in out])
    fed = metric.metrics['pose'].results
    assert [len(pred['keypoints']) for pred, _ in fed] == [len(boxes[s.img_id]) for s in out]
    assert 'pose/AP' in metric.evaluate(len(out))


@pytest.mark.parametrize('flip_test', [False, True])
def test_given_boxes_of_the_own_detections_give_the_same_keypoints(cfg, flip_test):
    """Given boxes equal to the own detections decode the same keypoints; with
    the flip test the backbone also runs once on the mirrored input."""
    model = build(cfg).eval()
    model.keypoint_head.test_cfg['flip_test'] = flip_test
    seen = []
    model.backbone.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    _, data = batch(cfg, 'val', n=2)
    with torch.no_grad():
        own = model.test_step(copy.deepcopy(data))
        for sample, res in zip(data['data_samples'], own):
            sample.given_instances = InstanceData(bboxes=res.pred_instances.bboxes,
                                                  scores=res.pred_instances.scores)
        given = model.test_step(data)
    assert len(seen) == (4 if flip_test else 2)
    if flip_test:
        torch.testing.assert_close(seen[1], seen[0].flip(-1))
    for a, b in zip(own, given):
        torch.testing.assert_close(b.pred_pose_instances.keypoints, a.pred_instances.keypoints,
                                   atol=1e-4, rtol=0)


def test_malformed_detection_file_names_file_and_detection(people, cfg, tmp_path):
    bbox_file, _ = _write_detections(people, tmp_path)
    with open(bbox_file) as f:
        dets = json.load(f)
    del dets[2]['score']
    with open(bbox_file, 'w') as f:
        json.dump(dets, f)
    dataset = copy.deepcopy(cfg.val_dataloader.dataset)
    dataset.bbox_file = bbox_file
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match=f"{bbox_file}: detection 2: no 'score'"):
        DATASETS.build(dataset)


def test_task_gradient_norms_follow_the_loss_weights(cfg):
    from mmhrnet.analysis.multitask_compare import task_gradient_norms
    _, data = batch(cfg)
    norms = {}
    for weight in (1., 10.):
        model = build(cfg).train()
        model.loss_weights['pose'] = weight
        torch.manual_seed(1)  # the same RoI jitter and samples
        inputs = model.data_preprocessor(copy.deepcopy(data), True)
        norms[weight] = task_gradient_norms(model, model.loss(inputs['inputs'],
                                                              inputs['data_samples']))
    assert set(norms[1.]) == {'det', 'parse', 'pose'}
    assert norms[10.]['pose'][1] == pytest.approx(10 * norms[1.]['pose'][1], rel=1e-4)
    assert norms[10.]['parse'][1] == pytest.approx(norms[1.]['parse'][1], rel=1e-4)
    assert norms[1.]['det'][1] > 0


def test_keypoint_targets_decode_back_to_the_keypoints(cfg):
    model = build(cfg)
    head = model.keypoint_head
    _, data = batch(cfg, 'val', n=3)
    gt = InstanceData.cat([s.gt_instances for s in data['data_samples']])
    crops = torch.cat([torch.zeros(len(gt), 1), topdown_boxes(gt.bboxes.tensor, 0.75)], 1)
    frame = head._to_heatmap(gt.keypoints, crops).numpy()
    decoded = []
    for kpts, vis in zip(frame, gt.keypoints_visible.numpy()):
        heatmaps = head.codec.encode(kpts[None], vis[None])['heatmaps']
        decoded.append(head.decoder.decode(heatmaps)[0][0])
    back = head._from_heatmap(torch.tensor(np.stack(decoded)), crops)
    # error in heatmap pixels: the codec centres its Gaussians on whole pixels (<= 0.5 off),
    # the decoder's sub-pixel refinement brings part of that back
    cell = (crops[:, 3:5] - crops[:, 1:3]) / torch.tensor(head.heatmap_size, dtype=torch.float)
    err = ((back - gt.keypoints) / cell[:, None])[gt.keypoints_visible > 0].abs()
    assert float(err.max()) <= 0.55 and float(err.mean()) < 0.3


def test_single_task_weights_load_into_matching_parts(cfg):
    init_default_scope('mmpose')
    pose = MODELS.build(Config.fromfile(POSE_CFG).model)
    init_default_scope('mmseg')
    seg_cfg = Config.fromfile(SEG_CFG).model
    seg = MODELS.build(seg_cfg)
    init_default_scope('mmdet')
    det = MODELS.build(Config.fromfile(DET_CFG).model)
    width = 128  # the detection config's pyramid width
    mt_cfg = copy.deepcopy(cfg)
    mt_cfg.model.neck.out_channels = width
    mt_cfg.model.rpn_head.update(in_channels=width, feat_channels=width)
    for key in ('bbox_roi_extractor', 'mask_roi_extractor'):
        mt_cfg.model.roi_head[key].out_channels = width
    mt_cfg.model.roi_head.bbox_head.in_channels = width
    mt_cfg.model.roi_head.mask_head.in_channels = width
    # the V1 1x1 head on the 1/4 branch, as the pose model's
    mt_cfg.model.keypoint_head.update(source='backbone', in_index=0, mask_channel=False,
                                      coord_channels=False, roi_convs=None)
    mt_cfg.model.keypoint_head.head.update(conv_out_channels=None, conv_kernel_sizes=None,
                                           deconv_out_channels=None)
    model = build(mt_cfg)
    own = model.state_dict()
    for task, source, pairs in (
            ('pose', pose, [('head.final_layer.weight', 'keypoint_head.head.final_layer.weight'),
                            ('backbone.conv1.weight', 'backbone.conv1.weight')]),
            ('parse', seg, [('decode_head.conv_seg.weight', 'parse_head.conv_seg.weight'),
                            ('decode_head.convs.0.conv.weight',
                             'parse_head.convs.0.conv.weight')]),
            ('det', det, [('neck.reduction_conv.conv.weight', 'neck.reduction_conv.conv.weight'),
                          ('roi_head.mask_head.conv_logits.weight',
                           'roi_head.mask_head.conv_logits.weight')])):
        src = source.state_dict()
        loaded = load_single_task(model, src, task)
        assert any(k.startswith('backbone.') for k in loaded)
        own = model.state_dict()
        for a, b in pairs:
            assert torch.equal(own[b], src[a]), (task, b)
    with pytest.raises(ValueError, match='shape mismatch'):
        load_single_task(build(cfg), det.state_dict(), 'det')  # pyramid 128 into 64


def test_coco_config_builds_and_reads_coco_people(coco_tiny):
    cfg = Config.fromfile(osp.join(CONFIGS, 'multitask/hrnet-w32_8xb2-1x_coco-person.py'))
    cfg.model.backbone.init_cfg = None  # no download
    cfg.model.parse_head.norm_cfg = dict(type='BN')  # one process
    model = build(cfg)
    # the V1 1x1 head on the W32 1/4 branch: an mmpose W32 top-down head fits it
    assert model.keypoint_head.head.final_layer.weight.shape == (17, 32, 1, 1)
    dataset = cfg.train_dataloader.dataset
    dataset.update(data_root=coco_tiny, ann_file='test_coco.json', data_prefix=dict(img=''))
    for t in dataset.pipeline:
        if t['type'] == 'mmhrnet.ResizePeople':
            t.scale = (320, 320)  # small: the loader, not the resolution, is under test
    sample = DATASETS.build(dataset)[0]['data_samples']
    gt = sample.gt_instances
    assert gt.keypoints.shape[1:] == (17, 2) and bool((gt.keypoints_visible > 0).any())
    seg = sample.gt_sem_seg.sem_seg
    person = seg == 1
    assert 0 < int(person.sum()) < person.numel()
    # the person map is the union of the instance masks (crowds apart)
    masks = torch.as_tensor(gt.masks.to_ndarray()).any(0)
    assert float((masks & person[0]).sum() / (masks | person[0]).sum()) > 0.95


def test_mac_counter_counts_conv_transposed_conv_and_linear():
    from mmhrnet.utils.complexity import MacCounter, published_gflops
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),  # 8*8 outputs x 4 x 3*9
        torch.nn.ConvTranspose2d(4, 2, 2, stride=2),  # 4*8*8 inputs x 2 x 2*2
        torch.nn.Flatten(), torch.nn.Linear(2 * 16 * 16, 3))  # 512 x 3
    x = torch.rand(1, 3, 8, 8)
    with MacCounter(model) as counter, torch.no_grad():
        model(x)
    assert counter.macs == 8 * 8 * 4 * 27 + 256 * 2 * 4 + 512 * 3
    assert published_gflops(3 * 2 ** 30) == 3

def test_parse_map_is_the_argmax_of_the_resized_logits():
    """The parsing map takes the first largest logit (argmax's rule, ties included) after
    resizing to the input, cutting the padding and resizing to the original size."""
    from types import SimpleNamespace

    import torch.nn.functional as F

    from mmhrnet.multitask.model import HRNetMultiTask
    owner = SimpleNamespace(parse_head=SimpleNamespace(align_corners=False))
    logits = torch.randn(1, 5, 8, 10)
    logits[:, 2] = logits[:, 4]  # ties: the first class wins
    logits[..., :2] = 0.
    meta = dict(batch_input_shape=(32, 40), img_shape=(30, 36), ori_shape=(60, 72))
    labels = HRNetMultiTask._parse_map(owner, logits, meta, rescale=True)
    ref = F.interpolate(logits, size=(32, 40), mode='bilinear')[..., :30, :36]
    ref = F.interpolate(ref, size=(60, 72), mode='bilinear').argmax(1)
    assert labels.shape == (1, 60, 72) and torch.equal(labels, ref)
    assert (labels != 4).all()


def one_val_image(cfg):
    """An eval-mode model, one preprocessed val image, its metas and its pyramid."""
    model = build(cfg).eval()
    _, data = batch(cfg, 'val', n=1)
    data = model.data_preprocessor(data, False)
    with torch.no_grad():
        _, pyramid = model._features(data['inputs'])
    return model, data, [s.metainfo for s in data['data_samples']], pyramid


def test_parsed_mask_source_keeps_the_masks_where_the_parsing_sees_a_person(cfg):
    """test_cfg.mask_source='parsed': the keypoint head's mask channel gets the mask head's
    masks (grown by mask_grow pixels) where the parsing map is not background."""
    from mmhrnet.multitask.model import _grow
    model, data, metas, pyramid = one_val_image(cfg)
    h, w = metas[0]['img_shape'][:2]
    logits = torch.zeros(1, 11, *data['inputs'].shape[2:])
    logits[0, 0] = 1.  # background everywhere but the left half of the image
    logits[0, 3, :, :w // 2] = 2.
    boxes = [torch.tensor([[2., 3., w - 5., h - 4.]])]
    with torch.no_grad():
        predicted = model._predicted_masks(pyramid, metas)(boxes)[0]
        for grow in (0, 3):
            model.keypoint_head.test_cfg.update(mask_source='parsed', mask_grow=grow)
            parsed = model._masks_at_input(pyramid, metas, data['data_samples'],
                                           logits)(boxes)[0]
            expected = _grow(predicted, grow).clone()
            expected[..., w // 2:] = False
            assert parsed.shape == predicted.shape == (1, h, w)
            assert torch.equal(parsed, expected)
    masks = torch.zeros(1, 9, 9, dtype=torch.bool)
    masks[0, 4, 4] = True
    assert _grow(masks, 1).sum() == 9 and _grow(masks, 0).sum() == 1


def test_soft_masks_give_the_mask_heads_probabilities(cfg):
    """soft_masks=True: the mask channel gets the mask head's pasted probabilities (0..1), whose
    0.5 threshold is the binary mask; the head's threshold setting is left as it was."""
    model, _, metas, pyramid = one_val_image(cfg)
    h, w = metas[0]['img_shape'][:2]
    boxes = [torch.tensor([[2., 3., w - 5., h - 4.], [10., 8., w / 2, h / 2]])]
    threshold = model.roi_head.test_cfg.mask_thr_binary
    with torch.no_grad():
        binary = model._predicted_masks(pyramid, metas)(boxes)[0]
        model.keypoint_head.soft_masks = True
        soft = model._predicted_masks(pyramid, metas)(boxes)[0]
    assert model.roi_head.test_cfg.mask_thr_binary == threshold == 0.5
    assert binary.dtype == torch.bool and soft.dtype == torch.float32
    assert soft.shape == binary.shape and 0 <= soft.min() and soft.max() <= 1
    assert ((soft > 0) & (soft < 1)).any()  # probabilities, not 0 / 1
    # equal but where uint8 rounding moves a value across the threshold
    assert ((soft >= 0.5) != binary).float().mean() < 0.01


def test_flip_test_of_tells_the_image_flip_from_the_features_flip():
    """compare_multitask.py compares keypoint columns only between runs with the same flip
    test: a top-down model's flip test mirrors the image, as the multi-task head's True /
    'image' does; its 'features' mirrors only the crop's features."""
    from mmhrnet.analysis.multitask_compare import flip_test_of

    def multitask(flip):
        return Config(dict(model=dict(keypoint_head=dict(test_cfg=dict(flip_test=flip)))))

    pose = Config(dict(model=dict(test_cfg=dict(flip_test=True))))
    assert flip_test_of(pose) == flip_test_of(multitask(True)) == flip_test_of(
        multitask('image')) == 'image'
    assert flip_test_of(multitask('features')) == 'features'
    assert flip_test_of(multitask(False)) is False
    assert flip_test_of(Config(dict(model=dict(test_cfg=dict(flip_test=False))))) is False
