"""Max relative output difference of mmhrnet.HRNet vs mmpose / mmseg / mmdet HRNets.

    python tools/analysis/fidelity.py [--widths 18 32 48]

Same randomised weights and BN statistics, loaded strictly both ways, eval mode, inputs whose
sides are not multiples of 32 (see ``mmhrnet.utils.fidelity.TEST_SIZES``).
"""
import argparse

from mmhrnet.models import arch_to_extra
from mmhrnet.utils.fidelity import TEST_SIZES, compare_extra


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--widths', type=int, nargs='+', default=[18, 32, 48])
    args = parser.parse_args()
    print(f"{'package':<8} {'width':>5} {'keys':>5} {'inputs':<20} {'max rel diff':>12}")
    for package in TEST_SIZES:
        for width in args.widths:
            extra = arch_to_extra(f'w{width}')
            if package == 'mmpose':
                extra['stage4']['multiscale_output'] = False  # what mmpose's default means
            res = compare_extra(package, extra)
            sizes = ', '.join(f'{h}x{w}' for h, w in TEST_SIZES[package])
            print(f"{package:<8} {width:>5} {res['keys']:>5} {sizes:<20} "
                  f"{res['max_rel_diff']:>12.2e}")


if __name__ == '__main__':
    main()
