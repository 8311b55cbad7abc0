"""End-to-end speed of the person pipeline (image files in, COCO JSON out) on every backend and
precision against the upstream pipeline (mmdet ``inference_detector`` + mmpose
``inference_topdown``) with the same weights, at 1, 4 and 16 persons per image, beside the
network-only ratio of each path from the same run.

    python tools/analysis/benchmark_e2e.py                      # quick: synthetic W18-small models
    python tools/analysis/benchmark_e2e.py --preset published   # W32 256x192 pose, Faster R-CNN W18
    python tools/analysis/benchmark_e2e.py --counts 1 4 --scenarios "given boxes" \\
        --out docs/images/benchmark_e2e.png --json e2e.json

Random weights and BN statistics (the same in every path); int8 is calibrated on the benchmark's
own images (``export --calib-images``; pose on the persons' crops). img/s is the best of
--rounds runs over the folder of --images images (after one untimed run); latency the median
over those images of one image's ``predict`` (array in, results out). A kept --work-dir reuses
its exports. See mmhrnet/analysis/pipeline_bench.py for what runs; docs/deploy.md for results.
"""
import argparse
import tempfile

import torch
from tqdm import tqdm

from mmhrnet.analysis.pipeline_bench import (BF16_PATHS, PATHS, PRESETS, SCENARIOS,
                                             add_run_args, benchmark_pipeline, count_rows,
                                             default_paths, format_table, plot,
                                             preset_configs, row_saver)
from mmhrnet.utils.cpu import cpu_summary


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--preset', choices=list(PRESETS), default='quick')
    parser.add_argument('--pose-config', help='instead of the preset\'s')
    parser.add_argument('--det-config', help='instead of the preset\'s')
    parser.add_argument('--counts', type=int, nargs='+', default=[1, 4, 16],
                        help='persons per image')
    parser.add_argument('--images', type=int, default=4, help='images per count')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help='image size (default: the preset\'s)')
    parser.add_argument('--paths', nargs='+', default=list(default_paths()),
                        choices=list(PATHS + BF16_PATHS),
                        help='default: all, OpenVINO bf16 where the CPU has bf16 units')
    parser.add_argument('--scenarios', nargs='+', default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument('--net-seconds', type=float, default=1.0,
                        help='timing of each network-only measurement')
    add_run_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    pose, det = preset_configs(args.preset, args.pose_config, args.det_config)
    size = args.size or PRESETS[args.preset][2]
    total = count_rows(args.counts, args.paths, args.scenarios)
    save = row_saver(args.json)
    with tempfile.TemporaryDirectory() as tmp, \
            tqdm(total=total, desc='end to end', unit='row') as bar:
        rows = benchmark_pipeline(pose, det, args.work_dir or tmp, args.counts, args.images,
                                  tuple(size), args.paths, args.scenarios,
                                  args.rounds, args.net_seconds, progress=bar, log=bar.write,
                                  on_row=save)
    print(f'\nCPU: {cpu_summary()}, {args.threads} threads, torch '
          f'{torch.backends.cpu.get_cpu_capability()}')
    print(f'pose {pose.filename}\ndet {det.filename}\n')
    print(format_table(rows))
    if args.out:
        plot(rows, args.out)
        print(f'chart: {args.out}')


if __name__ == '__main__':
    main()
