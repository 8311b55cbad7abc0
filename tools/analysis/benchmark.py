"""Inference speed and memory of mmhrnet.HRNet vs mmpose's HRNet, same weights, one run.

    python tools/analysis/benchmark.py                    # W32, 256x192, batch 1 and 32, CPU
    python tools/analysis/benchmark.py --device cuda --batch-sizes 1 32 128

Each row runs in a fresh process, so "peak MB" is that row's own peak above the loaded
model (CPU: growth of the resident set during inference; CUDA: peak allocated). "max rel
diff" is the largest absolute difference from mmpose's fp32 output, over that output's largest
magnitude. The bf16 rows run under ``torch.autocast`` with channels_last: fast where the CPU
has AMX; slower than fp32 without it (0.58-0.89x on a Xeon with AVX512-BF16 but no AMX, far
slower where bf16 is emulated on AVX2).
"""
import argparse
import multiprocessing as mp
import os
import tempfile
import time

import torch

from mmhrnet.utils.fidelity import randomize

IMPLS = ('mmpose', 'mmhrnet')


def build(impl, arch):
    from mmhrnet.models import HRNet, arch_to_extra
    extra = arch_to_extra(arch)
    extra['stage4']['multiscale_output'] = False  # HRNetV1, as mmpose's pose configs
    if impl == 'mmpose':
        from mmpose.models.backbones import HRNet as PoseHRNet
        return PoseHRNet(extra=extra)
    return HRNet(extra=extra)


def rss(field):
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, in bytes."""
    with open('/proc/self/status') as f:
        line = next(line for line in f if line.startswith(field + ':'))
    return int(line.split()[1]) * 1024


def reset_peak_rss():
    """Reset ``VmHWM``, so that loading the weights does not count as the inference peak."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def run_row(impl, precision, batch, args, weights, probe, queue):
    torch.set_num_threads(args.threads)
    model = build(impl, args.arch)
    model.load_state_dict(torch.load(weights), strict=True)
    model.eval()  # mmpose's train() returns None, so no chaining
    device = torch.device(args.device)
    model.to(device)
    bf16 = precision == 'bf16'
    if bf16:
        model.to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, *args.shape, device=device)
    probe = probe.to(device)

    def forward(inp):
        with torch.no_grad(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
            if bf16:
                inp = inp.contiguous(memory_format=torch.channels_last)
            return model(inp)[0]

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize()

    sync()
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        reset_peak_rss()
        base = rss('VmRSS')
    out = forward(probe).float().cpu().numpy()
    forward(x)  # warm-up
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        forward(x)
        sync()
        times.append(time.perf_counter() - start)
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = rss('VmHWM') - base
    queue.put(dict(latency=sum(times) / len(times), peak=max(peak, 0), out=out))


def measure(impl, precision, batch, args, weights, probe):
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    proc = ctx.Process(target=run_row, args=(impl, precision, batch, args, weights, probe, queue))
    proc.start()
    res = queue.get()
    proc.join()
    return res


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--arch', default='w32')
    parser.add_argument('--shape', type=int, nargs=2, default=(256, 192), metavar=('H', 'W'))
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=(1, 32))
    parser.add_argument('--iters', type=int, default=3, help='timed iterations per row')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--precisions', nargs='+', default=('fp32', 'bf16'))
    args = parser.parse_args()
    args.shape = tuple(args.shape)

    # Random weights and BN statistics, so that a mismatch anywhere shows up in the outputs.
    state = randomize(build('mmpose', args.arch))
    probe = torch.randn(1, 3, *args.shape)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, 'weights.pth')
        torch.save(state, weights)
        results = {}
        for precision in args.precisions:
            for batch in args.batch_sizes:
                for impl in IMPLS:
                    results[impl, precision, batch] = measure(impl, precision, batch, args,
                                                              weights, probe)
    ref = results['mmpose', args.precisions[0], args.batch_sizes[0]]['out']
    scale = abs(ref).max()
    print(f'HRNet-{args.arch.upper()} backbone, input {args.shape[0]}x{args.shape[1]}, '
          f'{args.device}, {args.threads} threads, {args.iters} timed iterations per row')
    head = (f"{'impl':<8} {'precision':<9} {'batch':>5} {'img/s':>8} {'latency ms':>11} "
            f"{'peak MB':>9} {'max rel diff':>13}")
    print(head)
    print('-' * len(head))
    for (impl, precision, batch), r in results.items():
        diff = abs(r['out'] - ref).max() / scale
        print(f"{impl:<8} {precision:<9} {batch:>5} {batch / r['latency']:>8.2f} "
              f"{r['latency'] * 1e3:>11.1f} {r['peak'] / 2**20:>9.0f} {diff:>13.2e}")
    print('\nratio mmhrnet / mmpose (speed > 1 is faster, memory < 1 is smaller)')
    for precision in args.precisions:
        for batch in args.batch_sizes:
            a, b = results['mmhrnet', precision, batch], results['mmpose', precision, batch]
            mem = a['peak'] / b['peak'] if b['peak'] else float('nan')
            print(f'{precision:<9} batch {batch:>3}: speed {b["latency"] / a["latency"]:.2f}x, '
                  f'peak memory {mem:.2f}x')


if __name__ == '__main__':
    main()
