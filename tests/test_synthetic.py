"""The synthetic people generator: deterministic, valid COCO, consistent labels."""
import filecmp
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from xtcocotools.coco import COCO

from mmhrnet.datasets import PART_CLASSES, generate_synthetic_people


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp('synth') / 'people'
    return generate_synthetic_people(str(out), num_train=12, num_val=6, size=(128, 160), seed=3)


def all_files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_deterministic_and_reused(synth, tmp_path):
    again = generate_synthetic_people(str(tmp_path / 'b'), num_train=12, num_val=6,
                                      size=(128, 160), seed=3)
    files = all_files(synth['out_dir'])
    assert files == all_files(again['out_dir']) and len(files) > 30
    match, mismatch, errors = filecmp.cmpfiles(synth['out_dir'], again['out_dir'], files,
                                               shallow=False)
    assert not mismatch and not errors
    reused = generate_synthetic_people(synth['out_dir'], num_train=12, num_val=6,
                                       size=(128, 160), seed=3)
    assert reused['created'] is False
    with pytest.raises(FileExistsError, match='different synthetic people dataset'):
        generate_synthetic_people(synth['out_dir'], num_train=12, num_val=6, size=(128, 160),
                                  seed=4)


def test_coco_keypoints_are_consistent(synth):
    for split in ('train', 'val'):
        coco = COCO(synth['splits'][split]['ann_file'])
        persons_per_image = []
        for img in coco.loadImgs(coco.getImgIds()):
            assert (img['height'], img['width']) == (128, 160)
            assert osp.isfile(osp.join(synth['splits'][split]['img_dir'], img['file_name']))
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img['id']))
            persons_per_image.append(len(anns))
            instance_union = np.zeros((128, 160), bool)
            for ann in anns:
                kpts = np.array(ann['keypoints']).reshape(17, 3)
                assert set(kpts[:, 2]) <= {0, 1, 2}
                assert ann['num_keypoints'] == (kpts[:, 2] > 0).sum()
                assert np.all(kpts[kpts[:, 2] == 0, :2] == 0)
                x, y, w, h = ann['bbox']
                vis = kpts[kpts[:, 2] == 2]  # occluded ones may lie outside the visible box
                assert np.all((vis[:, 0] >= x - 2) & (vis[:, 0] <= x + w + 2))
                assert np.all((vis[:, 1] >= y - 2) & (vis[:, 1] <= y + h + 2))
                assert np.all((vis[:, 0] >= 0) & (vis[:, 0] < 160) & (vis[:, 1] < 128))
                assert all(len(poly) >= 6 for poly in ann['segmentation'])
                instance_union |= coco.annToMask(ann).astype(bool)
            parts = cv2.imread(osp.join(
                synth['splits'][split]['part_dir'], img['file_name'][:-4] + '.png'), 0)
            assert parts.max() < len(PART_CLASSES)
            union = parts > 0
            iou = (union & instance_union).sum() / max((union | instance_union).sum(), 1)
            assert iou > 0.95
        assert max(persons_per_image) >= 2


def test_occlusion_and_detections(synth):
    vis = []
    for split in ('train', 'val'):
        ann = json.load(open(synth['splits'][split]['ann_file']))
        ids = {img['id'] for img in ann['images']}
        vis += [v for a in ann['annotations'] for v in a['keypoints'][2::3]]
        dets = json.load(open(synth['splits'][split]['det_file']))
        assert dets and {d['image_id'] for d in dets} <= ids
        assert all(d['category_id'] == 1 and 0 < d['score'] <= 1 for d in dets)
    assert vis.count(1) > 0 and vis.count(2) > vis.count(1)


def test_mmpose_reads_it(synth):
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')
    from mmhrnet.pose import TopdownCocoDataset
    paths = synth['splits']['val']
    ds = TopdownCocoDataset(ann_file=paths['ann_file'], data_root='',
                            data_prefix=dict(img=paths['img_dir'] + '/'), pipeline=[])
    assert len(ds) > 0 and ds[0]['keypoints'].shape == (1, 17, 2)
    det = TopdownCocoDataset(ann_file=paths['ann_file'], data_root='', test_mode=True,
                             bbox_file=paths['det_file'],
                             data_prefix=dict(img=paths['img_dir'] + '/'), pipeline=[])
    assert len(det) == len(json.load(open(paths['det_file'])))
