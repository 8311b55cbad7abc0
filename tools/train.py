"""Train any mmhrnet config (pose, segmentation or detection) with mmengine's Runner.

    python tools/train.py configs/pose/hrnet_w32_coco.py [--work-dir DIR] [--resume [CKPT]]
        [--amp] [--cfg-options key=value ...] [--launcher {none,pytorch,slurm}]
"""
import argparse
import os

from mmengine.runner import Runner

from mmhrnet.engine import build_runner_cfg, enable_amp, parse_runner_args


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint of the work dir '
                        'when no CKPT is given')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 on a GPU, bf16 autocast on a CPU')
    parser.add_argument('--no-validate', action='store_true', help='skip validation')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual / the config\'s base batch size')
    return parse_runner_args(parser, example='train_cfg.max_epochs=5')


def main():
    args = parse_args()
    cfg = build_runner_cfg(args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not os.path.isfile(args.resume):
            raise FileNotFoundError(f'checkpoint to resume from not found: {args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
