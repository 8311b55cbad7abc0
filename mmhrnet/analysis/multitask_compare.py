"""The multi-task vs single-task comparison: metrics read from work dirs, and inference cost
(multiply-adds and images per second) measured on real test images, side by side; and the
gradient each task's loss sends into the shared backbone (what ``loss_weights`` balance).

Multiply-adds are counted by :class:`mmhrnet.utils.complexity.MacCounter` during the real
test step, so they include exactly the proposals, detections and person crops each model
processed on those images, in decimal GMACs (``macs / 1e9``).
"""
import glob
import json
import os.path as osp
import time
from collections import defaultdict

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DATASETS, DefaultScope

from mmhrnet.utils.build import build_model, load_config
from mmhrnet.utils.complexity import MacCounter


def last_val_metrics(work_dir, with_config=False):
    """The metrics of the newest evaluation in ``work_dir``: the last validation entry of a
    training run (``<timestamp>/vis_data/scalars.json``) or a ``tools/test.py`` run
    (``<timestamp>/<timestamp>.json``), whichever run is newer; with ``with_config``, also
    the config that run dumped (``<timestamp>/vis_data/config.py``), as a ``Config``."""
    found = []
    for run in sorted(glob.glob(osp.join(work_dir, '*', ''))):
        stamp = osp.basename(osp.dirname(run))
        for path in (osp.join(run, f'{stamp}.json'), osp.join(run, 'vis_data', 'scalars.json')):
            if not osp.isfile(path):
                continue
            with open(path) as f:
                entries = [json.loads(line) for line in f if line.strip()]
            # training lines carry lr / loss; evaluation lines do not
            evals = [e for e in entries if not any(k in e for k in ('lr', 'loss'))]
            if evals:
                found.append((stamp, evals[-1], osp.join(run, 'vis_data', 'config.py')))
                break
    if not found:
        raise FileNotFoundError(f'no validation or test metrics under {work_dir}')
    _, metrics, config = sorted(found, key=lambda x: x[0])[-1]
    if not with_config:
        return metrics
    if not osp.isfile(config):
        raise FileNotFoundError(f'{config}: the config of the run that gave the metrics is '
                                'missing')
    return metrics, Config.fromfile(config)


def flip_test_of(cfg):
    """The flip test a pose or multi-task config decodes keypoints with: ``'image'`` (the
    mirrored image through the network again: a top-down model's, the multi-task head's
    ``True`` / ``'image'``), ``'features'`` (the multi-task head mirroring only the crop's
    features) or False."""
    if cfg.model.get('keypoint_head') is not None:
        flip = (cfg.model.keypoint_head.get('test_cfg') or {}).get('flip_test', False)
        return 'features' if flip == 'features' else 'image' if flip else False
    return 'image' if (cfg.model.get('test_cfg') or {}).get('flip_test', False) else False


def build_for_test(config, checkpoint=None, options=None):
    """Model (eval mode) and test dataset of a config, under the config's default scope."""
    cfg = load_config(config, options)
    model = build_model(cfg, checkpoint)  # in the config's default scope, strictly loaded
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmengine')):
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return model, dataset


def _image_steps(dataset, num_images):
    """Batches of ``dataset``, one image each (all samples sharing an image)."""
    groups = defaultdict(list)
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        img_id = info.get('img_id', info.get('img_path'))  # mmseg samples have no img_id
        if img_id not in groups and len(groups) == num_images:
            break
        groups[img_id].append(i)
    return [pseudo_collate([dataset[i] for i in idx]) for idx in groups.values()]


