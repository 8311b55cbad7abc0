"""Export, backends and precisions: small models trained here on freshly generated synthetic
people keep their metric on ONNX Runtime and OpenVINO at fp32 / bf16 / int8."""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmhrnet.deploy import export_model, load_backend_model, optimize_model, read_meta
from mmhrnet.deploy.evaluate import evaluate
from mmhrnet.deploy.task import build_model, load_config
from mmhrnet.engine import overfit_schedule
from mmhrnet.engine.precision import cpu_has_bf16
from mmhrnet.synthetic import generate_synthetic_people

POSE_CFG = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-'
                    '192x144.py')
SEG_CFG = osp.join(ROOT, 'configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py')
DET_CFG = glob.glob(osp.join(ROOT, 'configs/det/mask-rcnn_*synthetic-people-128.py'))[0]
# The tolerances on the metric, in points (AP x 100, mIoU): bf16 0.3, int8 1.0.
TOLERANCE = {'fp32': 1e-6, 'bf16': 0.3, 'int8': 1.0}
BF16 = pytest.mark.skipif(not cpu_has_bf16(), reason='this CPU has no bf16 units')


@pytest.fixture(scope='module')
def people(tmp_path_factory):
    out = tmp_path_factory.mktemp('people')
    return generate_synthetic_people(str(out), num_train=8, num_val=4, size=(128, 128),
                                     seed=5)['out_dir'] + '/'


# The synthetic pose recipe at 96x72 (4x cheaper), tested on the training images with their
# own boxes: an overfit model whose AP small numeric changes cannot move by chance.
TINY_POSE = """
_base_ = '{base}'
data = '{data}'
codec = dict(type='MSRAHeatmap', input_size=(72, 96), heatmap_size=(18, 24), sigma=1.5)
model = dict(head=dict(decoder=dict(codec, unbiased=True, blur_kernel_size=7)))
train_pipeline = [
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec), dict(type='PackPoseInputs')]
test_pipeline = [
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']), dict(type='PackPoseInputs')]
train_dataloader = dict(batch_size=64, dataset=dict(data_root=data, pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(
    data_root=data, ann_file='annotations/person_keypoints_train.json',
    data_prefix=dict(img='train/'), bbox_file=None, pipeline=test_pipeline))
val_dataloader = test_dataloader
test_evaluator = dict(ann_file=data + 'annotations/person_keypoints_train.json')
val_evaluator = test_evaluator
optim_wrapper = dict(optimizer=dict(lr=4e-3))
randomness = dict(seed=0)  # one model, one reference: the tolerances are checked on it
"""


def seg_options(data):
    return {'train_dataloader.dataset.data_root': data,
            'test_dataloader.dataset.data_root': data,
            'val_dataloader.dataset.data_root': data}


def train(config, options, work_dir, steps):
    """Overfit ``config`` for ``steps`` steps (one batch per epoch) and return its checkpoint."""
    from mmengine.runner import Runner
    cfg = load_config(config, options)
    cfg.work_dir = str(work_dir)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    overfit_schedule(cfg, steps)
    cfg.default_hooks.logger.interval = 20
    cfg.custom_hooks = []
    Runner.from_cfg(cfg).train()
    return sorted(glob.glob(osp.join(work_dir, '*.pth')), key=osp.getmtime)[-1]


@pytest.fixture(scope='module')
def pose_run(people, tmp_path_factory):
    work = tmp_path_factory.mktemp('pose')
    config = work / 'tiny_pose.py'
    config.write_text(TINY_POSE.format(base=POSE_CFG, data=people))
    return dict(config=str(config), options={}, ckpt=train(str(config), {}, work, 40),
                work=work, ann_file=f'{people}annotations/person_keypoints_train.json')


@pytest.fixture(scope='module')
def pose_plain(people, tmp_path_factory):
    """The tiny pose model with random weights, exported to ONNX Runtime and OpenVINO fp32: for
    the tests that compare structures or check errors, where training adds nothing."""
    work = tmp_path_factory.mktemp('pose_plain')
    config = work / 'tiny_pose.py'
    config.write_text(TINY_POSE.format(base=POSE_CFG, data=people))
    cfg = load_config(str(config))
    torch.manual_seed(0)
    ckpt = str(work / 'random.pth')
    torch.save({'state_dict': build_model(cfg).state_dict()}, ckpt)
    for backend in ('onnxruntime', 'openvino'):
        export_model(str(config), ckpt, str(work / 'export'), backend=backend,
                     logger=lambda *a: None)
    return dict(config=str(config), options={}, ckpt=ckpt, work=work)


