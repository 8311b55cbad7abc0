"""Generated bad inputs: bbox files, images and checkpoints.

Each case must end in one clear error (the expected exception type, its message naming the
file) or in a correct result, and must leave the files already in the output folder as they
were. The inference cases run a stub inferencer (the checks under test happen before and after
the model), the checkpoint cases one tiny model built once, so the ~400 cases take seconds.
"""
import hashlib
import io
import json
import os
import os.path as osp
import random
import shutil

import cv2
import numpy as np
import pytest
import torch

from mmhrnet.apis import InferenceInputError, infer_to_dir
from mmhrnet.apis.sources import read_image
from mmhrnet.utils.checkpoint import (DIGEST_KEY, CheckpointError, checkpoint_digest,
                                      load_checkpoint_strict)

W, H = 64, 48  # the test image
IMAGE_NAME = '000000000007.jpg'  # its COCO id: 7


class StubInferencer:
    """Puts one 'keypoint' at the centre of each given box (or of the image)."""
    tasks = ['pose']

    def predict(self, frame, bboxes=None, every=1):
        h, w = frame.image.shape[:2]
        boxes = np.asarray(bboxes if bboxes is not None else [[0, 0, w, h, 1.]], float)
        persons = [dict(bbox=b[:4].tolist(), bbox_score=float(b[4]), score=float(b[4]),
                        keypoints=[[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]],
                        keypoint_scores=[1.]) for b in boxes.reshape(-1, 5)]
        return dict(name=frame.name, persons=persons, samples={})

    def visualize(self, image, result):
        return image.copy()

    def task_meta(self, task):
        return {}


