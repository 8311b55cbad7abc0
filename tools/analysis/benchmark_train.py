"""Training-step speed of a config's model, measured side by side in one run on the config's
first real batch: on a CPU in fp32 NCHW, fp32 channels_last and bf16 autocast + channels_last;
on a GPU in fp32 and fp16 AMP (``--amp``'s mmengine ``AmpOptimWrapper``). ``--upstream`` adds
the same config with the upstream package's own HRNet (and HRFPN), the same batch, precision
and memory format, and prints ours / upstream.

    python tools/analysis/benchmark_train.py   # CPU: the quickstart model and W32 256x192, batch 8
    python tools/analysis/benchmark_train.py CONFIG [CONFIG ...] --batch-size 8 --rounds 3
    python tools/analysis/benchmark_train.py --device cuda --upstream   # pose W32, seg W48,
                                                  # Faster R-CNN W32 at their recipes' batch

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

from mmhrnet.analysis.backend_bench import upstream_model
from mmhrnet.engine.precision import first_train_batch, time_train_steps
from mmhrnet.utils.build import build_model
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
# On a GPU (or with --recipes): the three tasks' COCO / Cityscapes recipes (input size,
# per-GPU batch) reading the synthetic people through the recipes' own training pipelines.
SYNTHETIC = 'data/synthetic_people/'
RECIPES = [
    ('configs/pose/hrnet_w32_coco.py', {  # 256x192, 64 per GPU
        'train_dataloader.dataset.data_root': SYNTHETIC,
        'train_dataloader.dataset.ann_file': 'annotations/person_keypoints_train.json',
        'train_dataloader.dataset.data_prefix': dict(img='train/')}),
    ('configs/seg/hrnetv2_w48_cityscapes.py', {  # 512x1024 crops, 2 per GPU
        'train_dataloader.dataset.type': 'mmhrnet.SyntheticPartsDataset',
        'train_dataloader.dataset.data_root': SYNTHETIC,
        'train_dataloader.dataset.data_prefix': dict(img_path='train',
                                                     seg_map_path='parts/train')}),
    ('configs/det/faster_rcnn_hrnetv2p_w32_coco.py', {  # 1333x800, 2 per GPU
        'train_dataloader.dataset.data_root': SYNTHETIC,
        'train_dataloader.dataset.ann_file': 'annotations/person_keypoints_train.json',
        'train_dataloader.dataset.data_prefix': dict(img='train/')}),
]
# (name, autocast dtype, channels_last)
VARIANTS = [('fp32 NCHW', None, False), ('fp32 channels_last', None, True),
            ('bf16 autocast + channels_last', 'bfloat16', True)]
GPU_VARIANTS = [('fp32', None, False), ('fp16 AMP', 'float16', False)]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='default: the quickstart model and W32')
    parser.add_argument('--batch-size', type=int, help='override the configs\' batch size')
    parser.add_argument('--steps', type=int, default=2, help='timed steps per round')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument('--recipes', action='store_true',
                        help='the three recipes (the default on a GPU) rather than the CPU pair')
    parser.add_argument('--upstream', action='store_true',
                        help='also time the upstream package\'s HRNet under the same config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args()


def package_of(cfg):
    """The upstream package a config's HRNet drops into (its ``defaults``), or None."""
    backbone = cfg.model.get('backbone', {})
    return backbone.get('defaults') if 'HRNet' in str(backbone.get('type')) else None


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    gpu = torch.device(args.device).type == 'cuda'
    if gpu:
        torch.backends.cudnn.benchmark = True  # both sides alike; tuned in the warm-up steps
    jobs = [(c, args.cfg_options) for c in args.configs] or (
        [(c, {**o, **args.cfg_options}) for c, o in RECIPES] if gpu or args.recipes
        else DEFAULTS)
    if gpu:
        variants = GPU_VARIANTS
    else:
        variants = [v for v in VARIANTS if v[1] is None or cpu_has_bf16()]
    sides = ['mmhrnet', 'upstream'] if args.upstream else ['mmhrnet']
    rows = []
    with tqdm(total=len(jobs) * len(variants) * len(sides) * args.rounds,
              desc='train steps') as bar:
        for config, options in jobs:
            cfg = Config.fromfile(config)
            cfg.merge_from_dict(options)
            if args.batch_size:
                cfg.train_dataloader.batch_size = args.batch_size
            data = first_train_batch(cfg)
            package = package_of(cfg)
            ours = build_model(cfg) if args.upstream else None  # the heads' input channels
            times = {(side, v[0]): [] for side in sides for v in variants}
            for _ in range(args.rounds):
                for name, dtype, nhwc in variants:
                    for side in sides:
                        model = None
                        if side == 'upstream':
                            model = upstream_model(cfg, package, ours)
                        times[side, name].append(time_train_steps(
                            cfg, data, dtype, args.steps, nhwc, model=model,
                            device=args.device, warmup=3 if gpu else 1))
                        bar.update(1)
                        if gpu:
                            torch.cuda.empty_cache()
            ref = statistics.median(times['mmhrnet', variants[0][0]])
            for (side, name), ts in times.items():
                t = statistics.median(ts)
                vs_up = (statistics.median(times['upstream', name]) / t if side == 'mmhrnet'
                         and args.upstream else None)
                rows.append((config.split('/')[-1], cfg.train_dataloader.batch_size, side,
                             name, t, ref / t, vs_up, min(ts), max(ts)))
    if gpu:
        print(f'\nGPU: {torch.cuda.get_device_name()}, torch {torch.__version__}, CUDA '
              f'{torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; cudnn.benchmark on')
    else:
        print(f'\nCPU: {cpu_model()}, {args.threads} threads, torch '
              f'{torch.backends.cpu.get_cpu_capability()}; AMX {bool(cpu_has_amx())}')
    first = variants[0][0]
    print(f'| config | batch | HRNet | precision | s / step | vs mmhrnet {first} | '
          'upstream / mmhrnet time | range over rounds (s) |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for config, batch, side, name, t, ratio, vs_up, lo, hi in rows:
        up = '' if vs_up is None else f'{vs_up:.2f}x'
        print(f'| {config} | {batch} | {side} | {name} | {t:.3f} | {ratio:.2f}x | {up} | '
              f'{lo:.3f}-{hi:.3f} |')


if __name__ == '__main__':
    main()
