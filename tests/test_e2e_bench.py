"""The end-to-end pipeline benchmark: exact person counts, its rows against the upstream
pipeline, the table's ratio columns and the chart (torch path only: no export, seconds)."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmhrnet.analysis.pipeline_bench import (UPSTREAM, benchmark_pipeline, count_rows,
                                             crowd_images, format_table, plot, preset_configs)


@pytest.mark.parametrize('count', [1, 4, 5])
def test_crowd_images_hold_exactly_count_people(tmp_path, count):
    data = crowd_images(str(tmp_path), count, 2, size=(96, 128), seed=count)
    with open(data['bbox_file']) as f:
        dets = json.load(f)
    assert len(dets) == 2 * count
    for image_id, boxes in data['boxes'].items():
        image = cv2.imread(osp.join(data['folder'], f'{image_id:012d}.jpg'))
        assert image.shape == (96, 128, 3) and boxes.shape == (count, 4)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 128).all() and \
            (boxes[:, 3] <= 96).all() and (boxes[:, 2:] > boxes[:, :2]).all()


def test_rows_against_upstream_and_chart(tmp_path):
    pose, det = preset_configs('quick')
    rows = benchmark_pipeline(pose, det, str(tmp_path), counts=(2, ), images=1,
                              size=(128, 128), paths=('torch', ), scenarios=('given boxes', ),
                              rounds=1, net_seconds=0.05, log=lambda *a: None)
    assert len(rows) == count_rows((2, ), ('torch', ), ('given boxes', ))
    assert [r['path'] for r in rows] == [UPSTREAM, 'torch']
    up, ours = rows
    assert up['ratio'] == 1 and up['net_ratio'] == 1
    assert ours['found'] == 2 and ours['img_s'] > 0 and ours['latency_ms'] > 0
    assert ours['e2e_vs_net'] == pytest.approx(ours['ratio'] / ours['net_ratio'])
    # same weights, same boxes: the torch path writes upstream's keypoints
    assert ours['kpt_diff_px'] < 1e-2
    table = format_table(rows).splitlines()
    assert 'vs upstream' in table[0] and 'network vs upstream' in table[0] and \
        'e2e / network' in table[0]
    assert len(table) == 2 + len(rows) and table[-1].startswith('| given boxes | 2 | torch |')
    plot(rows, str(tmp_path / 'chart.png'))
    assert cv2.imread(str(tmp_path / 'chart.png')) is not None
    assert not np.isnan(ours['net_ratio'])


def test_one_pass_against_the_three_models(tmp_path):
    """The one-pass benchmark: the three single-task models first, the multi-task model after,
    both sides decoding keypoints for exactly the persons count; its table and chart."""
    from mmhrnet.analysis.one_pass_bench import (MULTITASK, REFERENCE, SPECIALISTS,
                                                 benchmark_one_pass)
    from mmhrnet.analysis.one_pass_bench import format_rows as one_pass_table
    from mmhrnet.analysis.one_pass_bench import plot as one_pass_plot
    from mmhrnet.utils.build import config_file, load_config
    specialists = {t: load_config(config_file(c)) for t, c in SPECIALISTS.items()}
    rows = benchmark_one_pass(load_config(config_file(MULTITASK)), specialists, str(tmp_path),
                              counts=(3, ), images=1, paths=('torch', ), rounds=1,
                              log=lambda *a: None)
    assert [r['path'] for r in rows] == [REFERENCE, 'torch']
    assert [r['found'] for r in rows] == [3, 3]
    assert rows[0]['ratio'] == 1 and rows[1]['ratio'] == pytest.approx(
        rows[1]['img_s'] / rows[0]['img_s'])
    with open(next((tmp_path / 'out' / '3_torch' / 'predictions').iterdir())) as f:
        persons = json.load(f)
    assert len(persons) == 3 and all(len(p['keypoints']) == 17 * 3 for p in persons)
    table = one_pass_table(rows).splitlines()
    assert 'vs three torch models' in table[0] and len(table) == 2 + len(rows)
    one_pass_plot(rows, str(tmp_path / 'chart.png'))
    assert cv2.imread(str(tmp_path / 'chart.png')) is not None


def test_random_coco_detector_finds_the_persons_asked_for(tmp_path):
    """The published preset's 80-class Faster R-CNN with random weights: after
    ``_cap_detections`` upstream's detector keeps exactly N person boxes of sensible size (its
    random box deltas would throw zero-width boxes onto the border; its random classes would
    seldom be persons, which both pipelines keep alone)."""
    import torch
    from mmdet.apis import inference_detector
    from mmengine.registry import DefaultScope

    from mmhrnet.analysis.pipeline_bench import _cap_detections, random_checkpoint
    from mmhrnet.utils.build import build_model
    _, det = preset_configs('published')
    det.test_dataloader.dataset.pipeline[1].scale = (320, 256)  # small: seconds
    random_checkpoint(det, str(tmp_path / 'det.pth'))
    model = build_model(det)
    model.load_state_dict(torch.load(str(tmp_path / 'det.pth'))['state_dict'])
    model.cfg = det
    _cap_detections(model.eval(), 3)
    image = cv2.imread(osp.join(crowd_images(str(tmp_path), 3, 1, size=(240, 320))['folder'],
                                '000000000001.jpg'))
    with DefaultScope.overwrite_default_scope('mmdet'):
        inst = inference_detector(model, image).pred_instances
    assert inst.labels.tolist() == [0, 0, 0]
    sides = (inst.bboxes[:, 2:] - inst.bboxes[:, :2]).numpy()
    assert (sides >= 8).all()
