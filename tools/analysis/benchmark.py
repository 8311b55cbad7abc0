"""Inference speed of every path (upstream eager, mmhrnet eager / fast torch / bf16, ONNX
Runtime and OpenVINO at fp32 / bf16 / int8) against the upstream eager model, same weights,
one run.

    python tools/analysis/benchmark.py                       # pose, batch 1 and 8
    python tools/analysis/benchmark.py --task all --out docs/benchmark.png
    python tools/analysis/benchmark.py --task seg --batch-sizes 1 --shape 512 1024

Models: pose HRNet-W32 + head at 256x192 (``hrnet_w32_coco.py`` vs mmpose's HRNet), seg
HRNetV2-W18 + head at 512x1024 (vs mmseg's HRNet), det HRNetV2p-W32 backbone + HRFPN at
800x1344 (vs mmdet's HRNet + HRFPN); random weights and BN statistics. "vs upstream" is the
speed ratio to the upstream fp32 eager row of the same batch, "max rel diff" the largest
difference from its output over the output's largest magnitude, "peak MB" the growth of the
resident set while the row ran. int8 is calibrated on random inputs here: its accuracy on
trained weights is what docs/deploy.md measures. Each row is timed for at least --seconds, in
three rounds that interleave the rows (no row gains from its place in the order). The line of
img/s that the conv / matmul micro-benchmarks imply is a reference, not a ceiling. The
end-to-end pipeline (image files in, COCO JSON out) has its own command:
tools/analysis/benchmark_e2e.py.
"""
import argparse
import json

import torch
from tqdm import tqdm

from mmhrnet.analysis.backend_bench import (ROUNDS, TASK_MODELS, benchmark_task, count_paths,
                                             cpu_peaks, format_table, plot)
from mmhrnet.utils.cpu import cpu_flags, cpu_has_bf16, cpu_model
from mmhrnet.utils.complexity import published_gflops


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--task', choices=[*TASK_MODELS, 'all'], default='pose')
    parser.add_argument('--batch-sizes', type=int, nargs='+', help='default: pose 1 8, '
                        'seg / det 1')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    parser.add_argument('--precisions', nargs='+', default=['fp32', 'bf16', 'int8'],
                        choices=['fp32', 'bf16', 'int8'])
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--seconds', type=float, default=2.0, help='timing per row')
    parser.add_argument('--compile', action='store_true', help='add a torch.compile row')
    parser.add_argument('--out', help='bar chart PNG of the table')
    parser.add_argument('--json', help='also write the rows here')
    parser.add_argument('--profile', action='store_true', help='also print where each torch '
                        'and OpenVINO path spends its time (per op / per layer and kernel)')
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    tasks = list(TASK_MODELS) if args.task == 'all' else [args.task]
    batches = {t: args.batch_sizes or ([1, 8] if t == 'pose' else [1]) for t in tasks}
    flags = cpu_flags() or set()
    bf16 = bool(cpu_has_bf16())
    total = ROUNDS * sum(len(batches[t]) for t in tasks) * count_paths(
        args.precisions, args.compile, bf16)
    peaks = cpu_peaks(args.threads)
    rows = []
    with tqdm(total=total, desc=f'benchmark (rows x {ROUNDS} rounds)', unit='timing') as bar:
        for task in tasks:
            rows += benchmark_task(task, batches[task], args.precisions, args.shape,
                                   args.seconds, args.compile, progress=bar, log=bar.write,
                                   profile=args.profile)
            if len(tasks) > 1:
                bar.write(format_table([r for r in rows if r['task'] == task]))
            if args.json:  # what is measured survives a later task's failure
                with open(args.json, 'w') as f:
                    json.dump(dict(rows=rows, peaks=peaks), f, indent=1)
    print(f'\nCPU: {cpu_model()}, {args.threads} threads, torch '
          f'{torch.backends.cpu.get_cpu_capability()}; AMX {"amx_bf16" in flags}, '
          f'AVX512-BF16 {"avx512_bf16" in flags}, VNNI {"avx512_vnni" in flags}')
    print(f'reference micro-benchmarks (torch): fp32 3x3 conv {peaks["fp32_conv"]:.0f} '
          f'GMAC/s, bf16 matmul {peaks["bf16_matmul"]:.0f} GMAC/s')
    for task in tasks:
        macs = next(r['macs'] for r in rows if r['task'] == task)
        gmacs = macs / 1e9
        print(f'{task}: {gmacs:.2f} GMACs per image (the papers\' {published_gflops(macs):.2f} '
              f'"GFLOPs") -> reference lines fp32 {peaks["fp32_conv"] / gmacs:.2f} img/s, bf16 '
              f'{peaks["bf16_matmul"] / gmacs:.2f} img/s (references, not bounds: fused and '
              'Winograd kernels beat them)')
    print()
    print(format_table(rows))
    if args.profile:
        print('\nwhere the time goes (one call):')
        for r in rows:
            if r.get('profile'):
                print(f"- {r['task']} batch {r['batch']}, {r['path']}: {r['profile']}")
    if args.out:
        plot(rows, args.out)
        print(f'bar chart: {args.out}')


if __name__ == '__main__':
    main()
