"""COCO test-dev submission: format check, packaging and the check_submission tool."""
import copy
import json
import math
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mmhrnet.evaluation import (SubmissionFormatError, check_results, load_image_ids,
                                package_submission, submission_filename)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / 'shared' / 'data'
COCO_TINY = DATA / 'coco_tiny'
IMAGE_INFO = COCO_TINY / 'test_coco.json'
DET_RESULTS = COCO_TINY / 'test_coco_det_AP_H_56.json'
IMAGE_IDS = {785, 40083, 196141, 197388}
TOOL = ROOT / 'tools' / 'analysis' / 'check_submission.py'

needs_data = pytest.mark.skipif(not DATA.is_dir(),
                                reason=f'shared data directory {DATA} is absent (coco_tiny)')


@pytest.fixture(scope='module')
def coco_tiny():
    return json.loads(IMAGE_INFO.read_text())


@pytest.fixture
def keypoint_results(coco_tiny):
    """Ground-truth keypoints of coco_tiny's 14 annotations as results with score 1.0."""
    return [dict(image_id=a['image_id'], category_id=1, keypoints=list(a['keypoints']),
                 score=1.0) for a in coco_tiny['annotations']]


@pytest.fixture
def segm_results(coco_tiny):
    """coco_tiny's polygons as mmdet writes masks: RLE with str counts."""
    from pycocotools import mask as mask_utils
    sizes = {img['id']: (img['height'], img['width']) for img in coco_tiny['images']}
    results = []
    for ann in coco_tiny['annotations']:
        h, w = sizes[ann['image_id']]
        rle = mask_utils.merge(mask_utils.frPyObjects(ann['segmentation'], h, w))
        rle['counts'] = rle['counts'].decode()
        results.append(dict(image_id=ann['image_id'], category_id=1, segmentation=rle,
                            score=0.5, bbox=ann['bbox']))
    return results


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


def snapshot(directory):
    return {p.name: p.read_bytes() for p in directory.iterdir()}


# ---------------------------------------------------------------------------- check_results


@needs_data
def test_load_image_ids_of_coco_tiny():
    assert load_image_ids(IMAGE_INFO) == (IMAGE_IDS, {1})


@needs_data
def test_valid_keypoint_results_pass_and_load_in_pycocotools(keypoint_results):
    summary = check_results(keypoint_results, IMAGE_IDS, 'keypoints')
    assert summary == dict(task='keypoints', entries=14, images=4, images_total=4)
    from pycocotools.coco import COCO
    coco = COCO(str(IMAGE_INFO))
    assert len(coco.loadRes(keypoint_results).anns) == 14


@needs_data
def test_real_bbox_results_pass():
    results = json.loads(DET_RESULTS.read_text())
    summary = check_results(results, IMAGE_IDS, 'bbox', category_ids={1})
    assert summary['entries'] == 118 and summary['images'] == 4


@needs_data
def test_valid_segm_results_pass(segm_results):
    assert check_results(segm_results, IMAGE_IDS, 'segm', category_ids={1})['entries'] == 14


def _set(field, value):
    def apply(entry):
        entry[field] = value
    return apply


def _keypoint(index, value):
    def apply(entry):
        entry['keypoints'][index] = value
    return apply


@needs_data
@pytest.mark.parametrize('breaks, match', [
    (_set('image_id', 12345), 'entry 3: image_id 12345 is not in the image info'),
    (_set('image_id', '785'), "entry 3: image_id '785' is not an int"),
    (_set('category_id', 2), r'entry 3: category_id 2 is not 1 \(person\)'),
    (lambda e: e['keypoints'].pop(), 'entry 3: keypoints has 50 values, expected 51'),
    (_keypoint(7, math.nan), r'entry 3: keypoints\[7\] = nan is not a finite number'),
    (_keypoint(7, None), r'entry 3: keypoints\[7\] = None is not a finite number'),
    (_set('keypoints', 'x'), 'entry 3: keypoints must be a list of 51 numbers, got str'),
    (_set('score', '0.9'), "entry 3: score '0.9' is not a finite number"),
    (_set('score', math.inf), 'entry 3: score inf is not a finite number'),
    (_set('score', True), 'entry 3: score True is not a finite number'),
    (lambda e: e.pop('score'), 'entry 3: score is missing'),
    (lambda e: e.pop('keypoints'), 'entry 3: keypoints is missing'),
])
def test_broken_keypoint_entry_is_named(keypoint_results, breaks, match):
    breaks(keypoint_results[3])
    with pytest.raises(SubmissionFormatError, match=match) as info:
        check_results(keypoint_results, IMAGE_IDS, 'keypoints', source='kpts.json')
    assert str(info.value).startswith('kpts.json: 1 of 14 entries are not valid')


@needs_data
def test_one_error_counts_all_bad_entries_and_lists_the_first(keypoint_results):
    for entry in keypoint_results[2:]:
        entry['image_id'] = -1
    keypoint_results[5]['score'] = None
    with pytest.raises(SubmissionFormatError) as info:
        check_results(keypoint_results, IMAGE_IDS, 'keypoints')
    message = str(info.value)
    assert message.startswith('12 of 14 entries are not valid COCO keypoints results:')
    assert 'entry 2: image_id -1' in message and 'entry 5: score None' in message
    assert 'entry 13' not in message and '... and 8 more problem(s)' in message