def inference_costs(models, num_images=20, warmup=2):
    """Multiply-adds and seconds per image of each model's ``test_step`` on the first images
    of its dataset, one image per step (for a top-down pose dataset: all the person boxes of
    one image in one step). The models take turns image by image, so that a changing load on
    a shared machine falls on all of them alike.

    Args:
        models (dict): ``name: (model, dataset)``.
        num_images (int): Images measured, after ``warmup`` unmeasured ones.

    Returns:
        dict: ``name: dict(gmacs, s_per_img, img_per_s, images, samples)`` (per image).
    """
    steps = {k: _image_steps(ds, num_images + warmup) for k, (_, ds) in models.items()}
    counts = {len(v) for v in steps.values()}
    if min(counts) <= warmup:
        raise ValueError(f'{min(counts)} images: need more than the {warmup} warm-up ones')
    total = {k: dict(macs=0, seconds=0.0, samples=0) for k in models}
    with torch.no_grad():
        for n in range(min(counts)):
            for name, (model, _) in models.items():
                data = steps[name][n]
                with MacCounter(model) as counter:
                    start = time.perf_counter()
                    model.test_step(data)
                    elapsed = time.perf_counter() - start
                if n >= warmup:
                    t = total[name]
                    t['macs'] += counter.macs
                    t['seconds'] += elapsed
                    t['samples'] += len(data['data_samples'])
    images = min(counts) - warmup
    return {k: dict(gmacs=t['macs'] / images / 1e9, s_per_img=t['seconds'] / images,
                    img_per_s=images / t['seconds'], images=images, samples=t['samples'])
            for k, t in total.items()}


def task_gradient_norms(model, losses):
    """L2 norm of the gradient that each task's (weighted) losses send into the backbone.

    Args:
        model (HRNetMultiTask): The model whose ``loss`` gave ``losses`` (graph kept).
        losses (dict): Its loss dict: ``loss_kpt`` is pose, ``loss_parse`` parsing, every other
            ``loss*`` entry detection.

    Returns:
        dict: ``task: (loss value, backbone gradient norm)`` for ``det``, ``parse``, ``pose``.
    """
    params = [p for p in model.backbone.parameters() if p.requires_grad]
    groups = defaultdict(list)
    for key, value in losses.items():
        if 'loss' not in key:
            continue
        task = 'pose' if key == 'loss_kpt' else 'parse' if key == 'loss_parse' else 'det'
        groups[task] += list(value) if isinstance(value, (list, tuple)) else [value]
    out = {}
    for task, values in sorted(groups.items()):
        total = sum(values)
        grads = torch.autograd.grad(total, params, retain_graph=True, allow_unused=True)
        norm = torch.sqrt(sum((g.float() ** 2).sum() for g in grads if g is not None))
        out[task] = (float(total.detach()), float(norm))
    return out


def keypoint_gmacs_per_person(model, image_size=(256, 256)):
    """Decimal GMACs that one person adds to an :class:`HRNetMultiTask` forward: the keypoint
    head on one crop (twice with its flip test; ``flip_test='image'``'s second backbone pass
    is per image, not per person) and, for a head with ``mask_channel``, the
    Mask R-CNN mask head on that person (detections have it already; given boxes do not).

    Args:
        model (HRNetMultiTask): The model.
        image_size (tuple): ``(H, W)`` of the network input the features are made for.

    Returns:
        dict: ``keypoint_head`` and ``mask_head`` GMACs per person.
    """
    head = model.keypoint_head
    was_training = model.training
    model.eval()
    with torch.no_grad():
        inputs = torch.zeros(1, 3, *image_size)
        branches, pyramid = model._features(inputs)
        feats = model._keypoint_feats(branches, pyramid)
        h, w = image_size
        crop = torch.tensor([[0, w / 2, h / 2, w / 2, h / 2 / head.aspect_ratio * 1.0, 0.]])
        masks = torch.zeros(1, h, w)
        with MacCounter(head) as kpt:
            head.predict_heatmaps(feats, crop, masks if head.mask_channel else None,
                                  mirror=(feats, w) if head.flips_image else None)
        mask_macs = 0
        if head.mask_channel:
            rois = torch.tensor([[0, w / 4, h / 4, 3 * w / 4, 3 * h / 4]])
            with MacCounter(model.roi_head) as mask:
                model.roi_head._mask_forward(pyramid, rois)
            mask_macs = mask.macs
    model.train(was_training)
    return dict(keypoint_head=kpt.macs / 1e9, mask_head=mask_macs / 1e9)