def torch_metric(config, run, key, **fast):
    cfg = load_config(config, run['options'])
    model = build_model(cfg, run['ckpt'])
    if fast:
        optimize_model(model, **fast)
    return evaluate(cfg, model, str(run['work'] / 'eval'))[key]


def backend_metrics(config, run, key, paths):
    """The metric of each (backend, precision) in ``paths``, exported into one folder."""
    out = str(run['work'] / 'export')
    results = {}
    for backend, precision in paths:
        export_model(config, run['ckpt'], out, backend=backend, precision=precision, calib=24,
                     cfg_options=run['options'], logger=lambda *a: None)
        model = load_backend_model(out, backend, precision=precision)
        results[backend, precision] = evaluate(model.cfg, model, str(run['work'] / 'eval'))[key]
    return results, out


PATHS = [('onnxruntime', 'fp32'), ('openvino', 'fp32'), ('onnxruntime', 'int8'),
         ('openvino', 'int8')] + ([('openvino', 'bf16')] if cpu_has_bf16() else [])


def ap_resolution(ann_file):
    """AP points that one person crossing one of the 10 OKS thresholds moves: below it a
    tolerance cannot be told from one borderline person on a set this small."""
    with open(ann_file) as f:
        return 100 / (10 * sum(a['num_keypoints'] > 0 for a in json.load(f)['annotations']))


def check_kept(reference, results, scale, resolution=0.0):
    """Assert that the fp32 paths keep the metric exactly; return the lossy paths (bf16, int8)
    that lose more than the issue's tolerance (or one borderline person, if coarser). A gain
    is not a loss: on a few dozen persons a rounded model's AP moves by a point either way
    (ONNX Runtime int8 with VNNI's 8-bit weights, measured: +1.4 AP)."""
    assert all(abs(v - reference) * scale <= TOLERANCE['fp32']
               for k, v in results.items() if k[1] == 'fp32'), (reference, results)
    losses = {k: (reference - v) * scale for k, v in results.items() if k[1] != 'fp32'}
    return {k: round(c, 2) for k, c in losses.items() if c > max(TOLERANCE[k[1]], resolution)}


def test_pose_metric_kept_on_every_backend_and_precision(pose_run):
    reference = torch_metric(pose_run['config'], pose_run, 'coco/AP')
    assert reference > 0.15  # a model that learnt something, so that the comparison means it
    results, out = backend_metrics(pose_run['config'], pose_run, 'coco/AP', PATHS)
    resolution = ap_resolution(pose_run['ann_file'])  # 0.42 points for the 24 persons
    missed = check_kept(reference, results, 100, resolution)
    assert all(v > 0.5 * reference for v in results.values()), results  # no path broken
    meta = read_meta(out)
    assert meta['models']['onnxruntime']['fp32']['max_rel_diff'] <= 1e-4
    assert meta['dataset_meta']['flip_indices'][1:3] == [2, 1]  # left / right eyes
    assert meta['input_shape'] == [None, 3, 96, 72]  # pose: a dynamic batch by default
    # The torch fast path: fp32 exact, bf16 within its tolerance.
    config = pose_run['config']
    assert abs(torch_metric(config, pose_run, 'coco/AP', precision='fp32') - reference) <= 1e-6
    if cpu_has_bf16():
        missed.update(check_kept(reference, {('torch', 'bf16'): torch_metric(
            config, pose_run, 'coco/AP', precision='bf16')}, 100, resolution))
    assert not missed, f'lossy paths beyond the tolerance (AP {reference:.4f}): {missed}'


