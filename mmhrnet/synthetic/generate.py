"""Deterministic synthetic people in COCO format, for pose, human parsing and detection.

Each image holds 1 to 4 front-facing articulated figures (ellipse head with eyes, nose, mouth,
hair and ears; quadrilateral torso; capsule limbs) over a random background of gradients, noise
and clutter shapes, sometimes with a foreground object in front of them. People drawn later
occlude earlier ones, so the annotations are modal: masks, boxes and areas count visible pixels
only, and a keypoint inside the image whose own body part is hidden (by another person, an
object or the person's own limb) gets visibility 1.

Layout written by :func:`generate_synthetic_people`::

    <out>/meta.json                                  generator version, arguments, counts
    <out>/{train,val}/NNNNNNNNNNNN.jpg               images (12-digit image id, as COCO)
    <out>/parts/{train,val}/NNNNNNNNNNNN.png         uint8 part label maps (``PART_CLASSES``)
    <out>/annotations/person_keypoints_{train,val}.json
    <out>/person_detection_results/detections_{train,val}.json

Coordinates follow COCO's own mixed conventions: keypoints are pixel indices (pixel ``(i, j)``
has its centre at ``(i, j)``), while boxes and polygons use pixel corners (pixel ``(i, j)``
covers ``[i, i + 1) x [j, j + 1)``). The polygons decode (pycocotools / xtcocotools) to the
visible mask, holes included, up to a simplification of ``POLYGON_TOLERANCE`` pixels;
``bbox`` and ``area`` are exact. Keypoints outside the image are ``(0, 0, 0)``; hidden ones
(v=1) may lie outside the modal ``bbox`` when a whole limb is covered.

Every image is drawn from its own ``np.random.default_rng((seed, split, index))``, so the
output does not depend on generation order or on the number of images in the other split.

Part labels split left from right, so a horizontal flip must swap ``PART_FLIP_PAIRS`` the way
pose flips swap keypoints.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
import time

import cv2
import numpy as np

from .meta import (COCO_KEYPOINTS, COCO_PERSON_CATEGORY, GENERATOR_VERSION, MAX_PERSONS,
                  PART_CLASSES, PART_FLIP_PAIRS, PART_PALETTE, SPLITS)
from .render import make_sample

def _dump(obj, path, **kwargs):
    with open(path, 'w') as f:
        json.dump(obj, f, **kwargs)


def dataset_config(num_train, num_val, size, seed):
    """What identifies a generated folder: same config, same bytes."""
    # The generator's name in meta.json since version 1 (before the package moved): kept so that
    # folders made earlier are still recognised as ours.
    return dict(generator='mmhrnet.datasets.synthetic_people', version=GENERATOR_VERSION,
                seed=int(seed), size=[int(s) for s in size], num_train=int(num_train),
                num_val=int(num_val))


def _paths(root):
    return {split: dict(img_dir=osp.join(root, split), part_dir=osp.join(root, 'parts', split),
                        ann_file=osp.join(root, 'annotations', f'person_keypoints_{split}.json'),
                        det_file=osp.join(root, 'person_detection_results',
                                          f'detections_{split}.json'))
            for split in SPLITS}


def _write_split(root, split, num, size, seed, progress):
    images, anns, dets = [], [], []
    bar = None
    if progress and num:
        from mmengine.utils import ProgressBar
        print(f'{split}:')
        bar = ProgressBar(num)
    for index in range(num):
        info, a, d = make_sample(root, split, index, size, seed)
        images.append(info)
        anns += a
        dets += d
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    paths = _paths(root)[split]
    coco = dict(info=dict(description=f'mmhrnet synthetic people ({split})',
                          version=str(GENERATOR_VERSION)),
                images=images, annotations=anns, categories=[COCO_PERSON_CATEGORY])
    _dump(coco, paths['ann_file'], separators=(',', ':'))
    _dump(dets, paths['det_file'], separators=(',', ':'))
    vis = np.array([a['keypoints'][2::3] for a in anns]).reshape(-1)
    return dict(images=num, persons=len(anns),
                persons_per_image=np.bincount([len(a) for a in _group(images, anns)],
                                              minlength=MAX_PERSONS + 1).tolist(),
                keypoints_by_visibility=np.bincount(vis.astype(int), minlength=3).tolist(),
                detections=len(dets))


def _group(images, anns):
    by_id = {img['id']: [] for img in images}
    for a in anns:
        by_id[a['image_id']].append(a)
    return list(by_id.values())


def generate_synthetic_people(out_dir, num_train=1000, num_val=200, size=(256, 256), seed=0,
                              overwrite=False, progress=False):
    """Writes a synthetic people dataset to ``out_dir``, or reuses the one already there.

    The dataset is built in a temporary sibling folder and moved into place at the end, so an
    interrupted run leaves nothing half-written under ``out_dir``.

    Args:
        out_dir (str): Destination folder.
        num_train (int): Training images.
        num_val (int): Validation images.
        size (tuple[int, int]): Image (H, W).
        seed (int): Base seed.
        overwrite (bool): Replace an existing dataset made with other arguments. Only folders
            with this generator's ``meta.json`` are ever replaced; one made with the same
            arguments by an older ``GENERATOR_VERSION`` is replaced without asking.
        progress (bool): Show a progress bar per split.

    Returns:
        dict: ``out_dir``, ``created`` (False when an identical dataset was reused), ``meta``
        (the content of ``meta.json``) and per-split paths under ``splits``; when created, also
        ``seconds`` and ``replaced`` (the config of the dataset it replaced, or None).

    Raises:
        FileExistsError: ``out_dir`` holds something else (a different dataset without
            ``overwrite``, or files that are not a synthetic people dataset).
    """
    out_dir = osp.abspath(out_dir)
    config = dataset_config(num_train, num_val, size, seed)
    meta_file = osp.join(out_dir, 'meta.json')
    old_meta = None
    if osp.exists(meta_file):
        with open(meta_file) as f:
            old_meta = json.load(f)
        old = old_meta.get('config', {})
        if old == config:
            return dict(out_dir=out_dir, created=False, meta=old_meta, splits=_paths(out_dir))
        diff = {k: (old.get(k), v) for k, v in config.items() if old.get(k) != v}
        # The same request made with an older generator is stale, not someone else's data.
        stale = old.get('generator') == config['generator'] and set(diff) == {'version'}
        if old.get('generator') != config['generator'] or not (overwrite or stale):
            raise FileExistsError(
                f'{out_dir} already holds a different synthetic people dataset '
                f'(existing vs requested: {diff}); remove it, choose another folder or pass '
                f'overwrite=True (--overwrite)')
    elif osp.exists(out_dir) and (not osp.isdir(out_dir) or os.listdir(out_dir)):
        raise FileExistsError(f'{out_dir} exists and is not a synthetic people dataset '
                              '(no meta.json); choose an empty or new folder')

    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.tmp-', dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would otherwise stick to out_dir
    try:
        for p in _paths(tmp).values():
            for key in ('img_dir', 'part_dir', 'ann_file', 'det_file'):
                os.makedirs(p[key] if key.endswith('dir') else osp.dirname(p[key]),
                            exist_ok=True)
        start = time.perf_counter()
        stats = {split: _write_split(tmp, split, num, config['size'], seed, progress)
                 for split, num in (('train', num_train), ('val', num_val))}
        meta = dict(config=config, stats=stats, part_classes=list(PART_CLASSES),
                    part_palette=[list(c) for c in PART_PALETTE],
                    part_flip_pairs=[list(p) for p in PART_FLIP_PAIRS],
                    keypoints=list(COCO_KEYPOINTS), opencv=cv2.__version__,
                    numpy=np.__version__)
        _dump(meta, osp.join(tmp, 'meta.json'), indent=2)
        elapsed = time.perf_counter() - start
        if old_meta is not None:
            trash = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.old-', dir=parent)
            os.replace(out_dir, osp.join(trash, 'old'))
            os.replace(tmp, out_dir)
            shutil.rmtree(trash)
        else:
            if osp.isdir(out_dir):
                os.rmdir(out_dir)  # empty, checked above
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dict(out_dir=out_dir, created=True, meta=meta, splits=_paths(out_dir),
                seconds=elapsed, replaced=old_meta and old_meta['config'])