def _snapshot(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = osp.join(root, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    """An image, an output folder holding the files of an earlier run, and its snapshot."""
    root = tmp_path_factory.mktemp('fuzz')
    rng = np.random.default_rng(0)
    image = (rng.random((H, W, 3)) * 255).astype(np.uint8)
    path = str(root / IMAGE_NAME)
    cv2.imwrite(path, image)
    out = root / 'out'
    infer_to_dir(StubInferencer(), path, str(out), progress=False)
    return dict(root=root, image=path, out=str(out), before=_snapshot(str(out)))


# ------------------------------------------------------------------------------ bbox files

GOOD = dict(image_id=7, category_id=1, bbox=[4., 4., 20., 30.], score=0.9)
BAD_VALUES = {
    'image_id': [None, 'seven', 7.5, [7], {'id': 7}, True, float('nan')],
    'bbox': [None, 'box', [], [1, 2, 3], [1, 2, 3, 4, 5], [float('nan'), 0, 5, 5],
             [0, float('inf'), 5, 5], [0, 0, -5, 5], [0, 0, 5, -1], ['0', 0, 5, 5],
             [[0], 0, 5, 5], [None, 0, 5, 5], {'x': 0}, [True, 0, 5, 5],
             [0, 0, float('nan'), 5], [0, 0, 5, float('-inf')]],
    'score': [None, 'high', float('nan'), float('inf'), [0.9], {}],
    'category_id': [None, 'person', 1.5, [1]],
}


def _bbox_cases():
    cases = []
    for key, values in BAD_VALUES.items():
        for i, value in enumerate(values):
            cases.append((f'{key}-{i}', [GOOD, {**GOOD, key: value}]))
        cases.append((f'no-{key}', [GOOD, {k: v for k, v in GOOD.items() if k != key}]))
        cases.append((f'misspelt-{key}', [{**{k: v for k, v in GOOD.items() if k != key},
                                           key[:-1] + key[-1] * 2: GOOD[key]}]))
    for i, top in enumerate([{}, {'annotations': [GOOD]}, 'boxes', 7, None, [GOOD, 3],
                             [GOOD, None], [GOOD, 'x'], [[GOOD]]]):
        cases.append((f'top-{i}', top))
    text = json.dumps([GOOD, GOOD])
    for cut in range(1, len(text) - 1, max(1, len(text) // 25)):
        cases.append((f'truncated-{cut}', text[:cut]))
    cases += [('empty-file', ''), ('not-utf8', b'\xff\xfe\x00garbage'), ('yaml', 'a: 1\n')]
    return cases


BBOX_CASES = _bbox_cases()


def _earlier_run(scene, tmp_path):
    out = str(tmp_path / 'out')
    shutil.copytree(scene['out'], out)
    return out


@pytest.mark.parametrize('name, content', BBOX_CASES, ids=[c[0] for c in BBOX_CASES])
def test_malformed_bbox_file_is_one_error_naming_it(scene, tmp_path, name, content):
    path = tmp_path / 'dets.json'
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    out = _earlier_run(scene, tmp_path)
    if name == 'no-category_id':  # optional: a person box
        infer_to_dir(StubInferencer(), scene['image'], out, progress=False,
                     bbox_file=str(path))
        with open(osp.join(out, 'predictions', IMAGE_NAME[:-4] + '.json')) as f:
            assert [e['bbox'] for e in json.load(f)] == [GOOD['bbox']] * 2
        return
    with pytest.raises(InferenceInputError) as info:
        infer_to_dir(StubInferencer(), scene['image'], out, progress=False,
                     bbox_file=str(path))
    assert str(path) in str(info.value) and '\n' not in str(info.value)
    assert _snapshot(out) == scene['before']


BOX_CASES = [  # xywh on the 64x48 image -> expected xyxy after clipping, or the error
    ([4, 4, 20, 30], [4, 4, 24, 34]),
    ([-3, -2, 20, 30], [0, 0, 17, 28]),       # a little outside: clipped
    ([50, 30, 20, 20], [50, 30, 64, 48]),      # more than half inside: clipped
    ([60, 40, 40, 40], 'outside'),             # mostly outside: another image's box
    ([500, 300, 100, 200], 'outside'),         # the 5050 px case: full-size boxes, small image
    ([-200, -200, 100, 100], 'outside'),
    ([4, 4, 0, 30], None),                     # zero size: skipped (no person)
]


@pytest.mark.parametrize('bbox, expected', BOX_CASES)
def test_given_boxes_clipped_or_refused(scene, tmp_path, bbox, expected):
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps([dict(GOOD, bbox=bbox)]))
    out = str(tmp_path / 'out')
    if expected == 'outside':
        with pytest.raises(InferenceInputError, match=f'{path}.*image 7.*outside the 64x48'):
            infer_to_dir(StubInferencer(), scene['image'], out, progress=False,
                         bbox_file=str(path))
        return
    summary = infer_to_dir(StubInferencer(), scene['image'], out, progress=False,
                           bbox_file=str(path))
    with open(osp.join(out, 'predictions', IMAGE_NAME[:-4] + '.json')) as f:
        entries = json.load(f)
    if expected is None:
        assert entries == [] and summary['warnings']
        return
    (x1, y1, x2, y2), = [expected]
    assert len(entries) == 1 and entries[0]['bbox'] == [x1, y1, x2 - x1, y2 - y1]
    kx, ky = entries[0]['keypoints'][:2]
    assert 0 <= kx <= W and 0 <= ky <= H


def test_bbox_file_of_other_images_is_refused_and_partial_match_warned(scene, tmp_path):
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps([dict(GOOD, image_id=8), dict(GOOD, image_id=9)]))
    out = _earlier_run(scene, tmp_path)
    with pytest.raises(InferenceInputError, match=f'{path}: none of its 2 image ids'):
        infer_to_dir(StubInferencer(), scene['image'], out, progress=False,
                     bbox_file=str(path))
    assert _snapshot(out) == scene['before']
    other = tmp_path / '000000000008.jpg'
    cv2.imwrite(str(other), np.zeros((H, W, 3), np.uint8))
    summary = infer_to_dir(StubInferencer(), [scene['image'], str(other)], None,
                           progress=False, bbox_file=str(path))
    assert summary['warnings'] == [
        f'1 of 2 inputs have no box in bbox file {path} (no person for them), e.g. '
        f'{scene["image"]}', f'1 image ids of bbox file {path} match no input, e.g. [9]']


# ------------------------------------------------------------------------------ images

def _encoded(ext):
    rng = np.random.default_rng(1)
    image = cv2.GaussianBlur((rng.random((H, W, 3)) * 255).astype(np.uint8), (5, 5), 0)
    return cv2.imencode(ext, image)[1].tobytes()


def _image_cases():
    cases = []
    for ext in ('.jpg', '.png'):
        data = _encoded(ext)
        for frac in np.linspace(0.05, 0.98, 24):
            cases.append((f'truncated{ext}-{frac:.2f}', ext, data[:int(len(data) * frac)]))
        rng = random.Random(ext)
        for i in range(16):  # bytes overwritten in the header / tables
            at = rng.randrange(2, min(len(data), 300))
            cases.append((f'flipped{ext}-{at}', ext, data[:at] + bytes([data[at] ^ 0xFF])
                          + data[at + 1:]))
        cases.append((f'tail-garbage{ext}', ext, data + b'\x00' * 16 + b'extra bytes'))
    for ext in ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.webp'):
        cases.append((f'zero-bytes{ext}', ext, b''))
        cases.append((f'text{ext}', ext, b'this is not an image\n' * 10))
        cases.append((f'random{ext}', ext, bytes(random.Random(ext).randrange(256)
                                                  for _ in range(500))))
    cases += [('png-named-jpg', '.jpg', _encoded('.png')),
              ('jpg-named-png', '.png', _encoded('.jpg')),
              ('bmp-named-jpg', '.jpg', _encoded('.bmp')),
              ('json-named-jpg', '.jpg', b'[{"image_id": 1}]'),
              ('mp4-header-named-jpg', '.jpg', b'\x00\x00\x00\x18ftypmp42' + b'\x00' * 100)]
    return cases


IMAGE_CASES = _image_cases()
INTACT = ('tail-garbage', 'png-named-jpg', 'jpg-named-png', 'bmp-named-jpg')


@pytest.mark.parametrize('name, ext, data', IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES])
def test_bad_image_is_one_error_naming_it_or_read_whole(scene, tmp_path, name, ext, data):
    path = str(tmp_path / f'bad{ext}')
    with open(path, 'wb') as f:
        f.write(data)
    try:
        image = read_image(path)
    except InferenceInputError as e:
        assert not name.startswith(INTACT), f'{name}: an intact image refused: {e}'
        assert path in str(e) and '\n' not in str(e)
        out = _earlier_run(scene, tmp_path)
        with pytest.raises(InferenceInputError, match='bad'):  # and so does a run
            infer_to_dir(StubInferencer(), [path], out, progress=False)
        assert _snapshot(out) == scene['before']
        return
    assert not name.startswith(('truncated', 'zero-bytes', 'text', 'json')), \
        f'{name}: read without an error'
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    if name.startswith(INTACT):  # the whole picture, not a partly grey one
        reference = cv2.imdecode(np.frombuffer(_encoded('.png' if 'png-named' in name
                                                        else '.bmp' if 'bmp' in name
                                                        else ext), np.uint8), 1)
        assert np.array_equal(image, reference) or name.startswith(('tail', 'jpg-named'))


# ------------------------------------------------------------------------------ checkpoints

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A small model and its checkpoint (with the digest SafeCheckpointHook stores)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8),
                                torch.nn.Conv2d(8, 4, 1))
    ckpt = dict(state_dict=model.state_dict(), meta=dict(epoch=1, iter=10))
    ckpt['meta'][DIGEST_KEY] = checkpoint_digest(ckpt)
    buffer = io.BytesIO()
    torch.save(ckpt, buffer)
    return model, buffer.getvalue(), {k: v.clone() for k, v in model.state_dict().items()}


