"""Whole-model speed and accuracy of the exported two-stage detector and multi-task model
against the same model in eager torch: every image through ``test_step`` (preprocessing, the
graphs, mmdet's RoIAlign / NMS / mask pasting, keypoint decoding), one image a call, the box
and mask AP of each path on the same images, and how far its boxes and keypoints moved from
torch's.
"""
import os.path as osp
import time

import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope

from mmhrnet.deploy import export_model, load_backend_model
from mmhrnet.tasks import TASKS
from mmhrnet.utils.build import build_model, load_config

PATHS = (('onnxruntime', 'fp32'), ('openvino', 'fp32'), ('openvino', 'int8'))
METRICS = tuple(TASKS['det'].metrics.values())  # box and mask AP


def _metric(metrics, key):
    """``key`` of mmdet's CocoMetric, also under a multi-task metric's ``det/`` prefix."""
    for name, value in metrics.items():
        if name == key or name.endswith('/' + key.split('/')[-1]) and 'det' in name:
            return value
    return None


def _largest_change(outputs, reference, key):
    """Largest absolute difference (pixels) of ``pred_instances.<key>`` from the reference,
    over the images whose instance counts agree; None without such instances."""
    worst = None
    for out, ref in zip(outputs, reference):
        a, b = out[0].pred_instances, ref[0].pred_instances
        if key in a and key in b and len(a) == len(b) and len(a):
            diff = float((torch.as_tensor(a[key]) - torch.as_tensor(b[key])).abs().max())
            worst = diff if worst is None else max(worst, diff)
    return worst


def _run(cfg, model, batches, dataset, evaluate=True):
    """Seconds per image of ``model.test_step`` over ``batches`` (one warm-up call first), the
    metrics of its outputs and the outputs."""
    with torch.no_grad():
        model.test_step(batches[0])
        start = time.perf_counter()
        outputs = [model.test_step(b) for b in batches]
        seconds = (time.perf_counter() - start) / len(batches)
    metrics = {}
    if evaluate:
        evaluator = Evaluator(cfg.test_evaluator)
        evaluator.dataset_meta = dataset.metainfo
        for batch, out in zip(batches, outputs):
            evaluator.process(data_samples=out, data_batch=batch)
        metrics = evaluator.evaluate(len(batches))
    return seconds, metrics, outputs


def benchmark_model(config, checkpoint, work_dir, num_images=8, paths=PATHS, calib=4,
                    cfg_options=None, log=print):
    """Rows ``dict(path, precision, s_per_img, ratio, bbox_mAP, segm_mAP, box_px,
    keypoint_px)`` of one model: eager torch first, then each exported ``(backend, precision)``
    of ``paths``; ``*_px``: the largest change of a box / keypoint coordinate from torch's on
    the images where both find as many instances."""
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.default_scope)
    from mmengine.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    batches = [pseudo_collate([dataset[i]]) for i in range(min(num_images, len(dataset)))]
    evaluate = checkpoint is not None  # random weights: speed only
    rows = []
    model = build_model(cfg, checkpoint)
    seconds, metrics, reference = _run(cfg, model, batches, dataset, evaluate)
    rows.append(dict(path='torch eager', precision='fp32', s_per_img=seconds, ratio=1.0,
                     box_px=0., keypoint_px=0.,
                     **{k.split('/')[-1]: _metric(metrics, k) for k in METRICS}))
    log(f'torch fp32: {seconds * 1e3:.0f} ms/img {metrics}')
    out = osp.join(work_dir, osp.splitext(osp.basename(str(config)))[0])
    for backend, precision in paths:
        export_model(config, checkpoint, out, backend=backend, precision=precision,
                     calib=calib, cfg_options=cfg_options, logger=log)
        exported = load_backend_model(out, backend, precision=precision)
        seconds, metrics, outputs = _run(exported.cfg, exported, batches, dataset, evaluate)
        rows.append(dict(path=backend, precision=precision, s_per_img=seconds,
                         ratio=rows[0]['s_per_img'] / seconds,
                         box_px=_largest_change(outputs, reference, 'bboxes'),
                         keypoint_px=_largest_change(outputs, reference, 'keypoints'),
                         **{k.split('/')[-1]: _metric(metrics, k) for k in METRICS}))
        log(f'{backend} {precision}: {seconds * 1e3:.0f} ms/img {metrics}')
    return rows


def format_rows(rows, title):
    """A markdown table: torch eager beside each exported path, their speed ratio and the
    box / mask AP of each with its change from torch."""
    ref = rows[0]

    def ap(row, key):
        if row[key] is None:
            return 'n/a'
        change = '' if row is ref else f' ({(row[key] - ref[key]) * 100:+.1f})'
        return f'{row[key]:.3f}{change}'

    def px(value):
        return 'n/a' if value is None else f'{value:.1e}'

    lines = [f'| {title} | precision | ms / image | img/s | ratio to torch | box AP | mask AP '
             '| max box change (px) | max keypoint change (px) |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {r['path']} | {r['precision']} | {r['s_per_img'] * 1e3:.1f} | "
                     f"{1 / r['s_per_img']:.1f} | {r['ratio']:.2f}x | {ap(r, 'bbox_mAP')} | "
                     f"{ap(r, 'segm_mAP')} | {px(r['box_px'])} | {px(r['keypoint_px'])} |")
    return '\n'.join(lines)
