"""The synthetic people generator writes consistent, deterministic COCO-style data."""
import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from xtcocotools import mask as mask_utils
from xtcocotools.coco import COCO

from mmhrnet.synthetic import (COCO_KEYPOINTS, COCO_SKELETON, KEYPOINT_PARTS, PART_CLASSES,
                              PART_PALETTE, generate_synthetic_people, mask_to_polygons,
                              render_image)
from mmhrnet.synthetic import render as synthetic_render

ROOT = Path(__file__).resolve().parents[1]
SIZE = (160, 128)  # H != W catches swapped axes
NUM_TRAIN, NUM_VAL = 4, 12


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp('synth') / 'people'
    result = generate_synthetic_people(out, NUM_TRAIN, NUM_VAL, SIZE, seed=3)
    return result


def load_split(dataset, split):
    paths = dataset['splits'][split]
    with open(paths['ann_file']) as f:
        coco = json.load(f)
    anns_by_image = {img['id']: [] for img in coco['images']}
    for ann in coco['annotations']:
        anns_by_image[ann['image_id']].append(ann)
    return paths, coco, anns_by_image


def decode(polygons, h=SIZE[0], w=SIZE[1]):
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))) > 0


def iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


def all_files(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob('*') if p.is_file())


def test_layout_and_meta(dataset):
    out = Path(dataset['out_dir'])
    assert dataset['created']
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        images = sorted((out / split).glob('*.jpg'))
        parts = sorted((out / 'parts' / split).glob('*.png'))
        assert len(images) == len(parts) == num
        assert all(len(p.stem) == 12 and p.stem.isdigit() for p in images)
        assert [p.stem for p in images] == [p.stem for p in parts]
        assert (out / 'annotations' / f'person_keypoints_{split}.json').is_file()
        assert (out / 'person_detection_results' / f'detections_{split}.json').is_file()
        img = cv2.imread(str(images[0]))
        part = cv2.imread(str(parts[0]), cv2.IMREAD_UNCHANGED)
        assert img.shape == (*SIZE, 3) and part.shape == SIZE and part.dtype == np.uint8
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['config']['seed'] == 3 and meta['config']['size'] == list(SIZE)
    assert meta['stats']['val']['images'] == NUM_VAL
    assert len(PART_PALETTE) == len(PART_CLASSES) == len(meta['part_classes'])
    # Nothing half-written is left beside the dataset.
    assert os.listdir(out.parent) == ['people']


def test_deterministic_and_order_independent(tmp_path, dataset):
    a = generate_synthetic_people(tmp_path / 'a', 1, 3, SIZE, seed=3)
    b = generate_synthetic_people(tmp_path / 'b', 1, 3, SIZE, seed=3)
    files = all_files(a['out_dir'])
    assert files == all_files(b['out_dir']) and len(files) > 10
    _, mismatch, errors = filecmp.cmpfiles(a['out_dir'], b['out_dir'], files, shallow=False)
    assert not mismatch and not errors
    # Each image has its own seed: the module's 12-image run starts with the same 3 images.
    for name in sorted(os.listdir(Path(a['out_dir']) / 'val')):
        for sub in ('val', 'parts/val'):
            ext = '.png' if sub.startswith('parts') else '.jpg'
            assert filecmp.cmp(Path(a['out_dir'], sub, name[:-4] + ext),
                               Path(dataset['out_dir'], sub, name[:-4] + ext), shallow=False)
    c = generate_synthetic_people(tmp_path / 'c', 1, 3, SIZE, seed=4)
    assert not filecmp.cmp(Path(a['out_dir'], 'val', name), Path(c['out_dir'], 'val', name),
                           shallow=False)


def test_loads_with_xtcocotools(dataset):
    coco = COCO(dataset['splits']['val']['ann_file'])
    assert len(coco.getImgIds()) == NUM_VAL
    cat = coco.loadCats(coco.getCatIds())
    assert len(cat) == 1 and cat[0]['id'] == 1 and cat[0]['name'] == 'person'
    assert cat[0]['keypoints'] == list(COCO_KEYPOINTS)
    assert cat[0]['skeleton'][:4] == [[16, 14], [14, 12], [17, 15], [15, 13]]
    assert len(cat[0]['skeleton']) == len(COCO_SKELETON) == 19
    ann = coco.loadAnns(coco.getAnnIds())[0]
    assert coco.annToMask(ann).sum() > 0