def _checkpoint_cases(data):
    cases = [(f'truncated-{frac:.2f}', data[:int(len(data) * frac)])
             for frac in np.linspace(0.0, 0.99, 40)]
    rng = random.Random(0)
    for i in range(60):
        at = rng.randrange(len(data))
        cases.append((f'flipped-{at}', data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:]))
    cases += [('garbage', b'definitely not a checkpoint' * 20), ('json', b'{"state_dict": 1}'),
              ('zip-of-text', _zip_bytes())]
    return cases


def _zip_bytes():
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as z:
        z.writestr('notes.txt', 'hello')
    return buffer.getvalue()


def _state_variants(state):
    first = next(iter(state))
    return [
        ('renamed-key', {('x' + k if k == first else k): v for k, v in state.items()}),
        ('missing-key', {k: v for k, v in state.items() if k != first}),
        ('extra-key', {**state, 'extra.weight': torch.zeros(1)}),
        ('wrong-shape', {**state, first: torch.zeros(2, 2)}),
        ('nan', {**state, first: state[first] * float('nan')}),
        ('inf', {**state, first: state[first] + float('inf')}),
        ('empty', {}),
        ('not-a-dict', [1, 2, 3]),
        ('module-prefix', {f'module.{k}': v for k, v in state.items()}),  # DataParallel: fine
    ]


def pytest_generate_tests(metafunc):
    if 'ckpt_case' in metafunc.fixturenames:
        # ids only: the cases are made from the module's tiny model inside the test
        ids = [n for n, _ in _checkpoint_cases(b'x' * 2000)]
        metafunc.parametrize('ckpt_case', range(len(ids)), ids=ids)
    if 'state_case' in metafunc.fixturenames:
        ids = [n for n, _ in _state_variants({'a': torch.zeros(1)})]
        metafunc.parametrize('state_case', range(len(ids)), ids=ids)


def _load(model, path):
    before = open(path, 'rb').read()
    try:
        load_checkpoint_strict(model, path)
        ok, error = True, None
    except (CheckpointError, RuntimeError, ValueError, FileNotFoundError) as e:
        ok, error = False, e
    assert open(path, 'rb').read() == before  # loading never writes
    return ok, error


def test_damaged_checkpoint_is_refused_naming_it_or_loads_intact(tiny, tmp_path, ckpt_case):
    model, data, reference = tiny
    name, damaged = _checkpoint_cases(data)[ckpt_case]
    path = str(tmp_path / 'model.pth')
    with open(path, 'wb') as f:
        f.write(damaged)
    ok, error = _load(model, path)
    if not ok:
        assert path in str(error) and '\n' not in str(error), str(error)
        return
    for key, value in model.state_dict().items():  # a load is only allowed when intact
        assert torch.equal(value, reference[key]), f'{name}: {key} changed silently'


def test_checkpoint_of_other_weights_is_refused_naming_it(tiny, tmp_path, state_case):
    model, _, reference = tiny
    name, state = _state_variants(dict(reference))[state_case]
    path = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=state, meta={}) if name != 'not-a-dict' else state, path)
    ok, error = _load(model, path)
    if name == 'module-prefix':
        assert ok
        return
    assert not ok and path in str(error), name
    if name in ('nan', 'inf'):
        assert 'NaN or inf' in str(error)
    model.load_state_dict(reference)


def test_case_count():
    n = (len(BBOX_CASES) + len(BOX_CASES) + len(IMAGE_CASES) + len(_checkpoint_cases(b'x' * 9))
         + len(_state_variants({'a': 0})))
    assert n >= 300, n
