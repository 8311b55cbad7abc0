"""The batched top-down path (all crops and their mirror images in one network call, crops and
decoding vectorised over persons) against mmpose one crop at a time, and the reader / writer
threads of a folder run (order, errors, files of the images done)."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import ROOT

from mmhrnet.apis import InferenceInputError, infer_to_dir, load_task_model
from mmhrnet.apis.overlap import ReadAhead, WriteBehind
from mmhrnet.apis.topdown import (TopdownPose, box_centers_scales, crop_persons,
                                   normalize_crops, normalizer)
from mmhrnet.models.heatmaps import decode_msra, gaussian_blur

POSE_CONFIG = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-'
                       'people-192x144.py')


@pytest.fixture(scope='module')
def pose_model(tmp_path_factory):
    """The small pose model with random weights and BN statistics (peaked, varied heatmaps)."""
    from mmengine.registry import init_default_scope

    from mmhrnet.apis.models import _init_torch, _prepare_config, load_task_config
    from mmhrnet.utils.fidelity import randomize
    cfg = _prepare_config(load_task_config(POSE_CONFIG, 'pose'), 'pose')
    init_default_scope(cfg.default_scope)
    model = _init_torch('pose', cfg, 'cpu')
    randomize(model, seed=3)
    path = str(tmp_path_factory.mktemp('pose') / 'pose.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return load_task_model('pose', (POSE_CONFIG, path))


@pytest.fixture(scope='module')
def scene():
    """A 160x200 image of blobs, and boxes inside it, across its border and one tiny."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 255, (160, 200, 3), dtype=np.uint8), (7, 7), 0)
    boxes = np.array([[10, 12, 70, 150], [60, 5, 190, 100], [-30, 80, 60, 190],
                      [120.5, 40.25, 123, 44]], dtype=np.float32)
    return image, boxes


def _one_at_a_time(model, image, boxes, monkeypatch=None):
    """mmpose's inference_topdown, one box per call: keypoints, scores (and the flip-averaged
    heatmaps, given ``monkeypatch``)."""
    from mmengine.registry import DefaultScope
    from mmpose.apis import inference_topdown
    if monkeypatch is not None:
        monkeypatch.setitem(model.test_cfg, 'output_heatmaps', True)
    keypoints, scores, heatmaps = [], [], []
    with DefaultScope.overwrite_default_scope('mmpose'):
        for box in boxes:
            sample = inference_topdown(model, image, box[None], bbox_format='xyxy')[0]
            keypoints.append(sample.pred_instances.keypoints)
            scores.append(sample.pred_instances.keypoint_scores)
            if monkeypatch is not None:
                heatmaps.append(sample.pred_fields.heatmaps.numpy())
    return np.concatenate(keypoints), np.concatenate(scores), np.array(heatmaps)


def test_batched_keypoints_equal_one_crop_at_a_time(pose_model, scene, monkeypatch):
    """The same crops, heatmaps (to the network's float rounding at another batch size) and
    keypoints as mmpose's, one crop at a time, from a single network call."""
    image, boxes = scene
    calls = []
    extract = pose_model.extract_feat
    monkeypatch.setattr(pose_model, 'extract_feat', lambda x: calls.append(len(x)) or
                        extract(x))
    topdown = TopdownPose(pose_model)
    assert topdown.batched and topdown.vectorised_decode and topdown.flip
    seen = {}
    heatmaps_of = topdown._heatmaps
    monkeypatch.setattr(topdown, '_heatmaps',
                        lambda x, n: seen.setdefault('maps', heatmaps_of(x, n)))
    keypoints, scores = topdown(image, boxes)
    assert calls == [2 * len(boxes)], 'every crop and its mirror image in one call'
    ref_keypoints, ref_scores, ref_heatmaps = _one_at_a_time(pose_model, image, boxes,
                                                             monkeypatch)
    assert keypoints.shape == ref_keypoints.shape == (len(boxes), 17, 2)
    np.testing.assert_allclose(seen['maps'], ref_heatmaps, atol=1e-5 * np.abs(ref_heatmaps).max())
    np.testing.assert_allclose(scores, ref_scores, atol=1e-6)
    # a keypoint moves only where two heatmap pixels tie to that rounding (a random model's
    # heatmaps are flat enough for it): at most one here
    moved = np.abs(keypoints - ref_keypoints).max(-1) > 1e-3
    assert moved.sum() <= 1, np.argwhere(moved)
    assert np.ptp(keypoints[0], axis=0).min() > 1, 'keypoints spread over the crop'