def test_seg_backends_return_the_torch_label_maps(people, tmp_path):
    """Whole 128x128 images through a dynamic-size export traced at 96x128: fp32 label maps
    equal torch's on both backends; int8 (NNCF) runs and returns the same structures."""
    options = seg_options(people)
    cfg = load_config(SEG_CFG, options)
    torch.manual_seed(0)
    model = build_model(cfg)
    ckpt = str(tmp_path / 'seg.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = str(tmp_path / 'seg')
    for backend, precision in (('onnxruntime', 'fp32'), ('openvino', 'fp32'),
                               ('openvino', 'int8')):
        export_model(SEG_CFG, ckpt, out, shape=(96, 128), dynamic_shape=True, backend=backend,
                     precision=precision, calib=2, cfg_options=options, logger=lambda *a: None)
    assert read_meta(out)['input_shape'] == [1, 3, None, None]
    data = first_batch(cfg, 2)
    with torch.no_grad():
        ref = model.test_step(data)
    for backend, precision in (('onnxruntime', 'fp32'), ('openvino', 'fp32')):
        res = load_backend_model(out, backend, precision=precision).test_step(data)
        for r, o in zip(ref, res):
            torch.testing.assert_close(o.seg_logits.data, r.seg_logits.data, atol=1e-4,
                                       rtol=1e-4)
            assert torch.equal(o.pred_sem_seg.data, r.pred_sem_seg.data)
    res = load_backend_model(out, 'openvino', precision='int8').test_step(data)
    assert [o.pred_sem_seg.shape for o in res] == [r.pred_sem_seg.shape for r in ref]


def first_batch(cfg, num):
    init_default_scope(cfg.default_scope)
    from mmengine.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return pseudo_collate([dataset[i] for i in range(num)])


def test_pose_backend_returns_the_torch_data_samples(pose_plain):
    """keypoints in image space after the flip test and DARK decoding, batch larger than the
    exported static batch of 1 (run in steps). Random weights: DARK's sub-pixel step turns the
    backend's 1e-7 heatmap differences into up to a few hundredths of a pixel."""
    out = str(pose_plain['work'] / 'export')
    cfg = load_config(pose_plain['config'], pose_plain['options'])
    data = first_batch(cfg, 3)
    with torch.no_grad():
        ref = build_model(cfg, pose_plain['ckpt']).test_step(data)
    model = load_backend_model(out, 'openvino', precision='fp32')
    res = model.test_step(data)
    assert model.cfg.model.test_cfg.flip_test and len(res) == 3
    for r, o in zip(ref, res):
        np.testing.assert_allclose(o.pred_instances.keypoints, r.pred_instances.keypoints,
                                   atol=0.05)
        np.testing.assert_allclose(o.pred_instances.keypoint_scores,
                                   r.pred_instances.keypoint_scores, atol=1e-5)


def test_static_size_mismatch_named(pose_plain):
    model = load_backend_model(str(pose_plain['work'] / 'export'), 'onnxruntime')
    with pytest.raises(ValueError, match=r'exported for inputs of 96x72, not 64x64'):
        model.model.backbone(torch.zeros(1, 3, 64, 64))


def test_missing_backend_or_precision_named(tmp_path, pose_plain):
    out = str(pose_plain['work'] / 'export')
    with pytest.raises(FileNotFoundError, match='deploy.json'):
        load_backend_model(str(tmp_path), 'onnxruntime')
    meta = read_meta(out)
    with pytest.raises(ValueError, match='no onnxruntime bf16 model'):
        load_backend_model(out, 'onnxruntime', precision='bf16')
    with pytest.raises(ValueError, match='no bf16 CPU kernels'):
        export_model(pose_plain['config'], pose_plain['ckpt'], str(tmp_path / 'x'),
                     backend='onnxruntime', precision='bf16')
    assert sorted(meta['models']) == ['onnxruntime', 'openvino']


def test_calibration_names_a_missing_training_set(tmp_path, pose_plain):
    options = {**pose_plain['options'], 'train_dataloader.dataset.data_root': str(tmp_path) + '/'}
    with pytest.raises(FileNotFoundError, match='calibration reads the config'):
        export_model(pose_plain['config'], pose_plain['ckpt'], str(tmp_path / 'x'),
                     backend='openvino', precision='int8', cfg_options=options,
                     logger=lambda *a: None)


def test_export_and_test_tools(pose_plain, tmp_path):
    """tools/deploy/export.py writes the folder; tools/test.py --backend reads its AP."""
    out = tmp_path / 'tool'
    run = [sys.executable, 'tools/deploy/export.py', pose_plain['config'], pose_plain['ckpt'],
           '--out', str(out), '--backend', 'openvino']
    proc = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'openvino fp32 -> model_ov.xml' in proc.stdout
    with open(out / 'deploy.json') as f:
        assert json.load(f)['default_precision']['openvino'] == 'fp32'
    proc = subprocess.run([sys.executable, 'tools/test.py', str(out / 'config.py'), str(out),
                           '--backend', 'openvino', '--work-dir', str(tmp_path / 'w')],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'coco/AP: ' in proc.stdout + proc.stderr


def folder_state(folder):
    """Every file of a folder and its bytes' digest."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).iterdir())}


@pytest.fixture
def pose_folder(pose_plain, tmp_path):
    """A copy of the tiny pose model's export (ONNX Runtime and OpenVINO fp32)."""
    out = tmp_path / 'export'
    shutil.copytree(pose_plain['work'] / 'export', out)
    return out


class _FailingRename:
    """``os`` whose ``replace`` fails at call ``fail_at``: a kill while files are renamed."""

    def __init__(self, fail_at):
        self.calls, self.fail_at = 0, fail_at

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst):
        self.calls += 1
        if self.calls == self.fail_at:
            raise OSError('simulated kill')
        os.replace(src, dst)


def test_failed_export_leaves_the_folder_as_it_was(pose_plain, pose_folder, monkeypatch):
    """Precision, calibration, conversion and the ONNX check fail before the folder is
    touched: every file keeps its bytes and no staging folder is left beside it."""
    from mmhrnet.deploy import export as export_mod
    from mmhrnet.deploy.backend import openvino
    before = folder_state(pose_folder)
    args = (pose_plain['config'], pose_plain['ckpt'], str(pose_folder))

    def broken_convert(*a, **k):
        raise RuntimeError('conversion failed')

    failures = [(dict(backend='onnxruntime', precision='bf16'), ValueError, 'no bf16 CPU'),
                (dict(backend='openvino', precision='int8', calib=0), ValueError, 'positive'),
                (dict(backend='openvino', convert=broken_convert), RuntimeError, 'conversion'),
                (dict(backend='onnxruntime', tolerance=-1.), RuntimeError, 'differs from')]
    if not cpu_has_bf16():
        failures.append((dict(backend='openvino', precision='bf16'), ValueError, 'no bf16 units'))
    for kwargs, error, match in failures:
        with monkeypatch.context() as m:
            if 'convert' in kwargs:
                m.setattr(openvino, 'convert', kwargs.pop('convert'))
            if 'tolerance' in kwargs:
                m.setattr(export_mod, 'EXPORT_TOLERANCE', kwargs.pop('tolerance'))
            with pytest.raises(error, match=match):
                export_model(*args, **kwargs, logger=lambda *a: None)
        assert folder_state(pose_folder) == before, kwargs
        assert not list(pose_folder.parent.glob('.export*')), kwargs
    assert load_backend_model(str(pose_folder), 'openvino').precision == 'fp32'


def test_export_of_another_checkpoint_replaces_the_whole_folder(pose_plain, pose_folder):
    """A folder holding an OpenVINO IR of checkpoint A, exported again with checkpoint B for
    ONNX Runtime only: no file of A is left, deploy.json names B, OpenVINO is refused."""
    cfg = load_config(pose_plain['config'])
    torch.manual_seed(1)
    other = build_model(cfg)
    ckpt = str(pose_folder.parent / 'other.pth')
    torch.save({'state_dict': other.state_dict()}, ckpt)
    lines = []
    meta = export_model(pose_plain['config'], ckpt, str(pose_folder), logger=lines.append)
    assert any('replacing the export of another model' in line for line in lines)
    assert meta['checkpoint'] == ckpt and sorted(meta['models']) == ['onnxruntime']
    assert read_meta(str(pose_folder))['checkpoint_sha256'] == hashlib.sha256(
        Path(ckpt).read_bytes()).hexdigest()
    assert not list(pose_folder.glob('model_ov*'))
    with pytest.raises(ValueError, match='no openvino model'):
        load_backend_model(str(pose_folder), 'openvino')
    x = torch.randn(1, 3, 96, 72)
    with torch.no_grad():
        ref = other.head.forward(other.extract_feat(x))
        out = load_backend_model(str(pose_folder), 'onnxruntime').model.backbone(x)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)


