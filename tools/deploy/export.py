"""Export a model to ONNX and convert it for ONNX Runtime or OpenVINO at fp32, bf16 or int8.

    python tools/deploy/export.py CONFIG CHECKPOINT --out DIR [--shape H W] [--[no-]dynamic-batch]
        [--dynamic-shape] [--backend onnxruntime|openvino] [--precision fp32|bf16|int8]
        [--calib N] [--calib-images DIR_OR_VIDEO [--calib-det CONFIG CKPT |
        --calib-bbox-file FILE]] [--cfg-options key=value ...]

Pose exports backbone + head (heatmaps), seg backbone + decode head (logits); det (Faster /
Mask R-CNN) and the multi-task model an image graph (backbone + HRFPN + RPN convolutions, and
the multi-task parsing logits and branches) and one graph per RoI head (box, mask, keypoint),
mmdet's RoIAlign and NMS running in torch between them. DIR then holds the model files,
``config.py`` and ``deploy.json``; ``mmhrnet.deploy.load_backend_model(DIR, backend)`` runs it.
Exporting the same model again adds a backend / precision to DIR; another model replaces it
whole; a failed export leaves it as it was.
int8 is calibrated on N images of the config's training set, or with --calib-images on N
images or frames of a folder or video of your own (pose: the person crops of --calib-det's
detector or of --calib-bbox-file's boxes, else each whole image as one box). ONNX Runtime's
fp32 output is checked against torch (1e-4 relative) before anything is written.
"""
import argparse
import sys

from mmengine.config import DictAction

from mmhrnet.deploy import export_model
from mmhrnet.engine.cli import run_main


def parse_args():
    parser = argparse.ArgumentParser(description='Export a model for a CPU backend')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='export folder')
    parser.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                        help='input size (default: the test crop for pose; seg / det: dynamic)')
    parser.add_argument('--dynamic-batch', action=argparse.BooleanOptionalAction,
                        help='dynamic batch axis (default: on for pose, whose crops of an '
                        'image run in one call; off for seg, det and multi-task)')
    parser.add_argument('--dynamic-shape', action='store_true', default=None,
                        help='dynamic H and W even with --shape')
    parser.add_argument('--backend', choices=['onnxruntime', 'openvino'], default='onnxruntime')
    parser.add_argument('--precision', choices=['fp32', 'bf16', 'int8'], default='fp32')
    parser.add_argument('--calib', type=int, default=32, help='int8: images (pose: person '
                        'crops) to calibrate on')
    parser.add_argument('--calib-images', metavar='DIR_OR_VIDEO', help='int8: calibrate on '
                        'these images or video frames instead of the training set')
    parser.add_argument('--calib-det', nargs=2, metavar=('CONFIG', 'CKPT'), help='pose int8: '
                        'person boxes in --calib-images from this detector')
    parser.add_argument('--calib-bbox-file', help='pose int8: person boxes in --calib-images '
                        'from COCO detection results (by image id)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    return parser.parse_args()


def main():
    args = parse_args()
    meta = export_model(args.config, args.checkpoint, args.out, shape=args.shape,
                        dynamic_batch=args.dynamic_batch, dynamic_shape=args.dynamic_shape,
                        backend=args.backend, precision=args.precision, calib=args.calib,
                        calib_images=args.calib_images, calib_det=args.calib_det,
                        calib_bbox_file=args.calib_bbox_file,
                        cfg_options=args.cfg_options)
    entry = meta['models'][args.backend][args.precision]
    print(f'{args.out}: {meta["task"]} {args.backend} {args.precision} -> {entry["file"]} '
          f'(max relative difference from torch fp32: {entry["max_rel_diff"]:.2e})')


if __name__ == '__main__':
    sys.exit(run_main(main))
