"""Malformed input: each is one error naming the file and the item, raised when the dataset is
built (before training), never a bare traceback from inside numpy, mmpose or mmdet.

The fuzz test derives >= 500 broken files from valid synthetic ones (deleted keys, changed
types and lengths, bad numbers, dangling ids, truncated bytes) and builds the pose, detection
and segmentation datasets on each, without a Runner.
"""
import copy
import json
import math
import os.path as osp
import random

import pytest
from mmengine.registry import init_default_scope

from mmhrnet.validation import MalformedInputError

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BAD_VALUES = ['x', None, True, 1.5, {'a': 1}, [[1]], math.nan, math.inf, -math.inf]


@pytest.fixture(scope='module')
def people(tmp_path_factory):
    from mmhrnet.synthetic import generate_synthetic_people
    root = tmp_path_factory.mktemp('people') / 'synthetic_people'
    generate_synthetic_people(str(root), 16, 4, (64, 64))
    return root


def _builders(people):
    """name -> (valid file, function building the dataset on a file, required annotation keys,
    other checked keys)."""
    def pose(path, bbox_file=None):
        init_default_scope('mmpose')
        from mmhrnet.pose import TopdownCocoDataset
        return TopdownCocoDataset(
            ann_file=str(people / 'annotations/person_keypoints_val.json') if bbox_file else path,
            bbox_file=path if bbox_file else None,
            data_prefix=dict(img=str(people / ('val' if bbox_file else 'train'))),
            pipeline=[], test_mode=bool(bbox_file), data_mode='topdown')

    def det(path):
        init_default_scope('mmdet')
        from mmhrnet.det import CheckedCocoDataset
        return CheckedCocoDataset(ann_file=path, data_prefix=dict(img=str(people / 'train')),
                                  metainfo=dict(classes=('person', )), pipeline=[])

    def seg(path):
        init_default_scope('mmseg')
        from mmhrnet.seg import CocoPersonSegDataset
        return CocoPersonSegDataset(ann_file=path, data_prefix=dict(img_path=str(
            people / 'train')), pipeline=[])

    ann = str(people / 'annotations/person_keypoints_train.json')
    common = ['id', 'image_id', 'category_id']
    return {
        'pose': (ann, pose, common + ['bbox', 'keypoints'], ['iscrowd', 'area', 'segmentation',
                                                            'num_keypoints']),
        'det': (ann, det, common + ['bbox'], ['iscrowd', 'area', 'segmentation']),
        'seg': (ann, seg, common + ['segmentation'], ['iscrowd', 'area', 'bbox']),
        'dets': (str(people / 'person_detection_results/detections_val.json'),
                 lambda p: pose(p, bbox_file=True), ['image_id', 'category_id', 'bbox', 'score'],
                 []),
    }


def _mutations(data, kind, required, checked, rng):
    """One broken copy of ``data``: (content, substrings one of which the error must show)."""
    d = copy.deepcopy(data)
    if kind == 'dets':
        i = rng.randrange(len(d))
        item, names = d[i], [f'detection {i}']
    else:
        i = rng.randrange(len(d['annotations']))
        item = d['annotations'][i]
        names = [f'annotation {item["id"]}', f'annotations[{i}]']
    op = rng.choice(['delete', 'type', 'type', 'length', 'number', 'dangling', 'image',
                     'top', 'truncate'])
    if op == 'delete':
        del item[rng.choice(required)]
    elif op == 'type':
        key = rng.choice(required + checked)
        # (1.5 is a fine area or score, and JSON's true equals 1, a fine iscrowd)
        fine = (('area', 1.5), ('score', 1.5), ('iscrowd', True))
        value = rng.choice([v for v in BAD_VALUES if (key, v) not in fine])
        if key == 'segmentation' and isinstance(value, list):
            value = [[1, 2]]  # a "polygon" of one point
        item[key] = value
    elif op == 'length':
        key = rng.choice(['bbox', 'keypoints'] if kind == 'pose' else ['bbox'])
        if kind == 'seg':
            item['bbox'] = item['bbox'][:3]  # bbox is optional for seg, checked when present
        else:
            n = len(item[key])
            new = rng.choice([k for k in (0, 1, n - 3, n - 1, n + 1, n + 3, 50) if k != n])
            item[key] = (item[key] * 20)[:new]
    elif op == 'number':
        if kind == 'pose' and rng.random() < 0.5:
            j = rng.randrange(len(item['keypoints']))
            item['keypoints'][j] = rng.choice(['x', None, math.nan, math.inf]
                                              if j % 3 < 2 else [3, -1, 0.5, 'v'])
        else:
            j = rng.randrange(4)
            item['bbox'][j] = rng.choice(['x', None, math.nan, [1]] if j < 2 else [-1, -20.5])
    elif op == 'dangling':
        item['image_id'] = 987654321
    elif op == 'image' and kind != 'dets':
        j = rng.randrange(len(d['images']))
        img = d['images'][j]
        names = [f'images[{j}]', f'image {img["id"]}']
        key = rng.choice(['id', 'file_name', 'height', 'width'])
        if rng.random() < 0.5:
            del img[key]
        else:
            img[key] = rng.choice([None, 'x', -4, 0, [1]] if key != 'file_name' else [None, 3])
            if key == 'id' and img[key] in (-4, 0):
                img[key] = 'x'
    elif op == 'top':
        if kind == 'dets':
            d, names = {'detections': d}, ['top level']
        else:
            key = rng.choice(['images', 'annotations', 'categories'])
            if rng.random() < 0.5:
                del d[key]
            else:
                d[key] = {'0': d[key][0]}
            names = [key]
    else:  # truncated bytes
        text = json.dumps(d)
        return text[:rng.randrange(1, len(text) - 1)], ['not valid JSON']
    return json.dumps(d), names