def test_same_model_export_adds_to_the_folder(pose_plain, pose_folder):
    before = folder_state(pose_folder)
    meta = export_model(pose_plain['config'], pose_plain['ckpt'], str(pose_folder),
                        backend='onnxruntime', logger=lambda *a: None)
    assert sorted(meta['models']) == ['onnxruntime', 'openvino']
    assert folder_state(pose_folder)['model_ov.bin'] == before['model_ov.bin']
    load_backend_model(str(pose_folder), 'openvino')


def test_interrupted_or_damaged_folder_is_refused_clearly(pose_plain, pose_folder,
                                                          monkeypatch):
    """A kill while the files are renamed leaves deploy.json marked incomplete: loading says
    so (never two exports read as one); exporting again repairs the folder. A truncated
    deploy.json is named."""
    from mmhrnet.deploy import folder
    monkeypatch.setattr(folder, 'os', _FailingRename(fail_at=3))
    with pytest.raises(OSError, match='simulated kill'):
        export_model(pose_plain['config'], pose_plain['ckpt'], str(pose_folder),
                     logger=lambda *a: None)
    monkeypatch.undo()
    with pytest.raises(ValueError, match='was interrupted'):
        load_backend_model(str(pose_folder), 'onnxruntime')
    export_model(pose_plain['config'], pose_plain['ckpt'], str(pose_folder),
                 logger=lambda *a: None)
    assert load_backend_model(str(pose_folder), 'onnxruntime').precision == 'fp32'
    path = pose_folder / 'deploy.json'
    path.write_text(path.read_text()[:100])
    with pytest.raises(ValueError, match='deploy.json is not valid JSON'):
        read_meta(str(pose_folder))
