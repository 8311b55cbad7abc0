"""Tile the pictures of a folder (e.g. ``tools/test.py --show-dir``) into one PNG.

    python tools/analysis/montage.py work_dirs/quickstart/vis predictions.png [--max 12]
"""
import argparse
import glob
import os.path as osp

import cv2
import numpy as np


def montage(paths, cols=4, tile=256):
    """Scale each picture to ``tile`` pixels high, crop or pad it to ``tile`` wide, and lay
    them out ``cols`` per row."""
    tiles = []
    for path in paths:
        img = cv2.imread(path)
        if img is None:
            raise ValueError(f'not a readable image: {path}')
        width = max(1, round(img.shape[1] * tile / img.shape[0]))
        img = cv2.resize(img, (width, tile), interpolation=cv2.INTER_AREA)[:, :tile]
        tiles.append(np.pad(img, ((0, 0), (0, tile - img.shape[1]), (0, 0))))
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % cols)
    return np.vstack([np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folder')
    parser.add_argument('out')
    parser.add_argument('--max', type=int, default=12)
    args = parser.parse_args()
    paths = sorted(p for ext in ('jpg', 'png') for p in glob.glob(
        osp.join(args.folder, '**', f'*.{ext}'), recursive=True))[:args.max]
    if not paths:
        raise FileNotFoundError(f'no .jpg or .png pictures under {args.folder}')
    cv2.imwrite(args.out, montage(paths))
    print(f'{len(paths)} pictures -> {args.out}')


if __name__ == '__main__':
    main()
