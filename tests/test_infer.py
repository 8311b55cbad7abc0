"""HRNetInferencer and tools/infer.py on the coco_tiny images and a short video made from them,
with the small synthetic-people configs randomly initialised here (the wiring is the point:
coordinates, formats, files, identities, errors)."""
import glob
import importlib.util
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import ROOT

from mmhrnet.apis import (HRNetInferencer, InferenceInputError, ModelLoadError, OneEuroFilter,
                          infer_to_dir, iter_frames)
from mmhrnet.evaluation.submission import check_results

CONFIGS = {
    'pose': osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-'
                     '192x144.py'),
    'seg': osp.join(ROOT, 'configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py'),
    'det': osp.join(ROOT, 'configs/det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-'
                    'people-128.py'),
}
MULTITASK_CONFIG = osp.join(ROOT, 'configs/multitask/hrnet-w18-small-v1_1xb8-6e_synthetic-'
                            'people-256.py')
IMAGE_WIDTH = 320  # the coco_tiny images at half size: the random models run in seconds


def _load_tool():
    spec = importlib.util.spec_from_file_location('infer_tool', osp.join(ROOT, 'tools/infer.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


infer_tool = _load_tool()


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """Random-weight checkpoints of the three configs (the detector keeps 3 boxes per image)."""
    from mmengine.registry import init_default_scope

    from mmhrnet.apis.models import _init_torch, _prepare_config, load_task_config
    out = tmp_path_factory.mktemp('models')
    det_cfg = out / 'det.py'
    det_cfg.write_text(f"_base_ = ['{CONFIGS['det']}']\n"
                       "model = dict(test_cfg=dict(rcnn=dict(max_per_img=3)))\n")
    configs = dict(CONFIGS, det=str(det_cfg))
    specs = {}
    torch.manual_seed(0)
    for task, config in configs.items():
        cfg = _prepare_config(load_task_config(config, task), task)
        init_default_scope(cfg.default_scope)
        model = _init_torch(task, cfg, 'cpu')
        path = str(out / f'{task}.pth')
        torch.save(dict(state_dict=model.state_dict(), meta={}), path)
        specs[task] = (config, path)
    return specs


@pytest.fixture(scope='module')
def multitask(tmp_path_factory):
    """A random-weight multi-task checkpoint that keeps its 3 best detections per image;
    argmax decoding (DARK's Taylor step is unbounded on an untrained head's heatmaps, and the
    tests check that keypoints fall inside their person's crop)."""
    from mmengine.registry import init_default_scope

    from mmhrnet.apis.models import _init_torch, _prepare_config, load_task_config
    out = tmp_path_factory.mktemp('multitask')
    config = out / 'multitask.py'
    config.write_text(f"_base_ = ['{MULTITASK_CONFIG}']\n"
                      "model = dict(test_cfg=dict(rcnn=dict(score_thr=0.0, max_per_img=3)),\n"
                      "             keypoint_head=dict(test_cfg=dict(score_thr=0.0),\n"
                      "                                decoder=None))\n")
    cfg = _prepare_config(load_task_config(str(config), 'multitask'), 'multitask')
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = _init_torch('multitask', cfg, 'cpu')
    path = str(out / 'multitask.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return str(config), path


@pytest.fixture(scope='module')
def images(coco_tiny, tmp_path_factory):
    """The coco_tiny images at IMAGE_WIDTH, their COCO ids kept in the file names, and boxes."""
    out = tmp_path_factory.mktemp('images')
    with open(osp.join(coco_tiny, 'test_coco.json')) as f:
        coco = json.load(f)
    boxes = {}
    for info in coco['images']:
        image = cv2.imread(osp.join(coco_tiny, info['file_name']))
        s = IMAGE_WIDTH / image.shape[1]
        cv2.imwrite(str(out / info['file_name']), cv2.resize(image, None, fx=s, fy=s))
        boxes[info['id']] = [[a['bbox'][0] * s, a['bbox'][1] * s, (a['bbox'][0] + a['bbox'][2])
                              * s, (a['bbox'][1] + a['bbox'][3]) * s]
                             for a in coco['annotations'] if a['image_id'] == info['id']
                             and a['num_keypoints'] > 0]
    return dict(dir=str(out), paths=sorted(glob.glob(str(out / '*.jpg'))), boxes=boxes,
                ids={i['id'] for i in coco['images']})


@pytest.fixture(scope='module')
def all_tasks(models):
    return HRNetInferencer(**models, bbox_thr=0.0)


@pytest.fixture(scope='module')
def pose_only(models):
    return HRNetInferencer(pose=models['pose'])


@pytest.fixture(scope='module')
def video(images, tmp_path_factory):
    """A 5-frame lossless (FFV1) video: image 0 three times, then image 1 twice (at image 0's
    size): repeated frames decode identically (mp4v and MJPG do not)."""
    first = cv2.imread(images['paths'][0])
    second = cv2.resize(cv2.imread(images['paths'][1]), first.shape[1::-1])
    path = str(tmp_path_factory.mktemp('video') / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'FFV1'), 10., first.shape[1::-1])
    assert writer.isOpened(), 'OpenCV cannot write FFV1 here'
    for frame in (first, first, first, second, second):
        writer.write(frame)
    writer.release()
    return path


def test_all_tasks_result_structure_json_and_pictures(all_tasks, images, tmp_path):
    paths = images['paths'][:1]
    summary = infer_to_dir(all_tasks, paths, str(tmp_path), progress=False)
    assert summary['images'] == 1
    for path in paths:
        stem = osp.splitext(osp.basename(path))[0]
        image = cv2.imread(path)
        result = all_tasks.predict(next(iter_frames(path)))
        assert result['persons'], 'bbox_thr 0 keeps the 3 boxes of the detector'
        for person in result['persons']:
            assert set(person) >= {'bbox', 'bbox_score', 'keypoints', 'keypoint_scores',
                                   'score', 'mask'}
            assert np.shape(person['keypoints']) == (17, 2)
            assert person['mask']['size'] == list(image.shape[:2])
        assert result['class_map'].shape == image.shape[:2]
        assert result['class_map'].max() < len(result['classes']) == 11
        # the files: COCO results the submission checker accepts for all three tasks
        with open(tmp_path / 'predictions' / f'{stem}.json') as f:
            entries = json.load(f)
        assert len(entries) == len(result['persons'])
        for task in ('keypoints', 'bbox', 'segm'):
            check_results(entries, images['ids'], task, category_ids={1})
        assert entries[0]['image_id'] == int(stem)
        # the class map PNG holds the class indices
        saved = np.array(__import__('PIL.Image', fromlist=['Image']).open(
            tmp_path / 'seg' / f'{stem}.png'))
        np.testing.assert_array_equal(saved, result['class_map'])
        picture = cv2.imread(str(tmp_path / 'vis' / f'{stem}.jpg'))
        assert picture.shape == image.shape
        assert np.abs(picture.astype(int) - image).mean() > 5, 'nothing drawn'


def test_xtcocotools_reads_the_json(pose_only, images, tmp_path, coco_tiny):
    from xtcocotools.coco import COCO
    infer_to_dir(pose_only, images['dir'], str(tmp_path), progress=False, pictures=False)
    entries = []
    for path in sorted(glob.glob(str(tmp_path / 'predictions' / '*.json'))):
        with open(path) as f:
            entries += json.load(f)
    assert len(entries) == 4  # no detector: one whole-image person per image
    gt = COCO(osp.join(coco_tiny, 'test_coco.json'))
    dt = gt.loadRes(entries)
    assert sorted(dt.getImgIds()) == sorted(images['ids'])


def test_keypoints_are_in_image_space(pose_only, images):
    """A box given round-trips, and moving image and box by (dx, dy) moves every keypoint by
    exactly (dx, dy): coordinates are the image's, not the crop's."""
    image = cv2.imread(images['paths'][0])
    box = np.array(images['boxes'][int(osp.basename(images['paths'][0])[:-4])][0])
    result = pose_only.predict(image, bboxes=box[None])
    person, = result['persons']
    np.testing.assert_allclose(person['bbox'], box)
    dx, dy = 37, 21
    canvas = np.zeros((image.shape[0] + 60, image.shape[1] + 80, 3), np.uint8)
    canvas[dy:dy + image.shape[0], dx:dx + image.shape[1]] = image
    shifted = pose_only.predict(canvas, bboxes=(box + [dx, dy, dx, dy])[None])
    kpts = np.array(person['keypoints'])
    np.testing.assert_allclose(np.array(shifted['persons'][0]['keypoints']),
                               kpts + [dx, dy], atol=1e-2)
    # and they lie in the box's crop (1.25 x the box, widened to the 144x192 input's aspect,
    # as mmpose's GetBBoxCenterScale + TopdownAffine), give or take 1.5 heatmap cells (36x48)
    centre, size = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) * 1.25
    crop = np.maximum(size, size[::-1] * np.array([144 / 192, 192 / 144]))
    assert (np.abs(kpts - centre) <= crop / 2 + 1.5 * crop / [36, 48]).all()
    assert (np.abs(kpts - centre) > crop / 4).any(), 'keypoints spread over the crop'


def test_whole_image_is_the_box_without_detector(pose_only, images):
    image = cv2.imread(images['paths'][1])
    result = next(pose_only(image))
    assert [p['bbox'] for p in result['persons']] == [[0, 0, image.shape[1], image.shape[0]]]


def test_video_track_ids_annotated_video_and_every(models, video, tmp_path):
    capture = cv2.VideoCapture(video)
    frames = [capture.read()[1] for _ in range(5)]
    capture.release()
    assert all(np.array_equal(frames[0], f) for f in frames[1:3])
    inferencer = HRNetInferencer(pose=models['pose'], det=models['det'], bbox_thr=0.0,
                                 smooth=True)
    summary = infer_to_dir(inferencer, video, str(tmp_path), progress=False)
    assert summary['images'] == 5
    with open(tmp_path / 'predictions' / 'clip.json') as f:
        entries = json.load(f)
    by_frame = {i: sorted(e['track_id'] for e in entries if e['frame'] == i) for i in range(5)}
    assert by_frame[0] and len(set(by_frame[0])) == len(by_frame[0])
    assert by_frame[1] == by_frame[2] == by_frame[0], 'same frame, same persons, same ids'
    out = cv2.VideoCapture(str(tmp_path / 'vis' / 'clip.mp4'))
    assert int(out.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    ok, drawn = out.read()
    out.release()
    assert ok and np.abs(drawn.astype(int) - frames[0]).mean() > 1
    # detection only: boxes matched by IoU; every other frame
    boxes_only = HRNetInferencer(det=models['det'], bbox_thr=0.0)
    summary = infer_to_dir(boxes_only, video, str(tmp_path / 'every2'), every=2,
                           progress=False, pictures=False)
    assert summary['images'] == 3  # frames 0, 2, 4
    with open(tmp_path / 'every2' / 'predictions' / 'clip.json') as f:
        entries = json.load(f)
    assert sorted({e['frame'] for e in entries}) == [0, 2, 4]
    ids = {i: sorted(e['track_id'] for e in entries if e['frame'] == i) for i in (0, 2)}
    assert ids[0] == ids[2] and 'keypoints' not in entries[0]


def test_one_euro_filter_smooths_noise_and_keeps_constants():
    rng = np.random.default_rng(0)
    filt = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    constant = [filt(np.full((17, 2), 5.0), 1 / 30) for _ in range(10)]
    np.testing.assert_allclose(constant[-1], 5.0)
    filt = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    noisy = 100 + rng.normal(0, 3, (60, 17, 2))
    smoothed = np.array([filt(x, 1 / 30) for x in noisy])
    assert smoothed[10:].std() < 0.5 * noisy[10:].std()


# ---------------------------------------------------------------- bad input, via the command

def run_cli(capsys, *argv):
    try:
        code = infer_tool.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err + (code if isinstance(code, str) else '')


def test_cli_unreadable_image_stops_naming_it_and_keeps_results(models, images, tmp_path,
                                                               capsys):
    folder = tmp_path / 'in'
    folder.mkdir()
    good = images['paths'][0]
    os.symlink(good, folder / 'a_good.jpg')
    (folder / 'b_broken.jpg').write_bytes(b'not a jpeg')
    out = tmp_path / 'out'
    code, text = run_cli(capsys, folder, '--pose', *models['pose'], '--out-dir', out)
    assert code == 1
    assert 'b_broken.jpg cannot be read' in text
    assert (out / 'predictions' / 'a_good.json').is_file()
    assert (out / 'vis' / 'a_good.jpg').is_file()


def test_cli_bbox_file_summary_line_and_progress(models, images, tmp_path, capsys):
    path = images['paths'][0]
    image_id = int(osp.basename(path)[:-4])
    boxes = images['boxes'][image_id][:1] + [[10, 10, 60, 90]]
    dets = [dict(image_id=image_id, category_id=1, bbox=[x1, y1, x2 - x1, y2 - y1], score=s)
            for (x1, y1, x2, y2), s in zip(boxes + [[0, 0, 5, 5]], (0.9, 0.8, 0.1))]
    dets.append(dict(image_id=1, category_id=1, bbox=[0, 0, 9, 9], score=1.0))
    (tmp_path / 'dets.json').write_text(json.dumps(dets))
    code, text = run_cli(capsys, path, '--pose', *models['pose'], '--out-dir', tmp_path,
                         '--bbox-file', tmp_path / 'dets.json')
    assert code == 0
    assert 'img/s' in text and '1 images, 2 persons' in text  # the 0.1 box is below 0.3
    with open(tmp_path / 'predictions' / (osp.basename(path)[:-4] + '.json')) as f:
        entries = json.load(f)
    np.testing.assert_allclose([e['bbox'] for e in entries],
                               [d['bbox'] for d in dets[:2]], atol=1e-4)


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the check is for Linux')
def test_show_without_display_is_refused(pose_only, images, monkeypatch):
    monkeypatch.delenv('DISPLAY', raising=False)
    monkeypatch.delenv('WAYLAND_DISPLAY', raising=False)
    with pytest.raises(OSError, match='--show needs a display'):
        infer_to_dir(pose_only, images['paths'][0], show=True, progress=False)


@pytest.mark.parametrize('case', ['video', 'wrong_task', 'other_checkpoint', 'missing_input'])
def test_cli_bad_inputs_are_one_clear_error(case, models, images, tmp_path, capsys):
    pose = list(models['pose'])
    inputs = images['paths'][0]
    if case == 'video':
        inputs = tmp_path / 'broken.mp4'
        inputs.write_bytes(b'\x00' * 100)
        expected = f'video {inputs} does not open'
    elif case == 'wrong_task':
        pose[0] = models['seg'][0]
        expected = 'is a segmentation config'
    elif case == 'other_checkpoint':
        pose[1] = models['seg'][1]
        expected = f'checkpoint {pose[1]} is not a checkpoint of {pose[0]}'
    else:
        inputs = tmp_path / 'nowhere.jpg'
        expected = f'input {inputs} does not exist'
    code, text = run_cli(capsys, inputs, '--pose', *pose, '--out-dir', tmp_path / 'out')
    assert code == 1
    assert expected in text
    assert len([line for line in text.splitlines() if line.startswith('error')]) == 1


def test_cli_without_checkpoint_says_what_to_pass(models, images, capsys):
    code, text = run_cli(capsys, images['paths'][0])
    assert 'give at least one model' in text and '--pose CONFIG CHECKPOINT' in text
    code, text = run_cli(capsys, images['paths'][0], '--pose', models['pose'][0])
    assert f'--pose {models["pose"][0]} needs its checkpoint' in text


def test_cli_threads_per_task(capsys):
    assert infer_tool.parse_args(['x.jpg', '--threads', '3']).threads == 3
    assert infer_tool.parse_args(['x.jpg', '--threads', 'det=2', 'pose=1']).threads == dict(
        det=2, pose=1)
    for bad in ('0', 'face=2', 'pose=two'):
        code, text = run_cli(capsys, 'x.jpg', '--pose', 'CFG', 'CKPT', '--threads', bad)
        assert code == 2 and f'--threads {bad}: give N, or TASK=N' in text


def test_api_errors(models):
    with pytest.raises(ValueError, match='at least one of pose='):
        HRNetInferencer()
    with pytest.raises(ModelLoadError, match='is a pose config'):
        HRNetInferencer(seg=models['pose'])
    with pytest.raises(ValueError, match='threads='):
        HRNetInferencer(pose=models['pose'], threads={'face': 2})
    with pytest.raises(InferenceInputError, match='not a path'):
        list(iter_frames(3.5))


def test_exported_backend_keypoints_match_torch(models, images, pose_only, tmp_path):
    deploy = pytest.importorskip('mmhrnet.deploy')
    pytest.importorskip('onnxruntime')
    export = str(tmp_path / 'export')
    deploy.export_model(models['pose'][0], models['pose'][1], export, logger=lambda *a: None)
    before = torch.get_num_threads()
    threads = 1 if before > 1 else 2  # not torch's number, so that the test can fail
    exported = HRNetInferencer(pose=export, backend='onnxruntime', threads={'pose': threads})
    assert exported.backends == {'pose': 'onnxruntime'}
    net = exported.models['pose'].model.backbone  # one call with every crop (dynamic batch)
    assert net.session.session.get_session_options().intra_op_num_threads == threads
    session, calls = net.session, []
    net.session = lambda x: calls.append((len(x), torch.get_num_threads())) or session(x)
    image = cv2.imread(images['paths'][2])
    boxes = np.array(images['boxes'][int(osp.basename(images['paths'][2])[:-4])])
    ours = exported.predict(image, bboxes=boxes)['persons']
    flip = 2 if exported.models['pose'].cfg.model.test_cfg.get('flip_test') else 1
    assert calls == [(flip * len(boxes), threads)]  # torch too runs on the task's threads
    assert torch.get_num_threads() == before
    # by default the backend gets torch's threads, and torch one around it
    default = HRNetInferencer(pose=export, backend='onnxruntime')
    net = default.models['pose'].model.backbone
    assert net.session.session.get_session_options().intra_op_num_threads == before
    session, calls = net.session, []
    net.session = lambda x: calls.append(torch.get_num_threads()) or session(x)
    default.predict(image, bboxes=boxes)
    assert calls == [1] and torch.get_num_threads() == before
    ref = pose_only.predict(image, bboxes=boxes)['persons']
    assert len(ours) == len(ref) == len(boxes)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a['keypoints'], b['keypoints'], atol=1e-2)
        np.testing.assert_allclose(a['keypoint_scores'], b['keypoint_scores'], atol=1e-3)


def test_exported_detector_boxes_and_masks_match_torch(models, images, tmp_path):
    """mmdet's inference_detector runs the exported pyramid (RPN and RoI heads in torch)."""
    from pycocotools import mask as mask_util
    deploy = pytest.importorskip('mmhrnet.deploy')
    pytest.importorskip('onnxruntime')
    export = str(tmp_path / 'export_det')
    deploy.export_model(models['det'][0], models['det'][1], export, logger=lambda *a: None)
    exported = HRNetInferencer(det=export, backend='onnxruntime', bbox_thr=0.0)
    image = cv2.imread(images['paths'][0])
    torch_only = HRNetInferencer(det=models['det'], bbox_thr=0.0)
    ours, ref = exported.predict(image)['persons'], torch_only.predict(image)['persons']
    assert len(ours) == len(ref) > 0
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a['bbox'], b['bbox'], atol=1e-2)
        masks = [mask_util.decode(dict(m, counts=m['counts'].encode())) for m in
                 (a['mask'], b['mask'])]
        assert masks[0].shape == image.shape[:2]
        assert (masks[0] == masks[1]).mean() > 0.99


