"""The test metric of one checkpoint on every inference path, next to torch fp32.

    python tools/deploy/accuracy.py CONFIG CHECKPOINT --out DIR [--calib N]
        [--calib-images DIR_OR_VIDEO [--calib-bbox-file FILE | --calib-det CONFIG CKPT]]
        [--paths torch:fp32 openvino:int8 ...] [--cfg-options key=value ...]

Paths: torch fp32 (the reference), torch fast fp32 / bf16 (mmhrnet.deploy.optimize_model),
onnxruntime fp32 / int8, openvino fp32 / bf16 / int8 (bf16 where the CPU has the units). The
exports land in DIR; int8 is calibrated on N images of the config's training set (or of
--calib-images, as tools/deploy/export.py). Prints a markdown table: the metric (pose keypoint
AP, seg mIoU, det box AP; each part's for the multi-task model) and its change in points.
"""
import argparse

from mmengine.config import DictAction

from mmhrnet.analysis.accuracy import accuracy_table, format_accuracy


def main():
    parser = argparse.ArgumentParser(description='Metric of every inference path')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True)
    parser.add_argument('--calib', type=int, default=32)
    parser.add_argument('--calib-images', metavar='DIR_OR_VIDEO')
    parser.add_argument('--calib-det', nargs=2, metavar=('CONFIG', 'CKPT'))
    parser.add_argument('--calib-bbox-file')
    parser.add_argument('--paths', nargs='+', help='PATH:PRECISION, e.g. openvino:int8')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    paths = [tuple(p.replace('torch-fast', 'torch fast').split(':')) for p in args.paths] \
        if args.paths else None
    rows = accuracy_table(args.config, args.checkpoint, args.out, paths, args.calib,
                          args.cfg_options, calib_images=args.calib_images,
                          calib_det=args.calib_det, calib_bbox_file=args.calib_bbox_file)
    print(format_accuracy(rows, args.config.split('/')[-1]))


if __name__ == '__main__':
    main()
