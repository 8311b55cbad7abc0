"""Speed of every inference path against the upstream eager model, same weights, one run.

A path is a callable ``f(inputs) -> outputs`` over the exported part of a model (pose: backbone
+ head, seg: backbone + decode head, det: backbone + neck). Each is timed on the same input,
its output compared with the upstream fp32 one, and its peak memory taken from the resident
set's high-water mark (reset before the path runs).
"""
import copy
import os.path as osp
import statistics
import tempfile
import time

import torch

from mmhrnet.utils import fidelity

from mmhrnet.deploy.backend import get_backend
from mmhrnet.deploy.export import ONNX_FILE, onnx_export
from mmhrnet.deploy.optimize import optimize_model
from mmhrnet.deploy.task import ExportedNet
from mmhrnet.utils.build import build_model, config_file, load_config
from mmhrnet.utils.complexity import complexity
from mmhrnet.utils.cpu import cpu_has_bf16

# task -> (config, default input (H, W), upstream package)
TASK_MODELS = {
    'pose': ('mmhrnet::pose/hrnet_w32_coco.py', (256, 192), 'mmpose'),
    'seg': ('mmhrnet::seg/hrnetv2_w18_cityscapes.py', (512, 1024), 'mmseg'),
    'det': ('mmhrnet::det/faster_rcnn_hrnetv2p_w32_coco.py', (800, 1344), 'mmdet'),
}
OPTIONS = {'seg': {'model.backbone.norm_cfg': dict(type='BN'),
                   'model.decode_head.norm_cfg': dict(type='BN')}}


def _rss(field):
    with open('/proc/self/status') as f:
        return int(next(line for line in f if line.startswith(field + ':')).split()[1]) * 1024


def _reset_peak():
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass


def _first_call(fn, inputs):
    """``fn(inputs)`` once (the warm-up): its output and the resident memory it grew (bytes)."""
    _reset_peak()
    base = _rss('VmRSS')
    out = fn(inputs)
    return out, max(_rss('VmHWM') - base, 0)


def time_path(fn, inputs, min_seconds=2.0, min_iters=2):
    """Median latency (s) of ``fn(inputs)`` after one warm-up, the output, and the peak
    resident memory growth (bytes) of the warm-up."""
    out, peak = _first_call(fn, inputs)
    times, start = [], time.perf_counter()
    while len(times) < min_iters or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn(inputs)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out, peak


ROUNDS = 3


def time_paths(paths, inputs, min_seconds=2.0, rounds=ROUNDS, progress=None):
    """:func:`time_path` of every path, interleaved: each path runs once (its output and peak
    memory), then ``rounds`` rounds time every path in turn for ``min_seconds / rounds``, so
    that no path is favoured by its place in the order (a CPU's clocks and caches drift over
    a run). ``progress`` advances by one per path and round (integer steps: fractions of a
    row summed to 14.000000000000007 of 14). Returns ``{name: (median latency, output, peak
    bytes)}``."""
    first = {name: _first_call(fn, inputs) for name, fn in paths.items()}
    times = {name: [] for name in paths}
    for _ in range(rounds):
        for name, fn in paths.items():
            start = time.perf_counter()
            while time.perf_counter() - start < min_seconds / rounds or not times[name]:
                t = time.perf_counter()
                fn(inputs)
                times[name].append(time.perf_counter() - t)
            if progress is not None:
                progress.update(1)
    return {name: (statistics.median(times[name]), *first[name]) for name in paths}


def cpu_peaks(threads, seconds=1.0):
    """Measured multiply-adds per second (GMAC/s) of an fp32 3x3 convolution and a bf16 matmul
    on this CPU (torch): a reference line for the rows, not a bound (fused and Winograd kernels
    beat it)."""
    torch.set_num_threads(threads)
    conv = torch.nn.Conv2d(128, 128, 3, padding=1, bias=False).eval()
    x = torch.randn(8, 128, 56, 56)
    conv_macs = 128 * 128 * 9 * 56 * 56 * 8
    a = torch.randn(2048, 2048, dtype=torch.bfloat16)
    mm_macs = 2048 ** 3
    with torch.no_grad():
        conv_t = time_path(conv, x, seconds)[0]
        mm_t = time_path(lambda m: m @ m, a, seconds)[0]
    return dict(fp32_conv=conv_macs / conv_t / 1e9, bf16_matmul=mm_macs / mm_t / 1e9)