def _inside_grown_box(person, margin=1.0):
    """Whether the keypoints found lie in the person's box grown as the top-down crop."""
    from mmhrnet.multitask import topdown_boxes
    crop = topdown_boxes(torch.tensor([person['bbox']]), 0.75)[0].numpy()
    kpts = np.array(person['keypoints'])[np.array(person['keypoint_scores']) > 0]
    return bool(((kpts >= crop[:2] - margin) & (kpts <= crop[2:] + margin)).all())


def test_multitask_model_gives_all_three_from_one_pass(multitask, images, tmp_path):
    from mmhrnet.synthetic import PART_CLASSES
    inferencer = HRNetInferencer(multitask=multitask, bbox_thr=0.0)
    assert inferencer.tasks == ['det', 'pose', 'seg']
    path = images['paths'][0]
    result = inferencer.predict(path)
    h, w = result['height'], result['width']
    assert len(result['persons']) == 3
    for person in result['persons']:
        assert person['mask']['size'] == [h, w]
        assert len(person['keypoints']) == 17 and _inside_grown_box(person)
    assert result['class_map'].shape == (h, w) and result['classes'] == tuple(PART_CLASSES)
    assert set(result['samples']) == {'det', 'pose', 'seg'}
    summary = infer_to_dir(inferencer, [path], str(tmp_path), progress=False)
    name = osp.basename(path)[:-4]
    assert summary['persons'] == 3
    with open(tmp_path / 'predictions' / f'{name}.json') as f:
        entries = json.load(f)
    assert all({'bbox', 'keypoints', 'segmentation'} <= set(e) for e in entries)
    seg = cv2.imread(str(tmp_path / 'seg' / f'{name}.png'))
    assert seg.shape[:2] == (h, w)
    picture = cv2.imread(str(tmp_path / 'vis' / f'{name}.jpg'))
    assert picture.shape[:2] == (h, w)
    assert np.abs(picture.astype(int) - cv2.imread(path).astype(int)).mean() > 1  # drawn on


