"""The test metric of one checkpoint on every path: torch fp32 (the reference), the fast torch
path at fp32 / bf16, and the exported model on each backend and precision."""
import os.path as osp
import time

from mmhrnet.tasks import TASKS, task_of

from mmhrnet.deploy.backend_model import load_backend_model
from mmhrnet.deploy.evaluate import evaluate
from mmhrnet.deploy.export import export_model
from mmhrnet.deploy.optimize import optimize_model
from mmhrnet.utils.build import build_model, load_config
from mmhrnet.utils.cpu import cpu_has_bf16



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
    """Rows ``dict(path, precision, metric, change, seconds)``; ``change`` in points against
    the first row (torch fp32). ``calib_source``: ``calib_images`` / ``calib_det`` /
    ``calib_bbox_file`` of :func:`export_model` (default: the config's training set)."""
    cfg = load_config(config, cfg_options)
    task = TASKS[task_of(cfg)]  # the metric it is judged on, in points
    key, scale = task.metric, task.scale
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
        value = evaluate(test_cfg, model, osp.join(out_dir, 'eval'))[key]
        reference = value if reference is None else reference
        rows.append(dict(path=path, precision=precision, metric=key, value=value,
                         change=(value - reference) * scale,
                         seconds=time.perf_counter() - start))
        log(f'{path} {precision}: {key} {value:.4f} (change {rows[-1]["change"]:+.2f} points)')
    return rows


def format_accuracy(rows, title):
    lines = [f'| {title} | precision | {rows[0]["metric"]} | change (points) | s |',
             '| --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {r['path']} | {r['precision']} | {r['value']:.4f} | "
                     f"{r['change']:+.2f} | {r['seconds']:.0f} |")
    return '\n'.join(lines)