@pytest.mark.parametrize('dataset_class', ['mmpose.CocoDataset', 'mmhrnet.TopdownCocoDataset'])
def test_loads_with_mmpose(dataset, dataset_class):
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    if dataset_class == 'mmpose.CocoDataset':
        from mmpose.datasets import CocoDataset
    else:  # what the synthetic pose config trains with
        from mmhrnet.pose import TopdownCocoDataset as CocoDataset
    out = dataset['out_dir']
    _, coco, _ = load_split(dataset, 'val')
    ds = CocoDataset(ann_file='annotations/person_keypoints_val.json', data_root=out,
                     data_prefix=dict(img='val/'), data_mode='topdown', test_mode=False,
                     pipeline=[])
    labelled = [a for a in coco['annotations'] if a['num_keypoints'] > 0]
    assert len(ds) == len(labelled) > NUM_VAL
    item = ds[0]
    assert item['keypoints'].shape == (1, 17, 2) and item['keypoints_visible'].shape == (1, 17)
    assert os.path.isfile(item['img_path'])
    dets = CocoDataset(ann_file='annotations/person_keypoints_val.json', data_root=out,
                       data_prefix=dict(img='val/'), data_mode='topdown', test_mode=True,
                       bbox_file=dataset['splits']['val']['det_file'], pipeline=[])
    with open(dataset['splits']['val']['det_file']) as f:
        assert len(dets) == len(json.load(f))


@pytest.mark.parametrize('split', ['train', 'val'])
def test_keypoints_boxes_and_visibility(dataset, split):
    paths, coco, anns_by_image = load_split(dataset, split)
    H, W = SIZE
    counts = np.zeros(3, int)
    for img in coco['images']:
        assert (img['height'], img['width']) == SIZE
        part = cv2.imread(os.path.join(paths['part_dir'], img['file_name'][:-4] + '.png'),
                          cv2.IMREAD_UNCHANGED)
        for ann in anns_by_image[img['id']]:
            kp = np.array(ann['keypoints'], float).reshape(17, 3)
            v = kp[:, 2]
            assert set(v) <= {0, 1, 2}
            counts += np.bincount(v.astype(int), minlength=3)
            assert ann['num_keypoints'] == (v > 0).sum()
            assert (kp[v == 0, :2] == 0).all()
            x, y, w, h = ann['bbox']
            assert 0 <= x and 0 <= y and x + w <= W and y + h <= H and w > 0 and h > 0
            assert ann['iscrowd'] == 0 and ann['category_id'] == 1 and ann['area'] >= 64
            assert ann['area'] <= w * h
            seen = kp[v > 0]
            assert ((seen[:, 0] >= 0) & (seen[:, 0] <= W - 1)).all()
            assert ((seen[:, 1] >= 0) & (seen[:, 1] <= H - 1)).all()
            # Boxes are modal, so only keypoints seen (v=2) must be in them; hidden ones may
            # lie on a limb that another person covers entirely.
            seen = kp[v == 2]
            assert ((seen[:, 0] >= x - 2) & (seen[:, 0] <= x + w + 2)).all()
            assert ((seen[:, 1] >= y - 2) & (seen[:, 1] <= y + h + 2)).all()
            # A visible keypoint sits on one of its own body parts; the person's left side is
            # on the image's right (front-facing).
            for j in np.flatnonzero(v == 2):
                assert part[int(round(kp[j, 1])), int(round(kp[j, 0]))] in KEYPOINT_PARTS[j]
            if v[5] and v[6]:
                assert kp[5, 0] > kp[6, 0]
    assert counts[2] > 10 * counts[1] / 2 > 0  # mostly visible, with some occluded
    if split == 'val':
        assert counts[0] > 0  # some people are cut by the image border


