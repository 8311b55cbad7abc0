"""Train segmentation networks until they have learnt, measure them, and write one comparison
table and two figures (``tools/analysis/compare_seg.py`` parses the arguments and calls these).

Every network runs its config's data, crops, optimiser and learning-rate shape (a network with
a recipe of its own says so in its config and in the table's recipe column). A network trains
at least its config's full schedule, validating ``EVALS_PER_SCHEDULE`` times; when the last two
validation mIoUs differ by more than ``tolerance`` points it has not converged, and it is
trained again from scratch on a schedule twice as long (warm-up + poly over the new length: a
poly schedule cannot be extended in place, its learning rate has already decayed), up to
``max_doublings`` times. Each schedule has its own work dir (``<network>/iters_<N>``) and
resumes from its last checkpoint, so a comparison of many CPU hours can be stopped and finished
later; ``summary.json`` in each network's dir (metrics, validation curve, recipe, time) is what
the table and figures are rebuilt from.
"""
import copy
import glob
import json
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmhrnet.engine import resolve_resume
from mmhrnet.utils import complexity
from mmhrnet.utils.build import build_model, load_config
from mmhrnet.utils.checkpoint import load_checkpoint_strict

METRICS_FILE = 'compare_metrics.json'
MEASURE_FILE = 'compare_measure.json'
SAMPLE_FILE = 'compare_sample.npz'
SUMMARY_FILE = 'summary.json'
EVALS_PER_SCHEDULE = 8


def network_name(config):
    """The network part of a config file name (``segnet_vgg16-w16_...`` -> ``segnet``)."""
    return osp.basename(config).split('_')[0]


