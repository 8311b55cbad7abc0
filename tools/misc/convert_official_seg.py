"""Convert an official HRNet-Semantic-Segmentation checkpoint for mmhrnet's seg configs.

    python tools/misc/convert_official_seg.py hrnet_w48_cityscapes_cls19_1024x2048_trainset.pth \
        work_dirs/hrnetv2_w48_cityscapes_official.pth [--keep-bias]
    python tools/test.py configs/seg/hrnetv2_w48_cityscapes.py \
        work_dirs/hrnetv2_w48_cityscapes_official.pth

``last_layer.{0,1,3}`` become ``decode_head.convs.0.{conv,bn}`` / ``decode_head.conv_seg``, the
backbone keys gain ``backbone.``. The bias of ``last_layer.0`` is folded into the BN after it
(exact); ``--keep-bias`` keeps it instead, for ``decode_head.conv_bias=True``. The official
models fuse with ``align_corners`` from their config (True in the released Cityscapes ones):
test them with ``--cfg-options model.backbone.align_corners=True
model.decode_head.align_corners=True``.
"""
import argparse

import torch

from mmhrnet.seg import load_official_seg


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output checkpoint (mmengine layout: state_dict + meta)')
    parser.add_argument('--keep-bias', action='store_true',
                        help='keep the head conv bias (for decode_head.conv_bias=True)')
    args = parser.parse_args()
    state = load_official_seg(args.src, fold_bias=not args.keep_bias)
    torch.save(dict(state_dict=state, meta=dict(converted_from=args.src)), args.dst)
    print(f'{args.src}: {len(state)} keys -> {args.dst}')


if __name__ == '__main__':
    main()
