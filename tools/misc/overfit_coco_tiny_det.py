"""Overfit a detection config on the 4 real COCO images of ``../shared/data/coco_tiny``.

    python tools/misc/overfit_coco_tiny_det.py [--config CONFIG] [--arch ARCH]
        [--scale 384 256] [--epochs 60] [--work-dir work_dirs/overfit_coco_tiny_det]

Trains a detection config's detector from scratch (no ImageNet download, so BN statistics
train instead of staying frozen) on the 14 annotated persons, one class (coco_tiny holds
persons only), at a reduced input scale; then runs the config's own test pipeline on the same
images and prints mmdet's CocoMetric box (and mask) AP. The default config is the CPU-sized
Mask R-CNN of the synthetic people (W18-Small-v1, 128-channel pyramid, light mask head): the
COCO recipe itself (256-channel heads, 512 sampled RoIs, 4-conv mask head) takes about 110 s
per iteration of 4 images at 512x320 on one core of this CPU; ``--config
configs/det/mask_rcnn_hrnetv2p_w32_coco.py --arch w18`` runs it all the same.
"""
import argparse
import os.path as osp

from mmengine.runner import Runner

from mmhrnet.engine import build_runner_cfg, parse_runner_args
from mmhrnet.engine import overfit_schedule, retarget_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COCO_TINY = osp.join(ROOT, '..', 'shared', 'data', 'coco_tiny')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config',
                        default=osp.join(ROOT, 'configs/det/mask-rcnn_hrnetv2p-w18-small-v1_'
                                         '1xb8-6e_synthetic-people-128.py'))
    parser.add_argument('--data', default=COCO_TINY, help='the coco_tiny folder')
    parser.add_argument('--arch', default='', help="backbone preset (default: the config's)")
    parser.add_argument('--scale', type=int, nargs=2, default=(384, 256), metavar=('W', 'H'),
                        help='Resize scale (long, short side) in place of 1333x800')
    parser.add_argument('--epochs', type=int, default=60, help='one iteration each')
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/overfit_coco_tiny_det'))
    return parse_runner_args(parser, example='model.backbone.arch=w18')


def tiny_cfg(cfg, data, scale, arch=''):
    """Point ``cfg`` at coco_tiny (one class, reduced ``scale``, no download); returns it."""
    ann = osp.join(data, 'test_coco.json')
    backbone = cfg.model.backbone
    backbone.update(init_cfg=None, norm_eval=False)  # from scratch: BN statistics must train
    if arch:
        backbone.arch = arch
    roi_head = cfg.model.roi_head
    roi_head.bbox_head.num_classes = 1  # coco_tiny has persons only
    if 'mask_head' in roi_head:
        roi_head.mask_head.num_classes = 1
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        retarget_dataset(loader, ann, data)
        loader.dataset.metainfo = dict(classes=('person', ))
        loader.update(num_workers=0, persistent_workers=False)
        for t in loader.dataset.pipeline:
            if t['type'] == 'Resize':
                t['scale'] = tuple(scale)
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.ann_file = ann
    return cfg


def main():
    args = parse_args()
    cfg = tiny_cfg(build_runner_cfg(args), args.data, args.scale, args.arch)
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.dataset.pipeline = [  # no flips: learn these very images
        t for t in cfg.train_dataloader.dataset.pipeline if t['type'] != 'RandomFlip']
    cfg.optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=10),
                             optimizer=dict(type='AdamW', lr=args.lr, weight_decay=1e-4))
    overfit_schedule(cfg, args.epochs)

    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    found = ', '.join(f'{task} AP {metrics[f"coco/{task}_mAP"]:.3f}'
                      for task in ('bbox', 'segm') if f'coco/{task}_mAP' in metrics)
    print(f'coco_tiny detection overfit ({args.epochs} epochs of 4 images, '
          f'{args.scale[0]}x{args.scale[1]}): {found}')


if __name__ == '__main__':
    main()
