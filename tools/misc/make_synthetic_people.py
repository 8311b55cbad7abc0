"""Generate the synthetic people dataset (COCO keypoints, boxes, masks, parts, detections).

    python tools/misc/make_synthetic_people.py --out data/synthetic_people \
        [--num-train 1000] [--num-val 200] [--size 256 256] [--seed 0] [--overwrite]

Deterministic: the same arguments give byte-identical files. An existing folder made with the
same arguments is reused; one made with other arguments is an error unless --overwrite.
"""
import argparse

from mmhrnet.datasets import generate_synthetic_people


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/synthetic_people')
    parser.add_argument('--num-train', type=int, default=1000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--size', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true',
                        help='replace a synthetic dataset made with other arguments')
    args = parser.parse_args()
    res = generate_synthetic_people(args.out, args.num_train, args.num_val, tuple(args.size),
                                    args.seed, overwrite=args.overwrite, progress=True)
    if not res['created']:
        print(f"{res['out_dir']}: already generated with these arguments, reused")
        return
    for split, stats in res['meta']['stats'].items():
        print(f"{split}: {stats['images']} images, {stats['persons']} persons, "
              f"{stats['detections']} detections -> {res['splits'][split]['ann_file']}")
    print(f"written to {res['out_dir']} in {res['seconds']:.1f} s")


if __name__ == '__main__':
    main()
