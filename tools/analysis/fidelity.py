"""Max relative output difference of mmhrnet.HRNet vs mmpose / mmseg / mmdet HRNets.

    python tools/analysis/fidelity.py [--widths 18 32 48]
    python tools/analysis/fidelity.py --sweep [--packages mmpose mmseg mmdet] [-v]

Same randomised weights and BN statistics, loaded strictly both ways, eval mode. The default
compares bare backbones on inputs whose sides are not multiples of 32 (see
``mmhrnet.utils.fidelity.TEST_SIZES``); ``--sweep`` builds every HRNet config the installed
packages ship as a whole model both ways, with the drop-in change applied
(``DROP_IN_CHANGES``), and prints configs found / checked / equal per package.
"""
import argparse

from mmhrnet.models import arch_to_extra
from mmhrnet.utils.fidelity import DROP_IN_CHANGES, TEST_SIZES, compare_extra, sweep_package


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--widths', type=int, nargs='+', default=[18, 32, 48])
    parser.add_argument('--sweep', action='store_true', help='every shipped HRNet config')
    parser.add_argument('--packages', nargs='+', default=list(DROP_IN_CHANGES),
                        choices=list(DROP_IN_CHANGES))
    parser.add_argument('-v', '--verbose', action='store_true', help='one line per config')
    args = parser.parse_args()
    if args.sweep:
        print(f"{'package':<8} {'found':>5} {'checked':>7} {'equal':>5} {'models':>6} "
              f"{'seconds':>7} {'cpu s':>7}")
        for package in args.packages:
            res = sweep_package(package, log=print if args.verbose else None)
            print(f"{package:<8} {res['found']:>5} {res['checked']:>7} {res['equal']:>5} "
                  f"{res['unique']:>6} {res['seconds']:>7.1f} {res['cpu_seconds']:>7.1f}")
            for path, reason in res['failures'].items():
                print(f'  {path}: {reason}')
        return
    print(f"{'package':<8} {'width':>5} {'keys':>5} {'inputs':<20} {'max rel diff':>12}")
    for package in TEST_SIZES:
        for width in args.widths:
            res = compare_extra(package, arch_to_extra(f'w{width}'))
            sizes = ', '.join(f'{h}x{w}' for h, w in TEST_SIZES[package])
            print(f"{package:<8} {width:>5} {res['keys']:>5} {sizes:<20} "
                  f"{res['max_rel_diff']:>12.2e}")


if __name__ == '__main__':
    main()