def test_crops_and_decoding_are_mmposes(scene):
    """The crops are bitwise TopdownAffine's; the decoding is MSRAHeatmap.decode's, person by
    person, on heatmaps with peaks at the borders and maps without a positive value."""
    from mmpose.codecs import MSRAHeatmap
    from mmpose.datasets.transforms import GetBBoxCenterScale, TopdownAffine
    image, boxes = scene
    center, scale = box_centers_scales(boxes, 1.25, 144 / 192)
    crops = crop_persons(image, center, scale, (144, 192))
    for box, crop in zip(boxes, crops):
        data = GetBBoxCenterScale()(dict(img=image, bbox=box[None]))
        np.testing.assert_array_equal(TopdownAffine(input_size=(144, 192))(data)['img'], crop)
    rng = np.random.default_rng(1)
    heatmaps = rng.random((5, 17, 48, 36)).astype(np.float32) ** 8
    heatmaps[0, 0, 0, 0] = heatmaps[0, 1, 47, 35] = heatmaps[0, 2, 1, 2] = 5.  # peaks at borders
    heatmaps[1, 3] = -heatmaps[1, 3]  # nothing positive: keypoint -1, no refinement
    for unbiased in (True, False):
        codec = MSRAHeatmap(input_size=(144, 192), heatmap_size=(36, 48), sigma=2,
                            unbiased=unbiased)
        keypoints, scores = decode_msra(codec, heatmaps)
        for n, maps in enumerate(heatmaps):
            ref_keypoints, ref_scores = codec.decode(maps)
            np.testing.assert_allclose(keypoints[n], ref_keypoints[0], rtol=1e-5, atol=1e-4)
            np.testing.assert_array_equal(scores[n], ref_scores[0])


def test_normalisation_and_blur_are_bitwise_mmposes(scene):
    """The table look-up gives the data preprocessor's inputs bitwise (both channel orders,
    mirrored half included); the batched blur is mmpose's ``gaussian_blur`` bitwise; a
    preprocessor that pads is left to itself."""
    from mmpose.codecs.utils import gaussian_blur as mmpose_blur
    from mmpose.models.data_preprocessors import PoseDataPreprocessor
    image, boxes = scene
    center, scale = box_centers_scales(boxes, 1.25, 144 / 192)
    crops = crop_persons(image, center, scale, (144, 192))
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    for bgr_to_rgb in (True, False):
        pre = PoseDataPreprocessor(**norm, bgr_to_rgb=bgr_to_rgb)
        ref = pre(dict(inputs=torch.from_numpy(crops).permute(0, 3, 1, 2),
                       data_samples=[]))['inputs']
        ours = normalize_crops(crops, normalizer(pre), flip=True)
        assert torch.equal(ours[:len(crops)], ref), bgr_to_rgb
        assert torch.equal(ours[len(crops):], ref.flip(-1)), bgr_to_rgb
    assert normalizer(PoseDataPreprocessor(**norm, pad_size_divisor=32)) is None
    heatmaps = np.random.default_rng(2).random((3, 17, 48, 36)).astype(np.float32) ** 8
    ours = gaussian_blur(heatmaps, 11)
    for n, maps in enumerate(heatmaps):
        np.testing.assert_array_equal(ours[n], mmpose_blur(maps.copy(), 11))
    many = np.random.default_rng(3).random((40, 17, 16, 12)).astype(np.float32) ** 8
    many[20, :, -1] = many[21, :, 0] = 1.  # peaks on the rows where two maps meet
    ours = gaussian_blur(many, 5)  # 680 maps in one image
    for n in (20, 21, 39):
        np.testing.assert_array_equal(ours[n], mmpose_blur(many[n].copy(), 5))
    assert gaussian_blur(many[:0], 5).shape == (0, 17, 16, 12)


