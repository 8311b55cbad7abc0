"""Compare HRNetV2 with the segmentation networks it replaced, on one task and one schedule.

    python tools/analysis/compare_seg.py [CONFIG ...] [--iters 150] [--batch-size 4]
        [--num-images 50] [--work-dir work_dirs/seg_baselines] [--out-dir DIR] [--no-train]

Trains every config (default: all ``configs/seg_baselines/*_synthetic-parts-256x256.py``:
HRNetV2, FCN, U-Net, DeepLab v3+, DeconvNet, SegNet, DeepLab v1, DilatedNet) with the same
iterations and batch, or reuses finished work dirs (``WORK_DIR/<network>/iter_N.pth``), scores
the last checkpoints on the test set, and writes ``seg_compare.md`` (+ ``.json``: one table of
mIoU, thin / large part mIoU, boundary F-score at 3 px, per-class IoU, params, GFLOPs at
512x512, img/s here, output stride) and ``seg_compare.png`` (mIoU vs GFLOPs, and one image's
predictions per network) into ``--out-dir``.
"""
import argparse
import glob
import os.path as osp

import torch
from mmengine.config import DictAction

from mmhrnet.seg.baselines.compare import compare

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files (default: the synthetic '
                        'parsing configs of configs/seg_baselines)')
    parser.add_argument('--iters', type=int, help='training iterations for every network '
                        '(default: each config\'s own)')
    parser.add_argument('--batch-size', type=int, help='training batch for every network')
    parser.add_argument('--num-images', type=int, help='score the first N test images only')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/seg_baselines'))
    parser.add_argument('--out-dir', help='table and figure folder (default: --work-dir)')
    parser.add_argument('--no-train', action='store_true',
                        help='only read finished work dirs; fail for a network without one')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every config, e.g. '
                        'train_dataloader.dataset.data_root=DIR')
    parser.add_argument('--threads', type=int, help='torch threads (default: torch\'s)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    configs = args.configs or sorted(
        glob.glob(osp.join(ROOT, 'configs/seg_baselines/*_synthetic-parts-256x256.py')))
    if not configs:
        parser.error('no configs given or found')
    rows = compare(configs, args.work_dir, args.out_dir, iters=args.iters,
                   batch_size=args.batch_size, num_images=args.num_images,
                   train_missing=not args.no_train, cfg_options=args.cfg_options)
    out = args.out_dir or args.work_dir
    print(open(osp.join(out, 'seg_compare.md')).read())
    print(f'{len(rows)} networks: {osp.join(out, "seg_compare.md")}, '
          f'{osp.join(out, "seg_compare.png")}')


if __name__ == '__main__':
    main()
