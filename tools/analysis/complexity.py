"""Parameters and multiply-adds of an HRNet preset or a config, in the published conventions.

    python tools/analysis/complexity.py w32 --shape 256 192 --num-keypoints 17
    python tools/analysis/complexity.py all --shape 256 192
    python tools/analysis/complexity.py configs/pose/hrnet_w32_coco.py

"GMACs" are decimal (1e9) multiply-adds of convolutions and linears; "GFLOPs (published)" is
the HRNet papers' convention, the same multiply-adds divided by 1024**3.
"""
import argparse

from mmengine.config import DictAction

from mmhrnet.utils.build import build_model, load_config
from mmhrnet.models import ARCH_ZOO, HRNet
from mmhrnet.utils.complexity import PoseHRNetV1, measure


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('target', help="config file, an arch of ARCH_ZOO, or 'all'")
    parser.add_argument('--shape', type=int, nargs=2, default=None, metavar=('H', 'W'),
                        help='input height and width (default 256 192)')
    parser.add_argument('--num-keypoints', type=int, default=0,
                        help='add the 1x1 pose head to this many keypoints (HRNetV1)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    shape = tuple(args.shape or (256, 192))

    if args.target.endswith('.py'):
        rows = [(args.target,
                 *measure(build_model(load_config(args.target, args.cfg_options)), shape))]
    else:
        archs = list(ARCH_ZOO) if args.target == 'all' else [args.target]
        rows = []
        for arch in archs:
            model = (PoseHRNetV1(arch, args.num_keypoints) if args.num_keypoints else
                     HRNet(arch=arch))
            name = arch + (f' + head({args.num_keypoints})' if args.num_keypoints else '')
            rows.append((name, *measure(model, shape)))

    print(f'input {shape[0]}x{shape[1]}')
    print(f"{'model':<34} {'params (M)':>10} {'GMACs':>8} {'GFLOPs (published)':>19}  counted")
    for name, res, how in rows:
        print(f"{name:<34} {res['params'] / 1e6:>10.2f} {res['macs'] / 1e9:>8.2f} "
              f"{res['gflops_published']:>19.2f}  {how}")


if __name__ == '__main__':
    main()