@pytest.mark.parametrize('results, match', [
    ([], 'results are an empty list'),
    ({'annotations': []}, 'must be a JSON list of result dicts, got dict'),
    (None, 'must be a JSON list of result dicts, got NoneType'),
    ([[785, 1]], 'entry 0: is a list, not a dict'),
])
def test_bad_top_level_is_refused(results, match):
    with pytest.raises(SubmissionFormatError, match=match):
        check_results(results, IMAGE_IDS, 'keypoints', source='r.json')


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="task = 'pose'"):
        check_results([{}], IMAGE_IDS, 'pose')


@needs_data
@pytest.mark.parametrize('bbox, match', [
    ([10, 10, -1, 5], r'bbox \[10, 10, -1, 5\] has a negative width or height'),
    ([10, 10, 5, -0.5], r'bbox \[10, 10, 5, -0.5\] has a negative width or height'),
    ([10, 10, 5], 'bbox has 3 values, expected 4'),
    ([10, 10, 5, math.nan], r'bbox\[3\] = nan is not a finite number'),
])
def test_bad_bbox_is_named(bbox, match):
    results = json.loads(DET_RESULTS.read_text())
    results[4]['bbox'] = bbox
    with pytest.raises(SubmissionFormatError, match=f'1 of 118 .*\n  entry 4: {match}'):
        check_results(results, IMAGE_IDS, 'bbox')


@needs_data
def test_bbox_category_is_checked_against_the_given_set():
    results = json.loads(DET_RESULTS.read_text())
    results[0]['category_id'] = 2
    assert check_results(results, IMAGE_IDS, 'bbox')['entries'] == 118  # any int without a set
    with pytest.raises(SubmissionFormatError, match='entry 0: category_id 2 is not a category'):
        check_results(results, IMAGE_IDS, 'bbox', category_ids={1})
    results[0]['category_id'] = 1.0
    with pytest.raises(SubmissionFormatError, match='entry 0: category_id 1.0 is not an int'):
        check_results(results, IMAGE_IDS, 'bbox')


@needs_data
@pytest.mark.parametrize('breaks, match', [
    (lambda s: s.pop('counts'), 'entry 1: segmentation.counts is missing'),
    (lambda s: s.pop('size'), 'entry 1: segmentation.size is missing'),
    (lambda s: s.update(size=[480]), r'entry 1: segmentation.size \[480\] is not \[height'),
    (lambda s: s.update(counts=7), 'entry 1: segmentation.counts must be a str or a list'),
])
def test_bad_segm_is_named(segm_results, breaks, match):
    breaks(segm_results[1]['segmentation'])
    with pytest.raises(SubmissionFormatError, match=match):
        check_results(segm_results, IMAGE_IDS, 'segm')


@needs_data
def test_polygon_segm_is_refused(segm_results, coco_tiny):
    segm_results[0]['segmentation'] = coco_tiny['annotations'][0]['segmentation']
    with pytest.raises(SubmissionFormatError, match='entry 0: segmentation must be an RLE dict'):
        check_results(segm_results, IMAGE_IDS, 'segm')


# ---------------------------------------------------------------------------- load_image_ids


@pytest.mark.parametrize('content, match', [
    ('{"images": [', 'image info is not valid JSON'),
    ('[1, 2]', "image info has no 'images' list"),
    ('{"annotations": []}', "image info has no 'images' list"),
    ('{"images": [{"file_name": "a.jpg"}]}', r"images\[0\] has no int 'id'"),
])
def test_bad_image_info_names_the_file(tmp_path, content, match):
    path = tmp_path / 'image_info_test-dev2017.json'
    path.write_text(content)
    with pytest.raises(SubmissionFormatError, match=match) as info:
        load_image_ids(path)
    assert str(path) in str(info.value)


def test_missing_image_info_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.json'):
        load_image_ids(tmp_path / 'nowhere.json')


# ---------------------------------------------------------------------------- packaging


@pytest.mark.parametrize('task, name, testset, expected', [
    ('keypoints', 'hrnet_w32', 'test-dev2017', 'person_keypoints_test-dev2017_hrnet_w32_results'),
    ('bbox', 'frcnn-hr18', 'test-dev2017', 'detections_test-dev2017_frcnn-hr18_results'),
    ('segm', 'htc', 'val2017', 'detections_val2017_htc_results'),
])
def test_submission_filename(task, name, testset, expected):
    assert submission_filename(task, name, testset) == expected + '.json'