def upstream_model(cfg, package, ours_model):
    """The config's model with the upstream package's own HRNet (and, for det, HRFPN); the
    heads get the input channels ``ours_model``'s read from our backbone (upstream HRNets
    declare none)."""
    from mmhrnet.models import arch_to_extra
    up = copy.deepcopy(cfg)
    ours = up.model.backbone
    extra = ours.get('extra') or arch_to_extra(ours.get('arch', 'w32'))
    if package == 'mmpose':  # mmpose's HRNetV1 returns the 1/4 branch only
        extra['stage4']['multiscale_output'] = False
    up.model.backbone = dict(type='HRNet', extra=extra,
                             **{k: ours[k] for k in ('norm_cfg', 'norm_eval') if k in ours})
    for head in ('head', 'decode_head'):
        if head in up.model:  # HRNetV2Head: the branches' channels, before the concat
            built = getattr(ours_model, head)
            channels = getattr(built, 'branch_channels', built.in_channels)
            up.model[head].in_channels = list(channels) if isinstance(channels, tuple) \
                else channels
    if package == 'mmdet':  # mmdet's HRFPN (no norm: it ignores norm_cfg), the shared options
        neck = dict(up.model.neck)
        if 'pooling_type' in neck:  # mmdet spells it 'AVG' / 'MAX'
            neck['pooling_type'] = str(neck['pooling_type']).upper()
        up.model.neck = dict(type='HRFPN', in_channels=list(extra['stage4']['num_channels']),
                             out_channels=neck['out_channels'],
                             **{k: neck[k] for k in ('num_outs', 'pooling_type', 'conv_cfg',
                                                     'stride') if k in neck})
    return build_model(up)


def build_paths(task, cfg, model, upstream, shape, batch, workdir, precisions, calib=4,
                compile=False, log=print, profile=False):
    """The named callables to time: upstream eager, mmhrnet eager / fast torch, and the
    exported model on each backend and precision (int8 calibrated on random inputs); with
    ``profile``, each OpenVINO one carries a twin session that records per-layer times."""
    bf16 = bool(cpu_has_bf16())  # torch and OpenVINO alike
    paths = {}
    up_net, net = ExportedNet(upstream, task).eval(), ExportedNet(model, task).eval()
    paths['upstream fp32 eager'] = up_net
    paths['mmhrnet fp32 eager'] = net
    paths['mmhrnet fp32 fast (fold BN + NHWC)'] = ExportedNet(
        optimize_model(copy.deepcopy(model)), task)
    if compile:
        paths['mmhrnet fp32 fast + compile'] = ExportedNet(
            optimize_model(copy.deepcopy(model), compile=True), task)
    if bf16 and 'bf16' in precisions:
        paths['mmhrnet bf16 fast (autocast)'] = ExportedNet(
            optimize_model(copy.deepcopy(model), precision='bf16'), task)
    onnx_file = osp.join(workdir, ONNX_FILE)
    example = torch.randn(batch, 3, *shape)
    log(f'{task}: exporting to ONNX at {tuple(example.shape)}')
    onnx_export(net, example, onnx_file)
    gen = torch.Generator().manual_seed(1)
    calib_inputs = [torch.randn(batch, 3, *shape, generator=gen).numpy() for _ in range(calib)]
    threads = torch.get_num_threads()
    for backend in ('onnxruntime', 'openvino'):
        mod = get_backend(backend)
        source = onnx_file
        for precision in precisions:
            if precision == 'bf16' and (backend == 'onnxruntime' or not bf16):
                continue
            log(f'{task}: {backend} {precision}')
            file = mod.convert(source, workdir, precision,
                               calib_inputs if precision == 'int8' else None)
            if backend == 'openvino' and precision != 'int8':
                source = osp.join(workdir, file)  # convert the ONNX file once
            session = mod.Session(osp.join(workdir, file), precision, threads)
            paths[f'{backend} {precision}'] = _numpy_path(session)
            if profile and backend == 'openvino':
                paths[f'{backend} {precision}'].profiled = mod.Session(
                    osp.join(workdir, file), precision, threads, profile=True)
    return paths


def _numpy_path(session):
    def run(inputs):
        return [torch.from_numpy(o) for o in session(inputs.numpy())]
    return run


def profile_path(fn, inputs):
    """Milliseconds of one call of a path per operation: per aten op (self time) for a torch
    path, per (layer type, kernel) for an OpenVINO one."""
    session = getattr(fn, 'profiled', None)
    if session is not None:
        session(inputs.numpy())
        session(inputs.numpy())
        return session.layer_times()
    if not isinstance(fn, torch.nn.Module):
        return None  # onnxruntime: no per-layer profile here
    from torch.profiler import ProfilerActivity, profile
    fn(inputs)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn(inputs)
    return {(e.key, ''): e.self_cpu_time_total / 1e3 for e in prof.key_averages()
            if e.self_cpu_time_total > 0}


