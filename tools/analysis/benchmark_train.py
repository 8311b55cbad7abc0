"""Training-step speed of a config's model in fp32 NCHW, fp32 channels_last and bf16 autocast +
channels_last, measured side by side in one run on the config's first real batch.

    python tools/analysis/benchmark_train.py   # the quickstart model and W32 256x192, batch 8
    python tools/analysis/benchmark_train.py CONFIG [CONFIG ...] --batch-size 8 --rounds 3

A step is forward, backward and the optimiser's update (the config's own optimiser), as in
``tools/train.py``; each variant builds a fresh model. Variants are timed in ``--rounds``
interleaved rounds of ``--steps`` steps (after one warm-up step each) and the median is printed,
so that none gains from its place in the order. The accuracy a precision keeps is measured by
training with it (``tools/train.py --amp``; docs/deploy.md), not here.
"""
import argparse
import statistics

import torch
from mmengine.config import Config, DictAction
from tqdm import tqdm

from mmhrnet.engine.precision import first_train_batch, time_train_steps
from mmhrnet.utils.cpu import cpu_has_amx, cpu_has_bf16, cpu_model

# The quickstart model, and HRNet-W32 at 256x192 (the COCO recipe) reading the synthetic people
# (the same COCO format) so that it runs without COCO on disk.
DEFAULTS = [
    ('configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py', {}),
    ('configs/pose/hrnet_w32_coco.py', {
        'train_dataloader.dataset.data_root': 'data/synthetic_people/',
        'train_dataloader.dataset.ann_file': 'annotations/person_keypoints_train.json',
        'train_dataloader.dataset.data_prefix': dict(img='train/'),
        'train_dataloader.batch_size': 8}),
]
VARIANTS = [('fp32 NCHW', None, False), ('fp32 channels_last', None, True),
            ('bf16 autocast + channels_last', 'bfloat16', True)]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='default: the quickstart model and W32')
    parser.add_argument('--batch-size', type=int, help='override the configs\' batch size')
    parser.add_argument('--steps', type=int, default=2, help='timed steps per round')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    jobs = [(c, args.cfg_options) for c in args.configs] or DEFAULTS
    variants = [v for v in VARIANTS if v[1] is None or cpu_has_bf16()]
    rows = []
    with tqdm(total=len(jobs) * len(variants) * args.rounds, desc='train steps') as bar:
        for config, options in jobs:
            cfg = Config.fromfile(config)
            cfg.merge_from_dict(options)
            if args.batch_size:
                cfg.train_dataloader.batch_size = args.batch_size
            data = first_train_batch(cfg)
            times = {name: [] for name, *_ in variants}
            for _ in range(args.rounds):
                for name, dtype, nhwc in variants:
                    times[name].append(time_train_steps(cfg, data, dtype, args.steps, nhwc))
                    bar.update(1)
            ref = statistics.median(times[variants[0][0]])
            for name, *_ in variants:
                t = statistics.median(times[name])
                rows.append((config.split('/')[-1], cfg.train_dataloader.batch_size, name, t,
                             ref / t, min(times[name]), max(times[name])))
    print(f'\nCPU: {cpu_model()}, {args.threads} threads, torch '
          f'{torch.backends.cpu.get_cpu_capability()}; AMX {bool(cpu_has_amx())}')
    print('| config | batch | precision | s / step | vs fp32 NCHW | range over rounds (s) |')
    print('| --- | --- | --- | --- | --- | --- |')
    for config, batch, name, t, ratio, lo, hi in rows:
        print(f'| {config} | {batch} | {name} | {t:.3f} | {ratio:.2f}x | {lo:.3f}-{hi:.3f} |')


if __name__ == '__main__':
    main()
