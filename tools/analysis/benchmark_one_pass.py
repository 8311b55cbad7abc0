"""The one-pass multi-task model (torch, and exported to ONNX Runtime / OpenVINO at fp32 and
int8) against the three single-task torch models it replaces (detector, top-down pose on its
boxes, parsing segmentor), end to end: image files in, COCO JSON out, at 1, 4 and 16 persons
per image.

    python tools/analysis/benchmark_one_pass.py [--counts 1 4 16] [--images 4] [--rounds 2] \\
        [--paths torch "onnxruntime fp32" "openvino fp32" "onnxruntime int8" "openvino int8"] \\
        [--threads N] [--work-dir DIR] [--out chart.png] [--json rows.json]

Random weights and BN statistics (speed only; the accuracy each export keeps is measured by
tools/deploy/accuracy.py); see mmhrnet/analysis/one_pass_bench.py for what runs and
docs/deploy.md for results.
"""
import argparse
import tempfile

import torch
from tqdm import tqdm

from mmhrnet.analysis.one_pass_bench import (MULTITASK, PATHS, SPECIALISTS, benchmark_one_pass,
                                             format_rows, plot)
from mmhrnet.analysis.pipeline_bench import BF16_PATHS, add_run_args, default_paths, row_saver
from mmhrnet.utils.build import config_file, load_config
from mmhrnet.utils.cpu import cpu_summary


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--multitask', default=MULTITASK, help='multi-task config')
    for task, config in SPECIALISTS.items():
        parser.add_argument(f'--{task}', default=config, help=f'single-task {task} config')
    parser.add_argument('--counts', type=int, nargs='+', default=[1, 4, 16],
                        help='persons per image')
    parser.add_argument('--images', type=int, default=4, help='images per count')
    parser.add_argument('--size', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--paths', nargs='+', default=list(default_paths(PATHS)),
                        choices=list(PATHS + BF16_PATHS),
                        help='default: all, OpenVINO bf16 where the CPU has bf16 units')
    add_run_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    mt = load_config(config_file(args.multitask))
    specialists = {t: load_config(config_file(getattr(args, t))) for t in SPECIALISTS}
    save = row_saver(args.json)
    total = len(args.counts) * (len(args.paths) + 1)
    with tempfile.TemporaryDirectory() as tmp, \
            tqdm(total=total, desc='one pass vs three', unit='row') as bar:
        rows = benchmark_one_pass(mt, specialists, args.work_dir or tmp, args.counts,
                                  args.images, tuple(args.size), args.paths, args.rounds,
                                  progress=bar, log=bar.write, on_row=save)
    print(f'\nCPU: {cpu_summary()}, {args.threads} threads, torch '
          f'{torch.backends.cpu.get_cpu_capability()}')
    print(f'multitask {mt.filename}\n' +
          '\n'.join(f'{t} {c.filename}' for t, c in specialists.items()) + '\n')
    print(format_rows(rows))
    if args.out:
        plot(rows, args.out)
        print(f'chart: {args.out}')


if __name__ == '__main__':
    main()