def test_multitask_keypoints_on_given_boxes(multitask, images):
    inferencer = HRNetInferencer(multitask=multitask, bbox_thr=0.0)
    path = images['paths'][0]
    own = inferencer.predict(path)['persons']
    given = np.array([p['bbox'] + [p['bbox_score']] for p in own])
    result = inferencer.predict(path, bboxes=given)
    assert len(result['persons']) == len(own)
    for a, b in zip(own, result['persons']):  # its own boxes given back: the same keypoints
        np.testing.assert_allclose(b['bbox'], a['bbox'], atol=1e-4)
        np.testing.assert_allclose(b['keypoints'], a['keypoints'], atol=1e-2)
        assert 'mask' not in b
    image_id = int(osp.basename(path)[:-4])
    boxes = np.array(images['boxes'][image_id])
    persons = inferencer.predict(path, bboxes=boxes)['persons']
    np.testing.assert_allclose([p['bbox'] for p in persons], boxes, atol=1e-4)
    assert all(_inside_grown_box(p) for p in persons)


def test_multitask_errors(multitask, models, images, tmp_path, capsys):
    with pytest.raises(ValueError, match='pass it without pose='):
        HRNetInferencer(multitask=multitask, pose=models['pose'])
    with pytest.raises(ModelLoadError, match='is a multi-task config'):
        HRNetInferencer(det=multitask)
    with pytest.raises(ModelLoadError, match=f'multi-task model: export folder {multitask[1]} '
                                             'does not exist'):  # a checkpoint, not an export
        HRNetInferencer(multitask=multitask, backend='openvino')
    code, text = run_cli(capsys, images['paths'][0], '--multitask', *multitask, '--seg',
                         *models['seg'])
    assert 'pass it without --pose / --det / --seg' in text


