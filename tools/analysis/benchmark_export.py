"""The exported two-stage detector and multi-task model beside eager torch: ms per image of
the whole ``test_step`` (one image a call) on ONNX Runtime fp32, OpenVINO fp32 and OpenVINO
int8, the speed ratio, and box / mask AP on the same images, from one run.

    python tools/analysis/benchmark_export.py --det CONFIG CKPT [--multitask CONFIG CKPT] \\
        [--data DIR] [--images 8] [--paths onnxruntime:fp32 openvino:fp32 openvino:int8] \\
        [--calib 4] [--threads N] [--work-dir DIR]

Without a checkpoint a model runs with random weights (speed only: no AP). ``--data`` points
the configs' train and test sets at a synthetic people folder (``mmhrnet.synthetic``); int8 is
calibrated on ``--calib`` of its training images.
"""
import argparse
import tempfile

import torch

from mmhrnet.analysis.export_bench import PATHS, benchmark_model, format_rows
from mmhrnet.utils.cpu import cpu_summary


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for task in ('det', 'multitask'):
        parser.add_argument(f'--{task}', nargs='+', metavar=('CONFIG', 'CKPT'),
                            help=f'{task} config [and checkpoint]')
    parser.add_argument('--data', help='data root of the train and test sets (with a trailing /)')
    parser.add_argument('--test-split', default='val', help='split the AP is taken on')
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--paths', nargs='+', default=[f'{b}:{p}' for b, p in PATHS])
    parser.add_argument('--calib', type=int, default=4)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--work-dir', help='export folders (default: a temporary one)')
    args = parser.parse_args()
    if not (args.det or args.multitask):
        parser.error('give --det and / or --multitask')
    return args


def data_options(root, split):
    if root is None:
        return None
    return {'train_dataloader.dataset.data_root': root,
            'test_dataloader.dataset.data_root': root,
            'test_dataloader.dataset.ann_file': f'annotations/person_keypoints_{split}.json',
            'test_dataloader.dataset.data_prefix.img': f'{split}/',
            'test_dataloader.dataset.data_prefix.seg': f'parts/{split}/',
            'test_evaluator.ann_file': f'{root}annotations/person_keypoints_{split}.json'}


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    paths = [tuple(p.split(':')) for p in args.paths]
    print(f'CPU: {cpu_summary()}; {args.threads} threads')
    with tempfile.TemporaryDirectory() as tmp:
        for task in ('det', 'multitask'):
            spec = getattr(args, task)
            if not spec:
                continue
            options = data_options(args.data, args.test_split)
            if options and task == 'det':
                options.pop('test_dataloader.dataset.data_prefix.seg')
            rows = benchmark_model(spec[0], spec[1] if len(spec) > 1 else None,
                                   args.work_dir or tmp, args.images, paths, args.calib,
                                   options, log=lambda *a: None)
            print(format_rows(rows, f'{task} ({args.images} images)'))


if __name__ == '__main__':
    main()
