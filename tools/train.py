"""Train any mmhrnet config (pose, segmentation or detection) with mmengine's Runner.

    python tools/train.py configs/pose/hrnet_w32_coco.py [--work-dir DIR] [--resume [CKPT|auto]]
        [--amp [auto]] [--cfg-options key=value ...] [--launcher {none,pytorch,slurm}]
"""
import argparse
import sys

import torch
from mmengine.runner import Runner

from mmhrnet.engine import (build_runner_cfg, enable_amp, parse_runner_args, resolve_resume,
                            run_main)
from mmhrnet.engine.precision import probe_precision
from mmhrnet.validation import explain_config_errors


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='latest', metavar='CKPT|auto',
                        help='resume from CKPT; with no value from the newest loadable '
                        'checkpoint of the work dir (an error when there is none); "auto": '
                        'the same, or a fresh start when there is none')
    parser.add_argument('--amp', nargs='?', const='on', choices=['on', 'auto'],
                        help='mixed precision: fp16 on a GPU, bf16 autocast on a CPU; '
                        '"auto": on a CPU, a few-step probe picks the faster of fp32 and bf16')
    parser.add_argument('--no-validate', action='store_true', help='skip validation')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual / the config\'s base batch size')
    return parse_runner_args(parser, example='train_cfg.max_epochs=5')


def main():
    args = parse_args()
    cfg = build_runner_cfg(args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp == 'auto' and not torch.cuda.is_available():
        from mmengine.logging import print_log
        choice, _ = probe_precision(cfg, logger=lambda line: print_log(line, 'current'))
        args.amp = 'on' if choice == 'bf16' else None
    if args.amp:
        enable_amp(cfg)
    if args.resume is not None:
        print(resolve_resume(cfg, args.resume), flush=True)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    with explain_config_errors(args.config):
        Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    sys.exit(run_main(main))  # any failure: one `error:` line, exit status 1
