"""Test a checkpoint of any mmhrnet config (pose, segmentation or detection).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out RESULTS.pkl]
        [--show-dir DIR] [--tta] [--cfg-options key=value ...] [--launcher {none,pytorch,slurm}]

The checkpoint is loaded strictly: a checkpoint of another model (e.g. a head with a different
number of keypoints or classes) is an error naming the file and the keys, not a warning.
"""
import argparse
import os
import sys

from mmengine.runner import Runner

from mmhrnet.engine import build_runner_cfg, load_checkpoint_strict, parse_runner_args, set_show_dir


def parse_args():
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save the evaluation logs')
    parser.add_argument('--out', help='dump the raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='save pictures of the predictions in this folder '
                        '(inside the work dir\'s timestamped folder)')
    parser.add_argument('--interval', type=int, default=1, help='picture every N samples')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation from the '
                        'config\'s tta_model / tta_pipeline')
    return parse_runner_args(parser, example='test_dataloader.batch_size=8')


def main():
    args = parse_args()
    if not os.path.isfile(args.checkpoint):  # before the Runner makes a work-dir folder
        sys.exit(f'error: checkpoint not found: {args.checkpoint}')
    cfg = build_runner_cfg(args)
    cfg.load_from = None  # loaded strictly below instead of Runner's lenient load
    if args.show_dir:
        set_show_dir(cfg, args.show_dir, args.interval)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise KeyError(f'--tta needs tta_model and tta_pipeline in {args.config}')
        cfg.model = dict(cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    if args.out:
        cfg.test_evaluator = [*cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    runner = Runner.from_cfg(cfg)
    load_checkpoint_strict(runner.model, args.checkpoint)
    runner.test()


if __name__ == '__main__':
    main()
