"""Train segmentation networks on one schedule, measure them, and write one comparison table and
one figure (``tools/analysis/compare_seg.py`` parses the arguments and calls these).

Every network runs the task config's data, crops, optimiser and learning-rate shape; only the
length (iterations, batch) is set here, the same for all, so that a comparison fits the
machine. Work dirs are reused: a network whose last checkpoint exists is not trained again, and
one whose ``compare_metrics.json`` exists is not evaluated again.
"""
import copy
import json
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner

from mmhrnet.utils import complexity

METRICS_FILE = 'compare_metrics.json'


def network_name(config):
    """The network part of a config file name (``segnet_vgg16-w16_...`` -> ``segnet``)."""
    return osp.basename(config).split('_')[0]


def apply_schedule(cfg, iters, batch_size, warmup=None):
    """Set a config's length, keeping its optimiser and its warm-up + poly learning-rate shape.

    In-training validation is switched off (:func:`evaluate` scores the last checkpoint) and
    one checkpoint is kept, at the end.

    Args:
        cfg (Config): A task config with ``IterBasedTrainLoop`` and a ``LinearLR`` warm-up
            followed by ``PolyLR`` (as ``configs/seg/*synthetic*``).
        iters (int): Training iterations.
        batch_size (int): Training batch size.
        warmup (int, optional): Warm-up iterations. Defaults to the config's, at most a
            quarter of ``iters``.

    Returns:
        Config: A modified copy.
    """
    cfg = copy.deepcopy(cfg)
    if cfg.train_cfg.get('type') != 'IterBasedTrainLoop':
        raise ValueError(f'compare needs an IterBasedTrainLoop config, got {cfg.train_cfg}')
    cfg.train_cfg.update(max_iters=iters, val_interval=iters)
    cfg.train_dataloader.batch_size = batch_size
    schedulers = cfg.param_scheduler
    if not (len(schedulers) == 2 and schedulers[0].type == 'LinearLR'
            and schedulers[1].type == 'PolyLR'):
        raise ValueError(f'compare needs a LinearLR warm-up + PolyLR schedule, got {schedulers}')
    warm = min(schedulers[0].end if warmup is None else warmup, max(iters // 4, 1))
    schedulers[0].update(begin=0, end=warm)
    schedulers[1].update(begin=warm, end=iters)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=iters,
                                        max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(min(50, iters // 5), 1),
                                    log_metric_by_epoch=False)
    cfg.default_hooks.pop('visualization', None)
    return cfg


TRAIN_FILE = 'train_time.json'


def train(cfg, work_dir):
    """Train ``cfg`` into ``work_dir`` unless its last checkpoint is there.

    Returns:
        tuple[str, float | None]: The last checkpoint and the training time in seconds (read
        from ``work_dir/train_time.json`` when training was skipped; None if that is absent).
    """
    iters = cfg.train_cfg.max_iters
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    record = osp.join(work_dir, TRAIN_FILE)
    if osp.isfile(ckpt):
        if osp.isfile(record):
            with open(record) as f:
                return ckpt, json.load(f)['train_s']
        return ckpt, None
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    start = time.time()
    Runner.from_cfg(cfg).train()
    seconds = time.time() - start
    with open(record, 'w') as f:
        json.dump(dict(train_s=seconds, iters=iters,
                       batch=cfg.train_dataloader.batch_size), f)
    return ckpt, seconds


def build_model(cfg):
    """Build ``cfg.model`` in the config's default scope (weights initialised)."""
    from mmengine.registry import MODELS
    scope = cfg.get('default_scope', 'mmseg')
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def measure(model, shape=(512, 512), speed_shape=(256, 256), repeats=5):
    """Params, multiply-adds at ``shape``, output stride, and images per second here.

    Args:
        model (BaseSegmentor): An mmseg segmentor (its ``tensor`` mode gives the logits).
        shape (tuple[int, int]): Input (H, W) of the FLOP count. Defaults to 512x512.
        speed_shape (tuple[int, int]): Input of the timing (batch 1, eval mode, no grad).
        repeats (int): Timed forward passes after one warm-up; the median is used.

    Returns:
        dict: ``params``, ``macs``, ``gflops`` (multiply-adds / 1024**3, the HRNet papers'
        "GFLOPs"), ``output_stride`` (input height / logits height) and ``img_per_s``.
    """
    model.eval()
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, *shape), mode='tensor')
    stats = complexity(model, (torch.zeros(1, 3, *shape), ))
    x = torch.rand(1, 3, *speed_shape)
    times = []
    with torch.no_grad():
        for i in range(repeats + 1):
            start = time.perf_counter()
            model(x, mode='tensor')
            times.append(time.perf_counter() - start)
    return dict(params=stats['params'], macs=stats['macs'], gflops=stats['gflops_published'],
                output_stride=shape[0] / logits.shape[-2],
                img_per_s=1.0 / float(np.median(times[1:])))


def evaluate(cfg, checkpoint, work_dir, groups=None, num_images=None, sample_index=0):
    """Score ``checkpoint`` on the config's test set with :class:`SegCompareMetric` and keep
    one image's prediction; reuse ``work_dir/compare_metrics.json`` when it is there.

    Args:
        cfg (Config): The task config (its ``test_dataloader``).
        checkpoint (str): Weights to load.
        work_dir (str): Where ``compare_metrics.json`` and ``compare_sample.npz`` go.
        groups (dict, optional): Class groups of :class:`SegCompareMetric`.
        num_images (int, optional): Score the first ``num_images`` test images only.
        sample_index (int): Test image whose prediction the figure shows.

    Returns:
        dict: The metrics (``mIoU``, ``IoU.<class>``, ``mIoU_<group>``, ``bF``), with the
        sample's image path.
    """
    out = osp.join(work_dir, METRICS_FILE)
    if osp.isfile(out):
        with open(out) as f:
            return json.load(f)
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = osp.join(work_dir, 'compare_eval')
    cfg.load_from = checkpoint
    cfg.test_evaluator = dict(type='mmhrnet.SegCompareMetric', groups=groups)
    if num_images:
        cfg.test_dataloader.dataset.indices = num_images
    cfg.default_hooks.pop('visualization', None)
    runner = Runner.from_cfg(cfg)
    metrics = dict(runner.test())
    loader = runner.test_dataloader
    batch = loader.collate_fn([loader.dataset[sample_index]])
    runner.model.eval()
    with torch.no_grad():
        sample = runner.model.test_step(batch)[0]
    np.savez_compressed(osp.join(work_dir, 'compare_sample.npz'),
                        pred=sample.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8),
                        gt=sample.gt_sem_seg.data[0].cpu().numpy().astype(np.uint8))
    metrics['sample_img_path'] = sample.img_path
    with open(out, 'w') as f:
        json.dump(metrics, f, indent=1)
    return metrics