def test_fuzzed_annotation_and_detection_files_give_one_clear_error(people, tmp_path):
    rng = random.Random(0)
    counts = dict(pose=200, dets=120, det=120, seg=100)
    tried = clear = 0
    for kind, (valid, build, required, checked) in _builders(people).items():
        data = json.load(open(valid))
        build(valid)  # the valid file loads
        for n in range(counts[kind]):
            content, names = _mutations(data, kind, required, checked, rng)
            path = str(tmp_path / f'{kind}_{n}.json')
            with open(path, 'w') as f:
                f.write(content)
            tried += 1
            try:
                build(path)
            except Exception as error:  # noqa: PERF203
                e = error
            else:
                raise AssertionError(f'{kind} {n} loaded: {content[:300]} ... {names}')
            message = str(e)
            assert isinstance(e, MalformedInputError), f'{kind} {n}: {type(e).__name__}: {e}'
            assert path in message and '\n' not in message, message
            assert any(name in message for name in names), (names, message)
            clear += 1
    assert tried == clear >= 500
    print(f'\nmalformed files tried: {tried}, one-line errors naming file and item: {clear}')


def test_zero_size_detection_boxes_are_kept_with_one_warning(people, tmp_path, monkeypatch):
    from mmhrnet.validation import coco
    lines = []
    monkeypatch.setattr(coco, 'print_log', lambda msg, **kwargs: lines.append(msg))
    builders = _builders(people)
    valid, build = builders['dets'][:2]
    dets = json.load(open(valid))
    dets[0]['bbox'][2] = dets[1]['bbox'][3] = 0
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps(dets))
    dataset = build(str(path))
    assert len(dataset) == len(dets)
    assert len(lines) == 1 and lines[0].startswith(f'{path}: 2 detections with a zero-size box')


def _truncated_jpeg(src, dst):
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'wb') as f:
        f.write(data[:300])


@pytest.mark.parametrize('task', ['pose', 'det', 'seg'])
def test_truncated_image_is_named_corrupt_not_missing(people, tmp_path, task):
    import shutil
    root = tmp_path / 'copy'
    shutil.copytree(people, root)
    victim = root / 'train' / '000000000001.jpg'
    _truncated_jpeg(victim, victim)
    builders = _builders(root)
    valid, build = builders[task][:2]
    dataset = build(valid)
    if task == 'pose':
        dataset.pipeline.transforms.append(_transform('LoadImage', 'mmpose'))
    else:
        dataset.pipeline.transforms.append(_transform('LoadImageFromFile', task))
    index = next(i for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_path'].endswith('000000000001.jpg'))
    with pytest.raises(ValueError, match=rf'image {victim} \(image id 1\) is corrupt'):
        dataset[index]


def _transform(name, scope):
    from mmengine.registry import TRANSFORMS
    init_default_scope(scope)
    return TRANSFORMS.build(dict(type=name))


def test_config_type_typo_names_the_file_and_the_closest_names(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmhrnet.validation import UnregisteredTypeError, explain_config_errors
    config = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-'
                      '192x144.py')
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path)
    cfg.model.head.type = 'HeatmapHaed'
    with pytest.raises(UnregisteredTypeError) as info:
        with explain_config_errors(config):
            Runner.from_cfg(cfg)
    message = str(info.value)
    assert message.startswith(f"{config}: type 'HeatmapHaed' is not registered")
    assert 'closest registered: ' in message and 'HeatmapHead' in message
