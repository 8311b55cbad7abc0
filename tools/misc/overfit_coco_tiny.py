"""Overfit a pose config on the 4 real COCO images of ``../shared/data/coco_tiny``.

    python tools/misc/overfit_coco_tiny.py [--config configs/pose/hrnet_w32_coco.py]
        [--epochs 60] [--work-dir work_dirs/overfit_coco_tiny] [--cfg-options ...]

Trains from scratch (no ImageNet download) on the 12 persons with keypoints, without
augmentation, then tests the config's own pipeline (flip test, CocoMetric) twice: with
ground-truth boxes, and with the detector boxes of ``test_coco_det_AP_H_56.json``. Prints both
APs.
"""
import argparse
import copy
import os.path as osp

from mmengine.runner import Runner

from mmhrnet.engine import build_runner_cfg, parse_runner_args
from mmhrnet.engine import overfit_schedule, retarget_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COCO_TINY = osp.join(ROOT, '..', 'shared', 'data', 'coco_tiny')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=osp.join(ROOT, 'configs/pose/hrnet_w32_coco.py'))
    parser.add_argument('--data', default=COCO_TINY, help='the coco_tiny folder')
    parser.add_argument('--epochs', type=int, default=60)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/overfit_coco_tiny'))
    parser.add_argument('--amp', action='store_true', help='bf16 autocast on a CPU')
    return parse_runner_args(parser, example='optim_wrapper.optimizer.lr=1e-3')


def main():
    args = parse_args()
    cfg = build_runner_cfg(args)
    ann = osp.join(args.data, 'test_coco.json')
    dets = osp.join(args.data, 'test_coco_det_AP_H_56.json')
    # From scratch (no ImageNet download), with Kaiming init as the measured runs: the mmpose
    # default that defaults='mmpose' restores, Normal(std=0.001), is for ImageNet starts.
    cfg.model.backbone.init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                                   dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
    retarget_dataset(cfg.train_dataloader, ann, args.data)
    # Overfitting: keep flips (the test flips too), drop the box and half-body jitter.
    cfg.train_dataloader.dataset.pipeline = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] not in ('RandomHalfBody', 'RandomBBoxTransform')]
    cfg.train_dataloader.update(batch_size=14, num_workers=0, persistent_workers=False)
    # Validation with ground-truth boxes, test with the detector's boxes.
    retarget_dataset(cfg.val_dataloader, ann, args.data)
    cfg.test_dataloader = retarget_dataset(copy.deepcopy(cfg.val_dataloader), ann, args.data, dets)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.update(batch_size=16, num_workers=0, persistent_workers=False)
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = ann
    cfg.optim_wrapper.optimizer.lr = args.lr
    overfit_schedule(cfg, args.epochs)
    if args.amp:
        from mmhrnet.engine import enable_amp
        enable_amp(cfg)

    runner = Runner.from_cfg(cfg)
    runner.train()
    gt_ap = runner.val_loop.run()['coco/AP']
    det_ap = runner.test()['coco/AP']
    print(f'coco_tiny overfit ({args.epochs} epochs): AP {gt_ap:.3f} with ground-truth boxes, '
          f'{det_ap:.3f} with detector boxes (flip test)')


if __name__ == '__main__':
    main()