def format_profile(times, top=6):
    """``'<total> ms: op [kernel] share, ...'`` of the ``top`` most costly operations."""
    total = sum(times.values())
    items = sorted(times.items(), key=lambda kv: -kv[1])[:top]
    return f'{total:.0f} ms: ' + ', '.join(
        f'{op}{f" [{kernel}]" if kernel else ""} {ms / total:.0%}' for (op, kernel), ms in items)


def benchmark_task(task, batch_sizes, precisions=('fp32', 'bf16', 'int8'), shape=None,
                   min_seconds=2.0, compile=False, progress=None, log=print, profile=False):
    """Rows of one task: path, batch, img/s, latency, ratio to upstream, max diff, peak MB
    (and, with ``profile``, where each path's time goes: :func:`profile_path`)."""
    config, default, package = TASK_MODELS[task]
    # BN for SyncBN: one CPU process (the same arithmetic in eval mode)
    cfg = load_config(config_file(config), OPTIONS.get(task))
    shape = tuple(shape or default)
    torch.manual_seed(0)
    model = build_model(cfg)
    fidelity.randomize(model)  # random weights and BN statistics: differences show
    upstream = upstream_model(cfg, package, model)
    upstream.load_state_dict(model.state_dict(), strict=True)
    macs = complexity(ExportedNet(model, task), (torch.zeros(1, 3, *shape), ))['macs']
    rows = []
    for batch in batch_sizes:
        with tempfile.TemporaryDirectory() as tmp:
            paths = build_paths(task, cfg, model, upstream, shape, batch, tmp, precisions,
                                compile=compile, log=log, profile=profile)
            x = torch.randn(batch, 3, *shape, generator=torch.Generator().manual_seed(2))
            with torch.no_grad():
                timed = time_paths(paths, x, min_seconds, progress=progress)
            ref_latency, ref, _ = next(iter(timed.values()))  # the upstream eager row
            for name, (latency, out, peak) in timed.items():
                rows.append(dict(task=task, path=name, batch=batch, img_s=batch / latency,
                                 latency_ms=latency * 1e3, ratio=ref_latency / latency,
                                 max_rel_diff=fidelity.max_rel_diff(ref, out),
                                 peak_mb=peak / 2**20,
                                 shape=shape, macs=macs))
                if profile:
                    with torch.no_grad():
                        times = profile_path(paths[name], x)
                    rows[-1]['profile'] = format_profile(times) if times else None
    return rows


def count_paths(precisions, compile, bf16):
    n = 3 + int(compile) + int(bf16 and 'bf16' in precisions)
    return n + sum(1 for b in ('onnxruntime', 'openvino') for p in precisions
                   if not (p == 'bf16' and (b == 'onnxruntime' or not bf16)))


def format_table(rows):
    lines = ['| task | input | path | batch | img/s | latency ms | vs upstream | max rel diff '
             '| peak MB |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {r['task']} | {r['shape'][0]}x{r['shape'][1]} | {r['path']} | "
                     f"{r['batch']} | {r['img_s']:.2f} | {r['latency_ms']:.1f} | "
                     f"{r['ratio']:.2f}x | {r['max_rel_diff']:.1e} | {r['peak_mb']:.0f} |")
    return '\n'.join(lines)


def plot(rows, path):
    """A bar chart of each path's speed relative to the upstream eager model."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    groups = sorted({(r['task'], r['batch']) for r in rows},
                    key=lambda g: (list(TASK_MODELS).index(g[0]), g[1]))
    sels = [[r for r in rows if r['task'] == task and r['batch'] == batch]
            for task, batch in groups]
    same = all([r['path'] for r in sel] == [r['path'] for r in sels[0]] for sel in sels)
    fig, axes = plt.subplots(1, len(groups), figsize=(2.6 * len(groups) + 2.4, 4.5),
                             squeeze=False, sharey=same)
    for ax, (task, batch), sel in zip(axes[0], groups, sels):
        ax.barh([r['path'] for r in sel], [r['ratio'] for r in sel],
                color=['#888' if r['path'].startswith('upstream') else '#3a7' for r in sel])
        ax.axvline(1.0, color='k', lw=0.8)
        for i, r in enumerate(sel):
            ax.text(r['ratio'], i, f" {r['ratio']:.2f}x", va='center', fontsize=8)
        ax.set_title(f'{task}, {sel[0]["shape"][0]}x{sel[0]["shape"][1]}, batch {batch}')
        ax.set_xlabel('speed vs upstream fp32 eager')
    axes[0][0].invert_yaxis()  # the first path on top (shared by all panels when same)
    if not same:
        for ax in axes[0][1:]:
            ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