def apply_schedule(cfg, iters, batch_size, warmup=None, evals=EVALS_PER_SCHEDULE):
    """Set a config's length, keeping its optimiser and its warm-up + poly learning-rate shape.

    Validation (the config's ``val_evaluator``) runs ``evals`` times, evenly spaced, the last
    at the end; a checkpoint is saved at each (one kept besides the last), so a killed run
    resumes losing at most one interval.

    Args:
        cfg (Config): A task config with ``IterBasedTrainLoop`` and a ``LinearLR`` warm-up
            followed by ``PolyLR`` (as ``configs/seg/*synthetic*``).
        iters (int): Training iterations.
        batch_size (int): Training batch size.
        warmup (int, optional): Warm-up iterations. Defaults to the config's, at most a
            quarter of ``iters``.
        evals (int): Validations per schedule. Defaults to :data:`EVALS_PER_SCHEDULE`.

    Returns:
        Config: A modified copy.
    """
    cfg = copy.deepcopy(cfg)
    if cfg.train_cfg.get('type') != 'IterBasedTrainLoop':
        raise ValueError(f'compare needs an IterBasedTrainLoop config, got {cfg.train_cfg}')
    interval = max(iters // evals, 1)
    cfg.train_cfg.update(max_iters=iters, val_interval=interval)
    cfg.train_dataloader.batch_size = batch_size
    schedulers = cfg.param_scheduler
    if not (len(schedulers) == 2 and schedulers[0].type == 'LinearLR'
            and schedulers[1].type == 'PolyLR'):
        raise ValueError(f'compare needs a LinearLR warm-up + PolyLR schedule, got {schedulers}')
    warm = min(schedulers[0].end if warmup is None else warmup, max(iters // 4, 1))
    schedulers[0].update(begin=0, end=warm)
    schedulers[1].update(begin=warm, end=iters)
    cfg.default_hooks.checkpoint = dict(type='mmhrnet.SafeCheckpointHook', by_epoch=False,
                                        interval=interval, max_keep_ckpts=2)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(min(50, iters // 5), 1),
                                    log_metric_by_epoch=False)
    cfg.default_hooks.pop('visualization', None)
    return cfg


def _own_visualizer(cfg):
    """Give the run a visualizer of its own: mmseg's runtime names it ``'visualizer'``, and
    mmengine hands a second Runner of the process the first one's instance, whose
    ``vis_data`` (the validation curve) lies in the first run's work dir."""
    if cfg.get('visualizer'):
        cfg.visualizer.name = f'visualizer_{cfg.work_dir}_{time.time_ns()}'


def train(cfg, work_dir):
    """Train ``cfg`` into ``work_dir``, resuming from its newest checkpoint; nothing to do when
    the last checkpoint is there.

    Returns:
        tuple[str, float | None]: The last checkpoint and the training time in seconds, all
        sessions of a resumed run together, those stopped by a kill included
        (:func:`train_seconds`; None if the logs have no iteration times).
    """
    iters = cfg.train_cfg.max_iters
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    if not osp.isfile(ckpt):
        cfg = copy.deepcopy(cfg)
        cfg.work_dir = work_dir
        _own_visualizer(cfg)
        resolve_resume(cfg, 'auto')
        Runner.from_cfg(cfg).train()
    return ckpt, train_seconds(work_dir)


def _scalars(work_dir, key):
    """``{step: record}`` of the records with ``key`` logged in a work dir, all (resumed)
    sessions together (mmengine's ``<work_dir>/<timestamp>/vis_data/scalars.json``; a
    repeated step: the newest session's)."""
    points = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if key in rec and 'step' in rec:
                    points[int(rec['step'])] = rec
    return points


def train_seconds(work_dir):
    """Seconds of training iterations in a work dir, from its logs: each logged interval's
    mean iteration time (mmengine's ``time``, data loading included) times its iterations,
    over every session (validation not counted). None without logged times."""
    points = {step: rec for step, rec in _scalars(work_dir, 'lr').items() if 'time' in rec}
    total, last = 0.0, 0  # training records carry the lr; validation ones a time of their own
    for step in sorted(points):
        total += (step - last) * float(points[step]['time'])
        last = step
    return total if points else None


def val_curve(work_dir, key='mIoU'):
    """The validation curve logged in a work dir, all (resumed) sessions together.

    Returns:
        list[tuple[int, float]]: ``(iteration, value)`` sorted by iteration, from mmengine's
        ``<work_dir>/<timestamp>/vis_data/scalars.json`` (a repeated iteration: the newest).
    """
    return sorted((step, float(rec[key])) for step, rec in _scalars(work_dir, key).items())


def plateaued(curve, tolerance=1.0):
    """True when the last two points of ``curve`` are within ``tolerance`` of each other."""
    return len(curve) >= 2 and abs(curve[-1][1] - curve[-2][1]) <= tolerance


def train_converged(cfg, net_dir, tolerance=1.0, max_doublings=2, train_missing=True):
    """Train ``cfg`` (already set to its first schedule by :func:`apply_schedule`) until its
    validation mIoU plateaus, doubling the schedule (from scratch) while it does not.

    Args:
        cfg (Config): The network's config with its first schedule.
        net_dir (str): The network's folder; schedule N trains in ``net_dir/iters_N``.
        tolerance (float): Plateau: the last two validation mIoUs within this many points.
        max_doublings (int): Give up doubling after this many (the row says "no").
        train_missing (bool): If False, only read finished schedules.

    A schedule that finished without a plateau needs only its logs (the checkpoint of a
    superseded schedule may be deleted): its time counts and the next one is trained. A
    finished schedule already scored (``compare_metrics.json``) needs only its logs and scores,
    as :func:`keep_runs` keeps them.

    Returns:
        dict: ``run_dir``, ``checkpoint``, ``iters``, ``train_s`` (all schedules trained),
        ``curve`` (of the last schedule) and ``converged``.

    Raises:
        FileNotFoundError: ``train_missing`` is False and the first schedule is unfinished.
    """
    iters, total_s = cfg.train_cfg.max_iters, 0.0
    result = None

    def row(run_dir, ckpt, curve):
        return dict(run_dir=run_dir, checkpoint=ckpt, iters=iters, train_s=total_s or None,
                    curve=curve, converged=plateaued(curve, tolerance))

    for doubling in range(max_doublings + 1):
        sched = cfg if doubling == 0 else apply_schedule(
            cfg, iters, cfg.train_dataloader.batch_size,
            warmup=cfg.param_scheduler[0].end)
        run_dir = osp.join(net_dir, f'iters_{iters}')
        ckpt = osp.join(run_dir, f'iter_{iters}.pth')
        curve = val_curve(run_dir)
        logged = not osp.isfile(ckpt) and bool(curve) and curve[-1][0] == iters
        scored = logged and osp.isfile(osp.join(run_dir, METRICS_FILE))
        if logged and doubling < max_doublings and not plateaued(curve, tolerance):
            # A finished schedule that did not plateau, kept as logs only (its checkpoint
            # removed or lost): the next schedule starts from scratch anyway; if scored, it
            # is the row until a longer one finishes.
            total_s += train_seconds(run_dir) or 0.0
            if scored:
                result = row(run_dir, ckpt, curve)
            iters *= 2
            continue
        if not train_missing and not osp.isfile(ckpt) and not scored:
            if result is None:
                raise FileNotFoundError(f'no finished training in {run_dir} ({ckpt} is absent)')
            break  # the table reports the longest finished schedule, not converged
        # A finished schedule already scored needs its logs and scores only (keep_runs).
        train_s = train_seconds(run_dir) if scored else None
        if not scored:
            ckpt, train_s = train(sched, run_dir)
        total_s += train_s or 0.0
        result = row(run_dir, ckpt, curve if scored else val_curve(run_dir))
        if result['converged']:
            break
        iters *= 2
    return result


def recipe(cfg):
    """One line naming a config's optimiser, learning rate (and per-module multipliers),
    warm-up and class weighting."""
    opt = cfg.optim_wrapper.optimizer
    text = f"{opt.type} {opt.lr:g}, warm-up {cfg.param_scheduler[0].end}"
    custom = cfg.optim_wrapper.get('paramwise_cfg', {}).get('custom_keys', {})
    for key, value in sorted(custom.items()):
        if value.get('lr_mult', 1) != 1:
            text += f", lr x{value['lr_mult']:g} on {key}"
    losses = cfg.model.decode_head.get('loss_decode', {})
    losses = losses if isinstance(losses, (list, tuple)) else [losses]
    if any(loss.get('class_weight') for loss in losses):
        text += ', class-weighted CE'
    return text


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


def measured(cfg, work_dir):
    """:func:`measure` of ``cfg``'s model, kept in ``work_dir/compare_measure.json`` so that
    a table rebuilt from the work dirs shows the speed measured when the network was added."""
    out = osp.join(work_dir, MEASURE_FILE)
    if osp.isfile(out):
        with open(out) as f:
            return json.load(f)
    result = measure(build_model(cfg, init_weights=True))
    _write_json(out, result)
    return result


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
    _own_visualizer(cfg)
    cfg.load_from, cfg.resume = None, False  # loaded strictly below
    cfg.test_evaluator = dict(type='mmhrnet.SegCompareMetric', groups=groups)
    if num_images:
        cfg.test_dataloader.dataset.indices = num_images
    cfg.default_hooks.pop('visualization', None)
    runner = Runner.from_cfg(cfg)
    load_checkpoint_strict(runner.model, checkpoint)
    metrics = dict(runner.test())
    loader = runner.test_dataloader
    batch = loader.collate_fn([loader.dataset[sample_index]])
    runner.model.eval()
    with torch.no_grad():
        sample = runner.model.test_step(batch)[0]
    np.savez_compressed(osp.join(work_dir, SAMPLE_FILE),
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


def _num(value, fmt):
    """A table cell: ``-`` for a missing or NaN value (a class absent from the test set)."""
    return '-' if value is None or value != value else format(value, fmt)


def write_table(rows, classes, path, groups=()):
    """Write the comparison as one markdown table (and the same rows as ``.json``).

    Args:
        rows (list[dict]): Per network: ``name``, ``label``, ``recipe``, ``iters``, ``batch``,
            ``converged``, ``train_s`` and the :func:`measure` and :func:`evaluate` results.
        classes (Sequence[str]): Class names, for the per-class IoU columns.
        path (str): The ``.md`` file; ``.json`` is written beside it.
        groups (Sequence[str]): Group names of ``mIoU_<group>`` columns.

    Returns:
        str: The markdown text.
    """
    head = (['network', 'recipe', 'iters x batch', 'plateau', 'output stride', 'params (M)',
             'GFLOPs 512x512', 'img/s 256x256', 'train min', 'mIoU']
            + [f'mIoU {g}' for g in groups] + ['boundary F (3 px)']
            + [f'IoU {_short(c)}' for c in classes])
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for r in sorted(rows, key=lambda r: -r['mIoU']):
        train_min = f"{r['train_s'] / 60:.1f}" if r.get('train_s') else '-'
        cells = ([f"**{r['label']}**" if r['name'] == 'hrnetv2' else r['label'],
                  r.get('recipe', '-'), f"{r['iters']} x {r['batch']}",
                  {True: 'yes', False: 'no'}.get(r.get('converged'), '-'),
                  f"{r['output_stride']:g}", f"{r['params'] / 1e6:.2f}", f"{r['gflops']:.2f}",
                  f"{r['img_per_s']:.1f}", train_min, _num(r['mIoU'], '.2f')]
                 + [_num(r.get(f'mIoU_{g}'), '.2f') for g in groups] + [_num(r['bF'], '.2f')]
                 + [_num(r.get(f'IoU.{c}'), '.1f') for c in classes])
        lines.append('| ' + ' | '.join(cells) + ' |')
    text = '\n'.join(lines) + '\n'
    _write_json(osp.splitext(path)[0] + '.json', rows)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
    return text


def _write_json(path, data):
    """Write ``data`` as JSON through a temporary file (a kill leaves the old file whole)."""
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def write_curves(rows, path):
    """Plot every network's validation mIoU against training iterations in one figure.

    Args:
        rows (list[dict]): As :func:`write_table`, with ``curve`` (``[(iter, mIoU), ...]``).
        path (str): The ``.png`` to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for r in sorted(rows, key=lambda r: -r['mIoU']):
        if not r.get('curve'):
            continue
        it, miou = zip(*r['curve'])
        hr = r['name'] == 'hrnetv2'
        ax.plot(it, miou, marker='o', ms=3, lw=2.2 if hr else 1.2,
                color='crimson' if hr else None, label=r['label'])
    ax.set_xlabel(f"training iterations (batch {rows[0]['batch']})")
    ax.set_ylabel('validation mIoU (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc='lower right')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_figure(rows, palette, path):
    """Write the comparison figure: mIoU against GFLOPs (left) and one test image's
    predictions per network beside the image and its ground truth (right).

    Args:
        rows (list[dict]): As :func:`write_table`, with ``work_dir`` (holding
            ``compare_sample.npz``; a blank panel without it) and ``sample_img_path``.
        palette (Sequence[tuple[int, int, int]]): RGB colour per class.
        path (str): The ``.png`` to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import mmcv

    rows = sorted(rows, key=lambda r: -r['mIoU'])
    colours = np.array(list(palette) + [(255, 255, 255)] * (256 - len(palette)), np.uint8)
    samples = {r['name']: np.load(osp.join(r['work_dir'], SAMPLE_FILE))
               for r in rows if osp.isfile(osp.join(r['work_dir'], SAMPLE_FILE))}
    blank = np.full((8, 8, 3), 255, np.uint8)  # a run kept without its sample prediction
    image = rows[0]['sample_img_path']
    panels = [('image', mmcv.imread(image, channel_order='rgb') if osp.isfile(image) else blank)]
    gt = next(iter(samples.values()))['gt'] if samples else None
    panels.append(('ground truth', blank if gt is None else colours[gt]))
    for r in rows:
        sample = samples.get(r['name'])
        panels.append((f"{r['label']}\nmIoU {r['mIoU']:.1f}",
                       blank if sample is None else colours[sample['pred']]))
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


def scheduled_config(path, iters=None, batch_size=None, cfg_options=None):
    """A network's config with ``cfg_options`` merged and its first schedule applied."""
    cfg = load_config(path, cfg_options)
    return apply_schedule(cfg, iters or cfg.train_cfg.max_iters,
                          batch_size or cfg.train_dataloader.batch_size)


def train_network(path, work_dir, iters=None, batch_size=None, cfg_options=None,
                  tolerance=1.0, max_doublings=2, threads=None):
    """Train one config until its validation mIoU plateaus (:func:`train_converged`).

    Returns:
        dict: As :func:`train_converged`.
    """
    if threads:
        torch.set_num_threads(threads)
    cfg = scheduled_config(path, iters, batch_size, cfg_options)
    return train_converged(cfg, osp.join(work_dir, network_name(path)), tolerance,
                           max_doublings)


def train_all(configs, work_dir, jobs=1, threads=None, **kwargs):
    """Train every config (:func:`train_network`), ``jobs`` at a time in separate processes.

    Returns:
        dict[str, str]: Config -> error message, for the networks whose training failed.
    """
    failures = {}
    if jobs <= 1:
        for path in configs:
            train_network(path, work_dir, threads=threads, **kwargs)
        return failures
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context('spawn')) as pool:
        futures = {path: pool.submit(train_network, path, work_dir, threads=threads, **kwargs)
                   for path in configs}
        for path, future in futures.items():
            try:
                future.result()
            except Exception as e:  # noqa: BLE001 (reported per network, the others go on)
                failures[path] = f'{type(e).__name__}: {e}'
    return failures


def compare(configs, work_dir, out_dir=None, iters=None, batch_size=None, num_images=None,
            groups=None, train_missing=True, cfg_options=None, tolerance=1.0, max_doublings=2,
            jobs=1, threads=None):
    """Train (or resume, or reuse), evaluate and measure each config; write the table and the
    figures.

    Args:
        configs (Sequence[str]): Config files, one per network, all on the same task.
        work_dir (str): Parent of the per-network work dirs (named by :func:`network_name`).
        out_dir (str, optional): Where ``seg_compare.{md,json,png}`` and
            ``seg_compare_curves.png`` go. Defaults to ``work_dir``.
        iters (int, optional): First schedule for all (default: each config's own).
        batch_size (int, optional): Training batch for all (default: each config's own).
        num_images (int, optional): Score the first ``num_images`` test images only.
        groups (dict, optional): Class groups; :data:`PART_GROUPS` when the task's classes
            are the synthetic parts.
        train_missing (bool): Train networks without a finished work dir; if False such a
            network fails with an error naming its work dir.
        cfg_options (dict, optional): Overrides merged into every config (``--cfg-options``).
        tolerance (float): Plateau tolerance in mIoU points.
        max_doublings (int): At most this many schedule doublings per network.
        jobs (int): Networks trained side by side, one process each.
        threads (int, optional): Torch threads per training process.

    Returns:
        list[dict]: The table rows.
    """
    out_dir = out_dir or work_dir
    common = dict(iters=iters, batch_size=batch_size, cfg_options=cfg_options,
                  tolerance=tolerance, max_doublings=max_doublings)
    if train_missing:
        failures = train_all(configs, work_dir, jobs=jobs, threads=threads, **common)
        if failures:
            raise RuntimeError('training failed: ' + '; '.join(
                f'{p}: {e}' for p, e in failures.items()))
    rows, meta = [], None
    for path in configs:
        cfg = scheduled_config(path, iters, batch_size, cfg_options)
        name = network_name(path)
        net_dir = osp.join(work_dir, name)
        try:
            run = train_converged(cfg, net_dir, tolerance, max_doublings, train_missing=False)
        except FileNotFoundError as e:
            raise FileNotFoundError(f'{path}: {e}') from None
        if meta is None:
            from mmengine.registry import DATASETS
            with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
                meta = DATASETS.get(cfg.test_dataloader.dataset.type).METAINFO
            if groups is None and set(PART_GROUPS['thin']) <= set(meta['classes']):
                groups = PART_GROUPS
        metrics = evaluate(cfg, run['checkpoint'], run['run_dir'], groups=groups,
                           num_images=num_images)
        row = dict(name=name, label=LABELS.get(name, name), config=path,
                   work_dir=run['run_dir'], recipe=recipe(cfg), iters=run['iters'],
                   batch=cfg.train_dataloader.batch_size, train_s=run['train_s'],
                   converged=run['converged'], curve=run['curve'],
                   **measured(cfg, run['run_dir']), **metrics)
        _write_json(osp.join(net_dir, SUMMARY_FILE), row)
        rows.append(row)
    os.makedirs(out_dir, exist_ok=True)
    write_table(rows, meta['classes'], osp.join(out_dir, 'seg_compare.md'),
                groups=list(groups or ()))
    write_figure(rows, meta['palette'], osp.join(out_dir, 'seg_compare.png'))
    write_curves(rows, osp.join(out_dir, 'seg_compare_curves.png'))
    return rows


def keep_runs(work_dir, dest, names=None):
    """Copy what the table is rebuilt from, without checkpoints, from ``work_dir`` to
    ``dest``: per network ``summary.json`` and, per finished schedule, mmengine's
    ``scalars.json`` and the scores, speed and sample prediction. ``compare(..., work_dir=dest,
    train_missing=False)`` then rebuilds the same table.

    Args:
        work_dir (str): The comparison's work dir.
        dest (str): Where the copies go (``<network>/...`` as in ``work_dir``).
        names (Sequence[str], optional): Networks to copy. Defaults to all in ``work_dir``.

    Returns:
        list[str]: The copied files, relative to ``dest``.
    """
    import shutil
    copied = []
    for name in names or sorted(os.listdir(work_dir)):
        files = glob.glob(osp.join(work_dir, name, SUMMARY_FILE))
        for run_dir in sorted(glob.glob(osp.join(work_dir, name, 'iters_*'))):
            curve = val_curve(run_dir)
            if not curve or str(curve[-1][0]) != run_dir.rsplit('_', 1)[-1]:
                continue  # unfinished: its checkpoints resume it, its logs alone do not
            files += glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json'))
            files += [osp.join(run_dir, f) for f in (METRICS_FILE, MEASURE_FILE, SAMPLE_FILE)
                      if osp.isfile(osp.join(run_dir, f))]
        for src in sorted(files):
            rel = osp.relpath(src, work_dir)
            os.makedirs(osp.dirname(osp.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, osp.join(dest, rel))
            copied.append(rel)
    return copied