# The synthetic parsing task's classes by shape (meta.PART_CLASSES): the limbs a few pixels
# wide (arms, shins) versus the broad parts (head, torso, thighs).
PART_GROUPS = dict(
    thin=['left_upper_arm', 'right_upper_arm', 'left_lower_arm', 'right_lower_arm',
          'left_lower_leg', 'right_lower_leg'],
    large=['head', 'torso', 'left_upper_leg', 'right_upper_leg'])

LABELS = {
    'hrnetv2': 'HRNetV2-W18-Small-v1', 'fcn': 'FCN (ResNet-18-D8)',
    'deeplabv3plus': 'DeepLab v3+ (ResNet-18-D8)', 'unet-s5-d16-w16': 'U-Net',
    'segnet': 'SegNet (VGG16)', 'deconvnet': 'DeconvNet (VGG16)',
    'deeplabv1-largefov': 'DeepLab v1 LargeFOV (VGG16)',
    'dilatednet': 'DilatedNet (VGG16 + context)'}


def _short(name):
    """A class name for a column head: ``left_lower_arm`` -> ``l.lo.arm``."""
    words = {'left': 'l', 'right': 'r', 'upper': 'up', 'lower': 'lo', 'background': 'bg'}
    return '.'.join(words.get(w, w) for w in name.split('_'))


def write_table(rows, classes, path, groups=()):
    """Write the comparison as one markdown table (and the same rows as ``.json``).

    Args:
        rows (list[dict]): Per network: ``name``, the :func:`measure` and :func:`evaluate`
            results, ``train_s``.
        classes (Sequence[str]): Class names, for the per-class IoU columns.
        path (str): The ``.md`` file; ``.json`` is written beside it.
        groups (Sequence[str]): Group names of ``mIoU_<group>`` columns.

    Returns:
        str: The markdown text.
    """
    head = (['network', 'output stride', 'params (M)', 'GFLOPs 512x512', 'img/s 256x256',
             'train min', 'mIoU'] + [f'mIoU {g}' for g in groups] + ['boundary F (3 px)']
            + [f'IoU {_short(c)}' for c in classes])
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for r in sorted(rows, key=lambda r: -r['mIoU']):
        train_min = f"{r['train_s'] / 60:.1f}" if r.get('train_s') else '-'
        cells = ([f"**{r['label']}**" if r['name'] == 'hrnetv2' else r['label'],
                  f"{r['output_stride']:g}", f"{r['params'] / 1e6:.2f}", f"{r['gflops']:.2f}",
                  f"{r['img_per_s']:.1f}", train_min, f"{r['mIoU']:.2f}"]
                 + [f"{r[f'mIoU_{g}']:.2f}" for g in groups] + [f"{r['bF']:.2f}"]
                 + [f"{r[f'IoU.{c}']:.1f}" for c in classes])
        lines.append('| ' + ' | '.join(cells) + ' |')
    text = '\n'.join(lines) + '\n'
    with open(path, 'w') as f:
        f.write(text)
    with open(osp.splitext(path)[0] + '.json', 'w') as f:
        json.dump(rows, f, indent=1)
    return text


