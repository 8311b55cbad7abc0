"""Test a checkpoint of any mmhrnet config (pose, segmentation or detection).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out RESULTS.pkl]
        [--show-dir DIR] [--tta] [--optimize] [--compile] [--precision {fp32,bf16,int8}]
        [--backend {onnxruntime,openvino}] [--cfg-options key=value ...]
        [--launcher {none,pytorch,slurm}]

With ``--backend``, CHECKPOINT is an export folder of tools/deploy/export.py (CONFIG may be
its ``config.py``), run at ``--precision`` on that backend.

The checkpoint is loaded strictly: a checkpoint of another model (e.g. a head with a different
number of keypoints or classes) is an error naming the file and the keys, not a warning. Any
failure is one ``error:`` line (exit status 1) and removes the work-dir folder the run made.
"""
import argparse
import os
import sys

from mmengine.runner import Runner

from mmhrnet.engine import (build_runner_cfg, parse_runner_args, removed_on_failure, run_main,
                            set_show_dir)
from mmhrnet.utils.checkpoint import load_checkpoint_strict
from mmhrnet.validation import explain_config_errors


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
    parser.add_argument('--optimize', action='store_true', help='faster torch inference: '
                        'conv-BN folding and channels-last memory (mmhrnet.deploy.optimize_model;'
                        ' the option of tools/infer.py)')
    parser.add_argument('--fast', action='store_true', dest='optimize',
                        help=argparse.SUPPRESS)  # the option's former name
    parser.add_argument('--precision', choices=['fp32', 'bf16', 'int8'], default=None,
                        help='torch: bf16 autocast of the backbone, neck and head (implies '
                        '--optimize); with --backend: the exported precision to run')
    parser.add_argument('--compile', action='store_true', help='also torch.compile the fast '
                        'path, weights frozen (implies --optimize; a first batch of ~30 s)')
    parser.add_argument('--backend', choices=['onnxruntime', 'openvino'],
                        help='test an export folder (CHECKPOINT) on this backend')
    return parse_runner_args(parser, example='test_dataloader.batch_size=8')


def main():
    args = parse_args()
    found = os.path.isdir if args.backend else os.path.isfile  # --backend: an export folder
    if not found(args.checkpoint):  # before the Runner makes a work-dir folder
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = build_runner_cfg(args)
    with removed_on_failure(cfg.work_dir):
        run_test(cfg, args)


def run_test(cfg, args):
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
    with explain_config_errors(args.config):  # a `type` typo: the file and the closest names
        runner = Runner.from_cfg(cfg)
    if args.backend:
        from mmhrnet.deploy import load_backend_model
        runner.model = load_backend_model(args.checkpoint, args.backend,
                                          precision=args.precision)
    else:
        load_checkpoint_strict(runner.model, args.checkpoint)
    torch_fast = args.optimize or args.compile or args.precision not in (None, 'fp32')
    if not args.backend and torch_fast:
        from mmhrnet.deploy import optimize_model
        optimize_model(runner.model, precision=args.precision or 'fp32', compile=args.compile)
    with explain_config_errors(args.config):
        runner.test()


if __name__ == '__main__':
    sys.exit(run_main(main))