# ---------------------------------------------------------------- nothing written is lost

class _Stub:
    """The inferencer's interface without a model: one person, the whole image."""
    tasks = ['pose']

    def __init__(self, stop_at=None):
        self.stop_at, self.calls = stop_at, 0

    def predict(self, frame, bboxes=None, every=1):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt  # what Ctrl-C, or SIGTERM under run_main, raises
        h, w = frame.image.shape[:2]
        return dict(name=frame.name, persons=[dict(bbox=[0., 0., float(w), float(h)],
                                                   bbox_score=1.0)], samples={})

    def visualize(self, image, result):
        return image.copy()

    def task_meta(self, task):
        return {}


def test_same_stems_get_their_own_files(images, tmp_path):
    for sub in ('A', 'B'):
        (tmp_path / sub).mkdir()
        os.symlink(images['paths'][0], tmp_path / sub / 'img.jpg')
    cv2.imwrite(str(tmp_path / 'x.jpg'), cv2.imread(images['paths'][1]))
    cv2.imwrite(str(tmp_path / 'x.png'), cv2.imread(images['paths'][2]))
    inputs = [str(tmp_path / p) for p in ('A/img.jpg', 'B/img.jpg', 'x.jpg', 'x.png')]
    summary = infer_to_dir(_Stub(), inputs, str(tmp_path / 'out'), progress=False)
    names = sorted(os.listdir(tmp_path / 'out' / 'predictions'))
    assert names == ['img-2.json', 'img.json', 'x-2.json', 'x.json']
    assert sorted(os.listdir(tmp_path / 'out' / 'vis')) == [n[:-5] + '.jpg' for n in names]
    assert summary['renamed'] == [f'{inputs[1]} -> img-2', f'{inputs[3]} -> x-2']
    umask = os.umask(0)
    os.umask(umask)  # written under a temporary name, then given what open() would give
    assert os.stat(tmp_path / 'out' / 'vis' / 'img.jpg').st_mode & 0o777 == 0o666 & ~umask
    for name, path in (('img', inputs[0]), ('x-2', inputs[3])):  # each file its own input
        with open(tmp_path / 'out' / 'predictions' / f'{name}.json') as f:
            h, w = cv2.imread(path).shape[:2]
            assert json.load(f)[0]['bbox'] == [0., 0., w, h]