@needs_data
@pytest.mark.parametrize('task', ['keypoints', 'bbox', 'segm'])
def test_package_writes_named_json_and_zip(tmp_path, task, keypoint_results, segm_results):
    results = dict(keypoints=keypoint_results, segm=segm_results,
                   bbox=json.loads(DET_RESULTS.read_text()))[task]
    src = write_json(tmp_path / f'res.{task}.json', results)
    out = tmp_path / 'submit'
    paths = package_submission(src, out, 'hrnet_w32-v1', task, IMAGE_INFO)
    kind = 'person_keypoints' if task == 'keypoints' else 'detections'
    stem = f'{kind}_test-dev2017_hrnet_w32-v1_results'
    assert paths['json'] == out / f'{stem}.json' and paths['zip'] == out / f'{stem}.zip'
    assert sorted(p.name for p in out.iterdir()) == [f'{stem}.json', f'{stem}.zip']
    assert json.loads(paths['json'].read_text()) == results
    with zipfile.ZipFile(paths['zip']) as zf:
        assert zf.namelist() == [f'{stem}.json']
        assert zf.read(f'{stem}.json') == paths['json'].read_bytes()
    assert paths['summary']['entries'] == len(results)


@needs_data
def test_bad_results_write_nothing(tmp_path, keypoint_results):
    out = tmp_path / 'submit'
    good = write_json(tmp_path / 'good.json', keypoint_results)
    package_submission(good, out, 'alg', 'keypoints', IMAGE_INFO)
    before = snapshot(out)
    broken = copy.deepcopy(keypoint_results)
    broken[0]['keypoints'] = broken[0]['keypoints'][:50]
    bad = write_json(tmp_path / 'bad.json', broken)
    match = f'(?s){re.escape(str(bad))}: 1 of 14 .*entry 0: keypoints has 50'
    with pytest.raises(SubmissionFormatError, match=match):
        package_submission(bad, out, 'alg', 'keypoints', IMAGE_INFO)
    assert snapshot(out) == before  # the earlier submission is neither overwritten nor joined

    fresh = tmp_path / 'fresh'
    with pytest.raises(SubmissionFormatError):
        package_submission(bad, fresh, 'alg', 'keypoints', IMAGE_INFO)
    assert not fresh.exists()
    (tmp_path / 'notjson.json').write_text('[{"image_id": 785,')
    with pytest.raises(SubmissionFormatError, match='notjson.json: results is not valid JSON'):
        package_submission(tmp_path / 'notjson.json', fresh, 'alg', 'keypoints', IMAGE_INFO)
    assert not fresh.exists()


@needs_data
def test_failed_write_leaves_no_partial_file(tmp_path, keypoint_results, monkeypatch):
    out = tmp_path / 'submit'
    src = write_json(tmp_path / 'good.json', keypoint_results)
    package_submission(src, out, 'alg', 'keypoints', IMAGE_INFO)
    before = snapshot(out)

    def broken_writestr(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(zipfile.ZipFile, 'writestr', broken_writestr)
    with pytest.raises(OSError, match='disk full'):
        package_submission(src, out, 'alg', 'keypoints', IMAGE_INFO)
    assert snapshot(out) == before


@needs_data
@pytest.mark.parametrize('name', ['my alg', '../evil', 'a/b', '', 'hrnet.w32', 'é', None])
def test_bad_name_is_refused(tmp_path, keypoint_results, name):
    src = write_json(tmp_path / 'good.json', keypoint_results)
    with pytest.raises(ValueError, match=r"name = .* must be a non-empty string of letters"):
        package_submission(src, tmp_path / 'out', name, 'keypoints', IMAGE_INFO)
    assert not (tmp_path / 'out').exists()


# ---------------------------------------------------------------------------- CLI


def run_tool(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@needs_data
def test_tool_ok_and_error(tmp_path, keypoint_results):
    good = write_json(tmp_path / 'res.keypoints.json', keypoint_results)
    proc = run_tool(good, '--image-info', IMAGE_INFO, '--task', 'keypoints')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f'OK: {good}: 14 keypoints results on 4 of 4 images'

    keypoint_results[9]['image_id'] = 12345
    bad = write_json(tmp_path / 'bad.keypoints.json', keypoint_results)
    proc = run_tool(bad, '--image-info', IMAGE_INFO, '--task', 'keypoints')
    assert proc.returncode == 1 and proc.stdout == ''
    assert f'{bad}: 1 of 14 entries' in proc.stderr
    assert 'entry 9: image_id 12345 is not in the image info' in proc.stderr

    proc = run_tool(good, '--image-info', tmp_path / 'missing.json', '--task', 'keypoints')
    assert proc.returncode == 1 and 'missing.json does not exist' in proc.stderr


@pytest.mark.parametrize('scope, metric, bbox_file, expected', [
    ('mmpose', None, 'dets.json', ['keypoints']),
    ('mmdet', ['bbox', 'segm'], None, ['bbox', 'segm']),
    ('mmdet', 'bbox', None, ['bbox']),
    ('mmpose', None, None, 'give a bbox file'),
    ('mmseg', None, None, "not default_scope 'mmseg'"),
])
def test_submission_tasks_are_decided_before_testing(scope, metric, bbox_file, expected):
    from mmengine.config import Config

    from mmhrnet.evaluation import submission_tasks
    cfg = Config(dict(default_scope=scope, test_evaluator=dict(metric=metric or 'bbox')))
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected):
            submission_tasks(cfg, 'myalg', bbox_file=bbox_file)
    else:
        assert submission_tasks(cfg, 'myalg', bbox_file=bbox_file) == expected