def write_figure(rows, palette, path):
    """Write the comparison figure: mIoU against GFLOPs (left) and one test image's
    predictions per network beside the image and its ground truth (right).

    Args:
        rows (list[dict]): As :func:`write_table`, with ``work_dir`` (holding
            ``compare_sample.npz``) and ``sample_img_path``.
        palette (Sequence[tuple[int, int, int]]): RGB colour per class.
        path (str): The ``.png`` to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import mmcv

    rows = sorted(rows, key=lambda r: -r['mIoU'])
    colours = np.array(list(palette) + [(255, 255, 255)] * (256 - len(palette)), np.uint8)
    panels = [('image', mmcv.imread(rows[0]['sample_img_path'], channel_order='rgb'))]
    gt = np.load(osp.join(rows[0]['work_dir'], 'compare_sample.npz'))['gt']
    panels.append(('ground truth', colours[gt]))
    for r in rows:
        pred = np.load(osp.join(r['work_dir'], 'compare_sample.npz'))['pred']
        panels.append((f"{r['label']}\nmIoU {r['mIoU']:.1f}", colours[pred]))
    cols = (len(panels) + 1) // 2
    fig = plt.figure(figsize=(4.5 + 2.2 * cols, 5.2))
    grid = fig.add_gridspec(2, cols + 2)
    ax = fig.add_subplot(grid[:, :2])
    for r in rows:
        hr = r['name'] == 'hrnetv2'
        ax.scatter(r['gflops'], r['mIoU'], s=80 if hr else 40, c='crimson' if hr else 'tab:blue',
                   marker='*' if hr else 'o', zorder=3)
        ax.annotate(r['label'].split(' (')[0], (r['gflops'], r['mIoU']), fontsize=7,
                    xytext=(4, 3), textcoords='offset points')
    ax.set_xscale('log')
    ax.set_xlabel('GFLOPs at 512x512 (multiply-adds / 1024^3)')
    ax.set_ylabel('mIoU (%)')
    ax.grid(alpha=0.3)
    for i, (title, img) in enumerate(panels):
        sub = fig.add_subplot(grid[i // cols, 2 + i % cols])
        sub.imshow(img)
        sub.set_title(title, fontsize=7)
        sub.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(configs, work_dir, out_dir=None, iters=None, batch_size=None, num_images=None,
            groups=None, train_missing=True, cfg_options=None):
    """Train (or reuse), evaluate and measure each config; write the table and the figure.

    Args:
        configs (Sequence[str]): Config files, one per network, all on the same task.
        work_dir (str): Parent of the per-network work dirs (named by :func:`network_name`).
        out_dir (str, optional): Where ``seg_compare.{md,json,png}`` go. Defaults to
            ``work_dir``.
        iters (int, optional): Training iterations for all (default: each config's own).
        batch_size (int, optional): Training batch for all (default: each config's own).
        num_images (int, optional): Score the first ``num_images`` test images only.
        groups (dict, optional): Class groups; :data:`PART_GROUPS` when the task's classes
            are the synthetic parts.
        train_missing (bool): Train networks without a finished work dir; if False such a
            network fails with an error naming its work dir.
        cfg_options (dict, optional): Overrides merged into every config (``--cfg-options``).

    Returns:
        list[dict]: The table rows.
    """
    out_dir = out_dir or work_dir
    rows, meta = [], None
    for path in configs:
        cfg = Config.fromfile(path)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        cfg = apply_schedule(cfg, iters or cfg.train_cfg.max_iters,
                             batch_size or cfg.train_dataloader.batch_size)
        name = network_name(path)
        wd = osp.join(work_dir, name)
        ckpt = osp.join(wd, f'iter_{cfg.train_cfg.max_iters}.pth')
        if not train_missing and not osp.isfile(ckpt):
            raise FileNotFoundError(f'{path}: no finished training in {wd} ({ckpt} is absent)')
        ckpt, train_s = train(cfg, wd)
        model = build_model(cfg)
        if meta is None:
            from mmengine.registry import DATASETS
            with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
                meta = DATASETS.get(cfg.test_dataloader.dataset.type).METAINFO
            if groups is None and set(PART_GROUPS['thin']) <= set(meta['classes']):
                groups = PART_GROUPS
        metrics = evaluate(cfg, ckpt, wd, groups=groups, num_images=num_images)
        rows.append(dict(name=name, label=LABELS.get(name, name), config=path, work_dir=wd,
                         train_s=train_s, iters=cfg.train_cfg.max_iters,
                         batch=cfg.train_dataloader.batch_size, **measure(model), **metrics))
    os.makedirs(out_dir, exist_ok=True)
    write_table(rows, meta['classes'], osp.join(out_dir, 'seg_compare.md'),
                groups=list(groups or ()))
    write_figure(rows, meta['palette'], osp.join(out_dir, 'seg_compare.png'))
    return rows
