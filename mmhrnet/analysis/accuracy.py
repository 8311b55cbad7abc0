"""The test metric of one checkpoint on every path: torch fp32 (the reference), the fast torch
path at fp32 / bf16, and the exported model on each backend and precision."""
import os.path as osp
import time

from mmhrnet.deploy.backend_model import load_backend_model
from mmhrnet.deploy.evaluate import evaluate
from mmhrnet.deploy.export import export_model
from mmhrnet.deploy.optimize import optimize_model
from mmhrnet.tasks import MULTITASK, TASKS, multitask_key, task_of
from mmhrnet.utils.build import build_model, load_config
from mmhrnet.utils.cpu import cpu_has_bf16


def judged_metrics(task):
    """``[(column, key, scale)]``: what a model of ``task`` is judged on (its first metric;
    every part's metrics for the multi-task model)."""
    if task != MULTITASK:
        row = TASKS[task]
        return [(next(iter(row.metrics)), row.metric, row.scale)]
    return [(f'{name} {column}', multitask_key(name, column), row.scale)
            for name, row in TASKS.items() for column in row.metrics]


def all_paths():
    bf16 = bool(cpu_has_bf16())  # torch and OpenVINO alike
    paths = [('torch', 'fp32'), ('torch fast', 'fp32')] + ([('torch fast', 'bf16')] if bf16
                                                          else [])
    for backend in ('onnxruntime', 'openvino'):
        for precision in ('fp32', 'bf16', 'int8'):
            if precision != 'bf16' or (backend == 'openvino' and bf16):
                paths.append((backend, precision))
    return paths


def accuracy_table(config, checkpoint, out_dir, paths=None, calib=32, cfg_options=None,
                   log=print, **calib_source):
    """Rows ``dict(path, precision, values, changes, seconds)``: ``values`` maps each judged
    metric (:func:`judged_metrics`) to its value, ``changes`` to its change in points against
    the first row (torch fp32). ``calib_source``: ``calib_images`` / ``calib_det`` /
    ``calib_bbox_file`` of :func:`export_model` (default: the config's training set)."""
    cfg = load_config(config, cfg_options)
    metrics = judged_metrics(task_of(cfg))
    rows, reference = [], None
    for path, precision in paths or all_paths():
        start = time.perf_counter()
        if path.startswith('torch'):
            model = build_model(cfg, checkpoint)
            if path == 'torch fast':
                optimize_model(model, precision=precision)
            test_cfg = cfg
        else:
            export_model(config, checkpoint, out_dir, backend=path, precision=precision,
                         calib=calib, cfg_options=cfg_options, logger=log, **calib_source)
            model = load_backend_model(out_dir, path, precision=precision)
            test_cfg = model.cfg
        results = evaluate(test_cfg, model, osp.join(out_dir, 'eval'))
        values = {column: results[key] for column, key, _ in metrics}
        reference = values if reference is None else reference
        changes = {column: (values[column] - reference[column]) * scale
                   for column, _, scale in metrics}
        rows.append(dict(path=path, precision=precision, values=values, changes=changes,
                         seconds=time.perf_counter() - start))
        log(f'{path} {precision}: ' + ', '.join(f'{c} {values[c]:.4f} ({changes[c]:+.2f} '
                                                'points)' for c in values))
    return rows


def format_accuracy(rows, title):
    """The markdown table of :func:`accuracy_table`'s rows: each metric and its change."""
    columns = list(rows[0]['values'])
    lines = [f'| {title} | precision | ' + ' | '.join(f'{c} | change (points)'
                                                      for c in columns) + ' | s |',
             '| --- | --- | ' + '--- | --- | ' * len(columns) + '--- |']
    for r in rows:
        cells = ' | '.join(f"{r['values'][c]:.4f} | {r['changes'][c]:+.2f}" for c in columns)
        lines.append(f"| {r['path']} | {r['precision']} | {cells} | {r['seconds']:.0f} |")
    return '\n'.join(lines)