def test_exported_pose_runs_all_crops_in_one_call(pose_model, scene, tmp_path):
    """A pose export with the defaults has a dynamic batch: one backend call per image,
    mmpose's keypoints."""
    pytest.importorskip('onnxruntime')
    from mmhrnet.deploy import export_model
    ckpt = str(tmp_path / 'pose.pth')
    torch.save(dict(state_dict=pose_model.state_dict(), meta={}), ckpt)
    export_model(POSE_CONFIG, ckpt, str(tmp_path / 'export'), logger=lambda *a: None)
    exported = load_task_model('pose', str(tmp_path / 'export'), 'onnxruntime')
    net, batches = exported.model.backbone, []
    session = net.session
    net.session = lambda x: batches.append(len(x)) or session(x)
    image, boxes = scene
    keypoints, _ = TopdownPose(exported)(image, boxes)
    assert batches == [2 * len(boxes)]
    moved = np.abs(keypoints - _one_at_a_time(pose_model, image, boxes)[0]).max(-1) > 1e-2
    assert moved.sum() <= 1  # ties of heatmap pixels (see above)


# ---------------------------------------------------------------- reader and writer threads

def test_read_ahead_keeps_order_and_raises_where_the_loop_would():
    def items():
        yield from (0, 1, 2)
        raise InferenceInputError('image c.jpg cannot be read')
    reader = ReadAhead(items(), depth=1)
    seen = []
    with pytest.raises(InferenceInputError, match='c.jpg cannot be read'):
        for item in reader:
            seen.append(item)
    assert seen == [0, 1, 2]
    closed = []

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append(True)
    reader = ReadAhead(endless(), depth=2)
    assert next(reader) == 0
    reader.close()  # stops the thread, closing the generator in it
    assert closed == [True]


def test_write_behind_raises_the_first_error_and_writes_nothing_after_it():
    written = []

    def write(n):
        if n == 2:
            raise OSError(28, 'cannot write b.json: No space left on device')
        written.append(n)
    behind = WriteBehind(write, depth=1)
    with pytest.raises(OSError, match='No space left'):
        for n in range(6):
            behind.put(n)
        behind.finish()
    behind.close()
    assert written == [0, 1]


class _Stub:
    """One person per image, the whole image; NaN keypoints for the images named in ``nan``."""
    tasks = ['pose']

    def __init__(self, nan=()):
        self.nan = set(nan)

    def predict(self, frame, bboxes=None, every=1):
        h, w = frame.image.shape[:2]
        value = float('nan') if frame.name in self.nan else 1.
        return dict(name=frame.name, persons=[dict(
            bbox=[0., 0., float(w), float(h)], bbox_score=1.0, score=1.0,
            keypoints=[[value, value]], keypoint_scores=[1.])], samples={})

    def visualize(self, image, result):
        return image.copy()

    def task_meta(self, task):
        return {}


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / 'in'
    folder.mkdir()
    for i, name in enumerate('abcd'):
        cv2.imwrite(str(folder / f'{name}.jpg'), np.full((24, 32, 3), 40 * i, np.uint8))
    return folder


def test_failed_write_of_a_later_image_keeps_the_earlier_ones(folder, tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(ValueError, match=r'c\.json: the results hold NaN'):
        infer_to_dir(_Stub(nan={'c'}), str(folder), str(out), progress=False)
    assert sorted(os.listdir(out / 'predictions')) == ['a.json', 'b.json']
    assert sorted(os.listdir(out / 'vis')) == ['a.jpg', 'b.jpg']
    with open(out / 'predictions' / 'b.json') as f:
        assert json.load(f)[0]['keypoints'] == [1., 1., 1.]


def test_unreadable_later_image_keeps_the_earlier_ones_in_order(folder, tmp_path):
    (folder / 'c.jpg').write_bytes(b'not a jpeg')
    out = tmp_path / 'out'
    with pytest.raises(InferenceInputError, match='c.jpg cannot be read'):
        infer_to_dir(_Stub(), str(folder), str(out), progress=False)
    assert sorted(os.listdir(out / 'predictions')) == ['a.json', 'b.json']
    summary = infer_to_dir(_Stub(), [str(folder / n) for n in ('d.jpg', 'a.jpg')],
                           str(tmp_path / 'list'), progress=False, pictures=False)
    assert summary['images'] == 2 and summary['written'] == [
        str(tmp_path / 'list' / 'predictions' / n) for n in ('d.json', 'a.json')]