def test_interrupted_video_keeps_its_json_and_a_playable_video(video, tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(KeyboardInterrupt):
        infer_to_dir(_Stub(stop_at=4), video, str(out), progress=False)
    with open(out / 'predictions' / 'clip.json') as f:
        assert [e['frame'] for e in json.load(f)] == [0, 1, 2]
    capture = cv2.VideoCapture(str(out / 'vis' / 'clip.mp4'))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 3
    assert os.listdir(out / 'vis') == ['clip.mp4']  # no temporary file left


def test_video_json_checkpoints_while_running(video, tmp_path, monkeypatch):
    """A run killed outright (no finally) still leaves a valid JSON of the frames until the
    last checkpoint, and no mp4 under the final name."""
    from mmhrnet.apis import outputs
    seen = []

    class Killed(_Stub):
        def predict(self, frame, bboxes=None, every=1):
            path = tmp_path / 'out' / 'predictions' / 'clip.json'
            if path.exists():
                with open(path) as f:
                    seen.append(len(json.load(f)))
            return super().predict(frame, bboxes, every)
    for method in ('close', 'close_video'):  # as a SIGKILL: nothing is finished
        monkeypatch.setattr(outputs.ResultWriter, method, lambda self: None)
    infer_to_dir(Killed(), video, str(tmp_path / 'out'), progress=False, checkpoint_s=0)
    # the writer thread checkpoints each frame behind the computing one: the JSON grows
    # while the run goes on, and its last checkpoint holds every frame
    assert seen == sorted(seen) and set(seen) <= {1, 2, 3, 4}
    with open(tmp_path / 'out' / 'predictions' / 'clip.json') as f:
        assert [e['frame'] for e in json.load(f)] == [0, 1, 2, 3, 4]
    assert not (tmp_path / 'out' / 'vis' / 'clip.mp4').exists()


def test_failed_write_names_the_file_and_keeps_the_old_one(images, tmp_path, monkeypatch):
    import errno

    from mmhrnet.apis import outputs
    out = tmp_path / 'out'
    infer_to_dir(_Stub(), images['paths'][0], str(out), progress=False)
    json_path = out / 'predictions' / (osp.basename(images['paths'][0])[:-4] + '.json')
    before = json_path.read_bytes()

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(outputs, 'atomic_write', disk_full)
    with pytest.raises(OSError, match=f'cannot write {json_path}: No space left on device'):
        infer_to_dir(_Stub(), images['paths'][0], str(out), progress=False)
    assert json_path.read_bytes() == before


def test_truncated_jpeg_is_one_error_naming_it(images, tmp_path, capsys, models):
    data = open(images['paths'][0], 'rb').read()
    bad = tmp_path / 'cut.jpg'
    bad.write_bytes(data[:len(data) // 2])
    assert cv2.imread(str(bad)) is not None  # OpenCV decodes it, the rest grey
    code, text = run_cli(capsys, bad, '--pose', *models['pose'], '--out-dir', tmp_path / 'o')
    assert code == 1 and f'image {bad} is truncated' in text
