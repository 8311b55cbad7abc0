"""Writes the synthetic people dataset (COCO keypoints, masks, part maps, person detections).

    python tools/misc/make_synthetic_people.py --out data/synthetic_people
    python tools/misc/make_synthetic_people.py --out /tmp/sp --num-train 100 --num-val 20 \\
        --size 256 192 --seed 1

Running it again with the same arguments reuses the folder; different arguments on an existing
folder stop with an error unless ``--overwrite`` is given. See
``mmhrnet/synthetic/generate.py`` for the layout and conventions.
"""
import argparse
import os
import os.path as osp

from mmhrnet.synthetic import generate_synthetic_people


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/synthetic_people', help='output folder')
    parser.add_argument('--num-train', type=int, default=1000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--size', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true',
                        help='replace a synthetic people dataset made with other arguments')
    return parser.parse_args()


def folder_size(path):
    return sum(osp.getsize(osp.join(d, f)) for d, _, files in os.walk(path) for f in files)


def main():
    args = parse_args()
    if min(args.size) < 32 or min(args.num_train, args.num_val) < 0:
        raise SystemExit('--size needs H, W >= 32 and the image counts must be >= 0')
    try:
        result = generate_synthetic_people(args.out, args.num_train, args.num_val,
                                           tuple(args.size), args.seed,
                                           overwrite=args.overwrite, progress=True)
    except FileExistsError as e:
        raise SystemExit(f'error: {e}')
    out, meta = result['out_dir'], result['meta']
    if not result['created']:
        print(f'{out} already holds this dataset ({meta["config"]}); nothing written')
        return
    print(f'wrote {out} ({folder_size(out) / 2**20:.1f} MiB) in {result["seconds"]:.1f} s')
    if result['replaced']:
        print(f'  replaced the dataset made with {result["replaced"]}')
    for split, paths in result['splits'].items():
        s = meta['stats'][split]
        v0, v1, v2 = s['keypoints_by_visibility']
        print(f'  {split}: {s["images"]} images, {s["persons"]} persons '
              f'(images with 0..4 persons: {s["persons_per_image"]}), keypoints visible '
              f'{v2} / occluded {v1} / unlabelled {v0}, {s["detections"]} detections')
        for key in ('img_dir', 'part_dir', 'ann_file', 'det_file'):
            print(f'    {key:9s} {osp.relpath(paths[key], out)}')
    print(f'  meta      {osp.join(out, "meta.json")}')


if __name__ == '__main__':
    main()
