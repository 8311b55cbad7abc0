"""Overfit the person / background segmentation config on the 4 real COCO images of
``../shared/data/coco_tiny``, then test it with mmseg's IoUMetric.

    python tools/misc/overfit_coco_tiny_seg.py [--config configs/seg/hrnetv2_w18-small_coco-person-512x512.py]
        [--arch w18_small_v1] [--iters 120] [--scale 320 240] [--work-dir DIR] [--cfg-options ...]

Trains from scratch (no ImageNet download) on the 4 images, their person masks rasterised to a
person / background map (crowds ignored), with flips only, at ``--scale`` (the longer and
shorter side; default about half the COCO size, for a CPU). Tests the same images through the
config's test pipeline at that scale, scored against the full-size label maps, without and with
flip test. Prints both mIoUs.
"""  # noqa: E501
import argparse
import copy
import os.path as osp
import time

from mmengine.runner import Runner

from mmhrnet.engine import build_runner_cfg, parse_runner_args, retarget_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COCO_TINY = osp.join(ROOT, '..', 'shared', 'data', 'coco_tiny')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=osp.join(
        ROOT, 'configs/seg/hrnetv2_w18-small_coco-person-512x512.py'))
    parser.add_argument('--data', default=COCO_TINY, help='the coco_tiny folder')
    parser.add_argument('--arch', default='w18_small_v1',
                        help='backbone preset (default: the smallest, for a CPU)')
    parser.add_argument('--iters', type=int, default=120)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--scale', type=int, nargs=2, default=(320, 240),
                        metavar=('LONG', 'SHORT'))
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/overfit_coco_tiny_seg'))
    return parse_runner_args(parser, example='model.backbone.arch=w18')


def main():
    args = parse_args()
    cfg = build_runner_cfg(args)
    ann = osp.join(args.data, 'test_coco.json')
    cfg.model.backbone.update(arch=args.arch, init_cfg=None)  # from scratch: no download
    cfg.model.backbone.norm_cfg = cfg.model.decode_head.norm_cfg = dict(type='BN',
                                                                        requires_grad=True)
    cfg.model.data_preprocessor.size = None
    cfg.model.data_preprocessor.size_divisor = 32
    scale = tuple(args.scale)
    loader = dict(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.update(batch_size=4, **loader)
    retarget_dataset(cfg.train_dataloader, ann, args.data)
    # Overfitting: keep flips (the flip test flips too), drop scale, crop and colour jitter.
    cfg.train_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile'), dict(type='mmhrnet.LoadCocoPersonSeg'),
        dict(type='Resize', scale=scale, keep_ratio=True), dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs')]
    test = copy.deepcopy(cfg.val_dataloader)
    test.update(batch_size=1, **loader)
    retarget_dataset(test, ann, args.data)
    for t in test.dataset.pipeline:
        if t['type'] == 'Resize':
            t['scale'] = scale
    cfg.val_dataloader, cfg.test_dataloader = test, copy.deepcopy(test)
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=args.lr,
                                                                 weight_decay=1e-4))
    warmup = min(10, args.iters // 2)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, begin=0, end=warmup, by_epoch=False),
        dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=warmup, end=args.iters,
             by_epoch=False)]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters,
                         val_interval=args.iters)
    cfg.default_hooks.logger.interval = 10
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=args.iters)
    # Flip test: the config's TTA model over the test scale, unflipped and flipped.
    cfg.tta_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='Resize', scale=scale, keep_ratio=True)],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='mmhrnet.LoadCocoPersonSeg')], [dict(type='PackSegInputs')]])]

    runner = Runner.from_cfg(cfg)
    start = time.time()
    runner.train()
    train_s = time.time() - start
    miou = runner.val_loop.run()['mIoU']

    flip_cfg = copy.deepcopy(cfg)
    flip_cfg.model = dict(cfg.tta_model, module=cfg.model)
    flip_cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    flip_cfg.work_dir = osp.join(cfg.work_dir, 'flip_test')
    flip_cfg.load_from = osp.join(cfg.work_dir, f'iter_{args.iters}.pth')
    flip_miou = Runner.from_cfg(flip_cfg).test()['mIoU']
    print(f'coco_tiny seg overfit ({args.arch}, {args.iters} iterations of 4 images at '
          f'{scale[0]}x{scale[1]}, {train_s / 60:.1f} min): mIoU {miou:.2f}, '
          f'{flip_miou:.2f} with flip test (IoUMetric, person / background)')


if __name__ == '__main__':
    main()
