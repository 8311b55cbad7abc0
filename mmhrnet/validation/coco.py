"""Checks of COCO-format annotation and detection files: one error naming the file and the item.

The pose, segmentation and detection datasets run these before training, so a malformed file
fails at start-up with ``<file>: annotation 17 (image 3): 'bbox' has 3 values, expected 4``
instead of a numpy reshape error, a silently dropped person or an error about another cause.
"""
import difflib
import json
import math
import os.path as osp

import numpy as np
from mmengine.logging import print_log


class MalformedInputError(ValueError):
    """An input file that cannot be used as it is; the message names the file and the item."""


def _short(value, limit=60):
    text = repr(value).replace('\n', ' ')
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value)


def load_json(path, what='annotation file'):
    """``json.load`` of ``path`` with one clear error for a missing, unreadable or invalid file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MalformedInputError(f'{what} {path} is not valid JSON (truncated or not a JSON '
                                  f'file?): {e}') from None


def _unknown_keys(item, known, where, path):
    """Refuse keys that look like misspellings of known ones (other extra keys are allowed:
    COCO variants carry their own)."""
    for key in item:
        if key in known or not isinstance(key, str):
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        if close and close[0] not in item:
            raise MalformedInputError(f'{path}: {where}: unknown key {key!r} (did you mean '
                                      f'{close[0]!r}?)')


def _check_bbox(bbox, where, path):
    """Returns True for a usable box, False for a zero-size one (skipped, as upstream does)."""
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        got = f'has {len(bbox)} values' if isinstance(bbox, (list, tuple)) else \
            f'is {_short(bbox)}'
        raise MalformedInputError(f"{path}: {where}: 'bbox' {got}, expected [x, y, w, h]")
    for name, value in zip('xywh', bbox):
        if not _is_number(value):
            raise MalformedInputError(f"{path}: {where}: 'bbox' {name} is {_short(value)}, "
                                      'expected a finite number')
    if bbox[2] < 0 or bbox[3] < 0:
        raise MalformedInputError(f"{path}: {where}: 'bbox' has a negative size "
                                  f'(w={bbox[2]}, h={bbox[3]})')
    return bbox[2] > 0 and bbox[3] > 0


def _check_segmentation(seg, where, path):
    if isinstance(seg, dict):
        if 'counts' not in seg or 'size' not in seg:
            raise MalformedInputError(f"{path}: {where}: RLE 'segmentation' needs 'counts' and "
                                      "'size'")
        return
    if not isinstance(seg, list):
        raise MalformedInputError(f"{path}: {where}: 'segmentation' is {_short(seg)}, expected "
                                  'polygons (a list of lists) or RLE (a dict)')
    for poly in seg:
        if (not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2
                or not all(_is_number(v) for v in poly)):
            raise MalformedInputError(f"{path}: {where}: 'segmentation' polygon {_short(poly)} "
                                      'is not a list of >= 3 finite (x, y) pairs')


ANN_KEYS = ('id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd', 'segmentation',
            'keypoints', 'num_keypoints')
IMAGE_KEYS = ('id', 'file_name', 'height', 'width')
DET_KEYS = ('image_id', 'category_id', 'bbox', 'score')


def _check_entry(item, index, section, name, known, seen, path):
    """An image or annotation: an object with a new integer ``id``; returns how to name it."""
    where = f'{section}[{index}]'
    if not isinstance(item, dict):
        raise MalformedInputError(f'{path}: {where} is {_short(item)}, expected an object')
    _unknown_keys(item, known, where, path)
    if not _is_int(item.get('id')):
        raise MalformedInputError(f"{path}: {where}: 'id' is {_short(item.get('id'))}, "
                                  'expected an integer')
    if item['id'] in seen:
        raise MalformedInputError(f'{path}: {name} {item["id"]} appears twice in {section}')
    seen.add(item['id'])
    return f'{name} {item["id"]}'


def check_coco(data, path, num_keypoints=None, need_bbox=True, need_segmentation=False,
               zero_boxes=True):
    """Check a COCO annotation dict loaded from ``path``.

    Args:
        data: The file's content.
        path (str): The file, for the messages.
        num_keypoints (int, optional): Pose: every annotation needs ``keypoints`` with this many
            (x, y, v) triplets.
        need_bbox (bool): Every annotation needs ``bbox``.
        need_segmentation (bool): Every non-crowd annotation needs ``segmentation``.
        zero_boxes (bool): Whether a zero-width or -height box is allowed (counted).

    Returns:
        int: How many annotations have a zero-size box (upstream skips those).

    Raises:
        MalformedInputError: naming ``path`` and the image / annotation.
    """
    if not isinstance(data, dict):
        raise MalformedInputError(f'{path} is not a COCO annotation file: the top level is a '
                                  f'{type(data).__name__}, expected an object')
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise MalformedInputError(f'{path} is not a COCO annotation file: no {key!r}')
        if not isinstance(data[key], list):
            raise MalformedInputError(f'{path}: {key!r} is {type(data[key]).__name__}, '
                                      'expected a list')
    cat_ids = set()
    for i, cat in enumerate(data['categories']):
        if not isinstance(cat, dict) or not _is_int(cat.get('id')):
            raise MalformedInputError(f"{path}: categories[{i}] has no integer 'id'")
        cat_ids.add(cat['id'])
    image_ids = set()
    for i, img in enumerate(data['images']):
        where = _check_entry(img, i, 'images', 'image', IMAGE_KEYS, image_ids, path)
        if not isinstance(img.get('file_name'), str) or not img['file_name']:
            raise MalformedInputError(f"{path}: {where}: 'file_name' is "
                                      f"{_short(img.get('file_name'))}, expected a file name")
        for key in ('height', 'width'):
            if not _is_number(img.get(key)) or img[key] <= 0:
                raise MalformedInputError(f'{path}: {where}: {key!r} is '
                                          f'{_short(img.get(key))}, expected a positive number')
    ann_ids, zero = set(), 0
    for i, ann in enumerate(data['annotations']):
        where = _check_entry(ann, i, 'annotations', 'annotation', ANN_KEYS, ann_ids, path)
        if not _is_int(ann.get('image_id')) or ann['image_id'] not in image_ids:
            raise MalformedInputError(f"{path}: {where}: 'image_id' {_short(ann.get('image_id'))}"
                                      ' is not the id of an image in this file')
        where += f' (image {ann["image_id"]})'
        if not _is_int(ann.get('category_id')) or ann['category_id'] not in cat_ids:
            raise MalformedInputError(f"{path}: {where}: 'category_id' "
                                      f"{_short(ann.get('category_id'))} is not a category of "
                                      'this file')
        if 'bbox' in ann or need_bbox:
            if 'bbox' not in ann:
                raise MalformedInputError(f"{path}: {where}: no 'bbox'")
            usable = _check_bbox(ann['bbox'], where, path)
            if not usable and not zero_boxes:
                raise MalformedInputError(f"{path}: {where}: 'bbox' {ann['bbox']} has zero size")
            zero += not usable
        if 'iscrowd' in ann and ann['iscrowd'] not in (0, 1):
            raise MalformedInputError(f"{path}: {where}: 'iscrowd' is {_short(ann['iscrowd'])},"
                                      ' expected 0 or 1')
        if 'area' in ann and (not _is_number(ann['area']) or ann['area'] < 0):
            raise MalformedInputError(f"{path}: {where}: 'area' is {_short(ann['area'])}, "
                                      'expected a finite number >= 0')
        if 'segmentation' in ann:
            _check_segmentation(ann['segmentation'], where, path)
        elif need_segmentation and not ann.get('iscrowd'):
            raise MalformedInputError(f"{path}: {where}: no 'segmentation'")
        if num_keypoints is not None:
            _check_keypoints(ann, num_keypoints, where, path)
    return zero


def _check_keypoints(ann, num_keypoints, where, path):
    kpts = ann.get('keypoints')
    if kpts is None:
        raise MalformedInputError(f"{path}: {where}: no 'keypoints' (is this a "
                                  'person_keypoints file?)')
    if not isinstance(kpts, list) or len(kpts) != 3 * num_keypoints:
        got = f'{len(kpts)} numbers' if isinstance(kpts, list) else _short(kpts)
        raise MalformedInputError(f"{path}: {where}: 'keypoints' has {got}, expected "
                                  f'{3 * num_keypoints} ({num_keypoints} x, y, visibility)')
    for j, value in enumerate(kpts):
        if not _is_number(value):
            raise MalformedInputError(f"{path}: {where}: keypoint {j // 3} "
                                      f"{'xyv'[j % 3]} is {_short(value)}, expected a finite "
                                      'number')
        if j % 3 == 2 and value not in (0, 1, 2):
            raise MalformedInputError(f'{path}: {where}: keypoint {j // 3} visibility is '
                                      f'{_short(value)}, expected 0, 1 or 2')
    if 'num_keypoints' in ann and (not _is_int(ann['num_keypoints'])
                                   or not 0 <= ann['num_keypoints'] <= num_keypoints):
        raise MalformedInputError(f"{path}: {where}: 'num_keypoints' is "
                                  f"{_short(ann['num_keypoints'])}, expected an integer in "
                                  f'0..{num_keypoints}')


def check_detections(data, path, image_ids=None, ann_file=None, need_category=True):
    """Check a COCO results-format detection file (a list of boxes with scores).

    Args:
        data: The file's content.
        path (str): The file, for the messages.
        image_ids (set, optional): The ids an ``image_id`` must be one of; None: any integer.
        ann_file (str, optional): Where ``image_ids`` come from, for the messages.
        need_category (bool): Every detection needs ``category_id``.

    Returns:
        int: How many detections have a zero-size box.
    """
    if not isinstance(data, list):
        raise MalformedInputError(f'{path} is not a COCO detection results file: the top level '
                                  f'is a {type(data).__name__}, expected a list')
    unknown = [] if image_ids is None else [
        i for i, d in enumerate(data) if isinstance(d, dict) and _is_int(d.get('image_id'))
        and d['image_id'] not in image_ids]
    if unknown:  # typically a detection file of another split: say how much of it
        ids = sorted({data[i]['image_id'] for i in unknown})
        raise MalformedInputError(
            f'detection file {path} names {len(ids)} image id(s) that are not in '
            f'{ann_file or "the annotation file"}, e.g. {ids[:5]} (first: detection '
            f'{unknown[0]})')
    zero = 0
    for i, det in enumerate(data):
        where = f'detection {i}'
        if not isinstance(det, dict):
            raise MalformedInputError(f'{path}: {where} is {_short(det)}, expected an object')
        _unknown_keys(det, DET_KEYS, where, path)
        for key in DET_KEYS:
            if key not in det and (need_category or key != 'category_id'):
                raise MalformedInputError(f'{path}: {where}: no {key!r}')
        if not _is_int(det['image_id']):
            raise MalformedInputError(f"{path}: {where}: 'image_id' is "
                                      f"{_short(det['image_id'])}, expected an integer")
        if image_ids is not None and det['image_id'] not in image_ids:
            raise MalformedInputError(
                f"{path}: {where}: 'image_id' {_short(det['image_id'])} is not an image of "
                f'{ann_file or "the annotation file"}')
        where += f' (image {det["image_id"]})'
        if 'category_id' in det and not _is_int(det['category_id']):
            raise MalformedInputError(f"{path}: {where}: 'category_id' is "
                                      f"{_short(det['category_id'])}, expected an integer")
        zero += not _check_bbox(det['bbox'], where, path)
        if not _is_number(det['score']):
            raise MalformedInputError(f"{path}: {where}: 'score' is {_short(det['score'])}, "
                                      'expected a finite number')
    return zero


def load_detections(path, category_id=1, image_ids=None, ann_file=None, need_category=True,
                    keep_zero=False, score_thr=None, what='detection file'):
    """The boxes of one category in a COCO detection results file (mmpose's ``bbox_file``),
    checked first (:func:`check_detections`): one error naming the file and the detection.

    Args:
        path (str): The file.
        category_id (int): The category kept (1: person); a detection without one is of it
            when ``need_category`` is False.
        image_ids, ann_file, need_category: As :func:`check_detections`.
        keep_zero (bool): Keep zero-size boxes (as mmpose does); else they are skipped. Either
            way one line says how many there were.
        score_thr (float, optional): Leave out detections scored below it.
        what (str): What the messages call the file.

    Returns:
        dict: image id -> ``(N, 5)`` float64 array of ``x1, y1, x2, y2, score``.

    Raises:
        OSError: the file cannot be read.
        MalformedInputError: not JSON, or a malformed detection.
    """
    entries = load_json(path, what)
    zero = check_detections(entries, path, image_ids, ann_file, need_category)
    log_zero_boxes(zero, 'detections', path, 'kept (as mmpose does)' if keep_zero else 'skipped')
    boxes = {}
    for entry in entries:
        x, y, w, h = entry['bbox']
        if entry.get('category_id', category_id) != category_id or \
                (score_thr is not None and entry['score'] < score_thr) or \
                (not keep_zero and (w <= 0 or h <= 0)):
            continue
        boxes.setdefault(entry['image_id'], []).append([x, y, x + w, y + h, entry['score']])
    return {k: np.array(v, dtype=np.float64) for k, v in boxes.items()}


def log_zero_boxes(count, what, path, action='skipped'):
    """The one line for the items with a zero-size box (which mmdet skips)."""
    if count:
        print_log(f'{path}: {count} {what} with a zero-size box {action}', logger='current',
                  level=30)
