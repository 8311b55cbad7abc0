"""Convert HRNet weights from the official repos, timm or mmpretrain for mmhrnet.

    python tools/misc/convert_weights.py SRC DST --from official-pose \
        [--config configs/pose/hrnet_w32_coco.py] [--report keys.txt]
    python tools/misc/convert_weights.py hrnet_w48_cityscapes.pth DST --from official-seg \
        [--keep-bias]
    python tools/misc/convert_weights.py faster_rcnn_hrnetv2p_w32.pth DST --from official-det
    python tools/misc/convert_weights.py hrnetv2_w32_imagenet.pth DST --from official-cls
    python tools/misc/convert_weights.py timm_hrnet_w18.pth DST --from timm
    python tools/misc/convert_weights.py mmpretrain_hrnet-w18.pth DST --from mmpretrain

official-pose / -seg / -det give whole-model keys for mmhrnet's pose / seg / det configs;
official-cls, timm and mmpretrain give backbone keys for ``mmhrnet.HRNet`` (load them with
``init_cfg=dict(type='Pretrained', checkpoint=DST)``). Prints how many keys were mapped and
every key dropped (with the reason); ``--config`` also builds that config's model and lists
every key it misses, fails on an unexpected or mis-shaped key, and loads the result strictly;
``--report`` writes the fate of every key. Official seg models fuse with ``align_corners`` from
their config (True in the released Cityscapes ones): test them with ``--cfg-options
model.backbone.align_corners=True model.decode_head.align_corners=True``. DST is written under
a temporary name and renamed (a failed conversion leaves an existing DST as it was); an error
is one ``error:`` line.
"""
import argparse
import io
import sys

import torch

from mmhrnet.convert import BACKBONE_SOURCES, SOURCES, load_and_convert
from mmhrnet.engine import run_main
from mmhrnet.utils.build import build_model
from mmhrnet.utils.checkpoint import atomic_write


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='checkpoint to convert')
    parser.add_argument('dst', help='output checkpoint (mmengine layout: state_dict + meta)')
    parser.add_argument('--from', dest='source', required=True, choices=SOURCES)
    parser.add_argument('--config', help='check the result against this config\'s model')
    parser.add_argument('--report', help='write every key mapped / dropped / missing here')
    parser.add_argument('--keep-bias', action='store_true',
                        help='official-seg: keep the head conv bias (decode_head.conv_bias=True)')
    args = parser.parse_args()
    kwargs = dict(fold_bias=not args.keep_bias) if args.source == 'official-seg' else {}
    conv = load_and_convert(args.src, args.source, **kwargs)
    print(conv.summary())
    for old, why in conv.dropped:
        print(f'  dropped {old}: {why}')
    lines, failed = conv.lines(), False
    model = build_model(args.config) if args.config else None
    if model is not None and args.source not in BACKBONE_SOURCES:
        check = conv.check(model)
        print(f"{args.config}: {len(check['missing'])} missing, {len(check['unexpected'])} "
              f"unexpected, {len(check['mismatched'])} mis-shaped keys")
        for what in ('missing', 'unexpected', 'mismatched'):
            for key in check[what]:
                print(f'  {what} {key}')
                lines.append(f'{what} {key}')
        failed = bool(check['unexpected'] or check['mismatched'])
        if not failed and not check['missing']:
            model.load_state_dict(conv.state_dict, strict=True)
            print(f'{args.config}: loads strictly')
    if args.report:
        atomic_write(args.report, '\n'.join(lines) + '\n')
    if failed:
        raise ValueError(f'{args.src} does not fit {args.config}: {args.dst} not written')
    buffer = io.BytesIO()
    torch.save(dict(state_dict=conv.state_dict,
                    meta=dict(converted_from=args.src, source=args.source)), buffer)
    atomic_write(args.dst, buffer.getvalue())
    print(f'{args.src}: {len(conv.state_dict)} keys -> {args.dst}')
    if model is not None and args.source in BACKBONE_SOURCES:
        # What init_cfg=Pretrained does: strict, naming any key that does not fit.
        model.backbone.load_pretrained(args.dst)
        print(f'{args.config}: the backbone loads it')


if __name__ == '__main__':
    sys.exit(run_main(main))
