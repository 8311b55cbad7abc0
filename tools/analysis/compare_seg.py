"""Compare HRNetV2 with the segmentation networks it replaced, each trained until it has learnt.

    python tools/analysis/compare_seg.py [CONFIG ...] [--jobs 2] [--threads 1]
        [--work-dir work_dirs/seg_compare] [--out-dir DIR] [--no-train]
        [--iters N] [--batch-size B] [--tolerance 1] [--max-doublings 2] [--num-images 50]

Trains every config (default: all ``configs/seg_baselines/*_synthetic-parts-256x256.py``:
HRNetV2, FCN, U-Net, DeepLab v3+, DeconvNet, SegNet, DeepLab v1, DilatedNet) for at least its
own schedule and until its validation mIoU plateaus (the last two of its evaluations within
``--tolerance`` points; otherwise the schedule is doubled, from scratch, at most
``--max-doublings`` times), ``--jobs`` networks side by side. Work dirs are kept and resumed
(``WORK_DIR/<network>/iters_<N>``): stop the command at any time and run it again to go on;
``--no-train`` only reads finished work dirs. Scores the last checkpoints on the test set and
writes into ``--out-dir``: ``seg_compare.md`` (+ ``.json``: recipe, schedule, plateau reached,
mIoU, thin / large part mIoU, boundary F-score at 3 px, per-class IoU, params, GFLOPs at
512x512, img/s here, output stride), ``seg_compare.png`` (mIoU vs GFLOPs, and one image's
predictions per network) and ``seg_compare_curves.png`` (validation mIoU vs iterations).

    python tools/analysis/compare_seg.py [CONFIG ...] --overfit 300 --threads 1

fits one fixed batch of 4 training crops per network instead (a network that cannot has a
defect or a recipe problem) and prints loss, IoU on the batch and the left/right pair trap.
"""
import argparse
import glob
import os
import os.path as osp

import torch
from mmengine.config import DictAction

from mmhrnet.analysis.seg_compare import compare, keep_runs
from mmhrnet.analysis.seg_diagnose import overfit_configs
from mmhrnet.utils.build import config_root

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files (default: the synthetic '
                        'parsing configs of configs/seg_baselines)')
    parser.add_argument('--iters', type=int, help='first schedule for every network '
                        '(default: each config\'s own)')
    parser.add_argument('--batch-size', type=int, help='training batch for every network')
    parser.add_argument('--num-images', type=int, help='score the first N test images only')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/seg_compare'))
    parser.add_argument('--out-dir', help='table and figure folder (default: --work-dir)')
    parser.add_argument('--no-train', action='store_true',
                        help='only read finished work dirs; fail for a network without one')
    parser.add_argument('--tolerance', type=float, default=1.0,
                        help='plateau: the last two validation mIoUs within this many points')
    parser.add_argument('--max-doublings', type=int, default=2,
                        help='double a network\'s schedule at most this many times')
    parser.add_argument('--jobs', type=int, default=1,
                        help='networks trained side by side (one process each)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every config, e.g. '
                        'train_dataloader.dataset.data_root=DIR')
    parser.add_argument('--threads', type=int, help='torch threads per process '
                        '(default: torch\'s)')
    parser.add_argument('--keep-runs', metavar='DIR',
                        help='then copy the compared networks\' logs, scores and summaries '
                        '(no checkpoints) to DIR; --work-dir DIR --no-train rebuilds the table')
    parser.add_argument('--overfit', type=int, metavar='STEPS',
                        help='instead: fit one batch of 4 training crops for STEPS steps per '
                        'network and report loss, IoU on the batch and the left/right pair '
                        'trap (mmhrnet.analysis.seg_diagnose); JSON into --out-dir')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    # the checkout's configs/ when run from it (paths in the kept files stay relative)
    root = 'configs' if osp.isdir(osp.join('configs', 'seg_baselines')) else config_root()
    configs = args.configs or sorted(
        glob.glob(osp.join(root, 'seg_baselines/*_synthetic-parts-256x256.py')))
    if not configs:
        parser.error('no configs given or found')
    if args.overfit:
        out = args.out_dir or args.work_dir
        os.makedirs(out, exist_ok=True)
        overfit_configs(configs, osp.join(out, 'overfit.json'), cfg_options=args.cfg_options,
                        steps=args.overfit)
        return
    rows = compare(configs, args.work_dir, args.out_dir, iters=args.iters,
                   batch_size=args.batch_size, num_images=args.num_images,
                   train_missing=not args.no_train, cfg_options=args.cfg_options,
                   tolerance=args.tolerance, max_doublings=args.max_doublings, jobs=args.jobs,
                   threads=args.threads)
    if args.keep_runs:
        kept = keep_runs(args.work_dir, args.keep_runs, [row['name'] for row in rows])
        print(f'kept {len(kept)} files in {args.keep_runs}')
    out = args.out_dir or args.work_dir
    print(open(osp.join(out, 'seg_compare.md')).read())
    print(f'{len(rows)} networks: {osp.join(out, "seg_compare.md")}, '
          f'{osp.join(out, "seg_compare.png")}, {osp.join(out, "seg_compare_curves.png")}')


if __name__ == '__main__':
    main()