def test_segmentation_matches_part_maps(dataset):
    paths, coco, anns_by_image = load_split(dataset, 'val')
    persons = []
    for img in coco['images']:
        part = cv2.imread(os.path.join(paths['part_dir'], img['file_name'][:-4] + '.png'),
                          cv2.IMREAD_UNCHANGED)
        assert part.max() < len(PART_CLASSES)
        union = np.zeros(SIZE, bool)
        for ann in anns_by_image[img['id']]:
            assert ann['segmentation'] and all(len(p) >= 6 for p in ann['segmentation'])
            mask = decode(ann['segmentation'])
            assert abs(mask.sum() - ann['area']) <= 0.03 * ann['area'] + 2
            ys, xs = np.nonzero(mask)
            box = [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
            assert np.abs(np.subtract(box, ann['bbox'])).max() <= 1
            assert not (union & mask).sum() > 0.02 * mask.sum()  # modal masks barely overlap
            union |= mask
        persons.append(len(anns_by_image[img['id']]))
        assert iou(union, part > 0) > 0.97
    assert max(persons) >= 3 and np.mean(persons) > 1.5


def test_detections(dataset):
    for split in ('train', 'val'):
        paths, coco, anns_by_image = load_split(dataset, split)
        with open(paths['det_file']) as f:
            dets = json.load(f)
        assert {d['image_id'] for d in dets} <= set(anns_by_image)
        assert all(d['category_id'] == 1 and 0 < d['score'] <= 1 for d in dets)
        assert all(b >= 0 for d in dets for b in d['bbox'])
        for ann in coco['annotations']:
            same_image = [d for d in dets if d['image_id'] == ann['image_id']]
            ious = mask_utils.iou([d['bbox'] for d in same_image], [ann['bbox']], [0]).ravel()
            best = np.argmax(ious)
            assert ious[best] > 0.6 and same_image[best]['score'] >= 0.8
        assert any(d['score'] < 0.5 for d in dets)  # false alarms, with low scores


@pytest.mark.parametrize('min_area', [64, 600])
def test_render_image_in_memory(monkeypatch, min_area):
    # A large minimum area at this size drops people often, exercising the re-rendering.
    monkeypatch.setattr(synthetic_render, 'MIN_VISIBLE_AREA', min_area)
    rng = np.random.default_rng(0)
    for _ in range(6):
        img, persons, part = render_image(rng, (96, 80))
        assert img.shape == (96, 80, 3) and img.dtype == np.uint8 and part.shape == (96, 80)
        assert 1 <= len(persons) <= 4
        masks = np.stack([p['mask'] for p in persons])
        assert masks.sum(0).max() == 1  # painter's order: each pixel belongs to one person
        assert ((part > 0) == masks.any(0)).all()
        for p in persons:
            assert p['keypoints'].shape == (17, 3) and p['area'] == p['mask'].sum()
            assert p['area'] >= min_area


def test_mask_to_polygons_exact_with_holes():
    mask = np.zeros((40, 50), bool)
    mask[5:30, 5:40] = True
    mask[10:15, 10:20] = False  # two holes
    mask[20:25, 25:30] = False
    mask[35, 45] = True  # a lone pixel
    cv2.circle(mask.view(np.uint8), (25, 12), 2, 1, -1)  # an island inside nothing
    polygons = mask_to_polygons(mask, tolerance=0)
    assert all(len(p) >= 6 for p in polygons) and len(polygons) == 2
    assert (decode(polygons, *mask.shape) == mask).all()
    assert iou(decode(mask_to_polygons(mask), *mask.shape), mask) > 0.97


def test_refuses_to_mix(tmp_path):
    out = tmp_path / 'data'
    first = generate_synthetic_people(out, 1, 1, (64, 64), seed=0)
    stamp = os.path.getmtime(out / 'meta.json')
    again = generate_synthetic_people(out, 1, 1, (64, 64), seed=0)
    assert again['created'] is False and os.path.getmtime(out / 'meta.json') == stamp
    with pytest.raises(FileExistsError, match=str(out)):
        generate_synthetic_people(out, 1, 1, (64, 64), seed=1)
    replaced = generate_synthetic_people(out, 1, 2, (64, 64), seed=1, overwrite=True)
    assert replaced['created'] and replaced['meta']['config']['num_val'] == 2
    assert replaced['replaced'] == first['meta']['config']
    # The same arguments from an older generator version are stale: replaced without asking.
    meta = json.loads((out / 'meta.json').read_text())
    meta['config']['version'] -= 1
    (out / 'meta.json').write_text(json.dumps(meta))
    renewed = generate_synthetic_people(out, 1, 2, (64, 64), seed=1)
    assert renewed['created'] and renewed['replaced'] == meta['config']
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'x.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='foreign'):
        generate_synthetic_people(foreign, 1, 1, (64, 64), overwrite=True)
    assert os.listdir(foreign) == ['x.txt']
    assert sorted(os.listdir(tmp_path)) == ['data', 'foreign']


def test_cli(tmp_path):
    out = tmp_path / 'sp'
    cmd = [sys.executable, 'tools/misc/make_synthetic_people.py', '--out', str(out),
           '--num-train', '2', '--num-val', '1', '--size', '64', '48', '--seed', '5']
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'wrote {out}' in proc.stdout and 'person_keypoints_val.json' in proc.stdout
    assert len(list((out / 'train').glob('*.jpg'))) == 2
    proc = subprocess.run(cmd[:-1] + ['6'], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and str(out) in proc.stderr
