"""Export a config + checkpoint to ONNX, convert it for a backend and precision, and write what
inference needs beside it.

An export folder holds:

* ``model.onnx``: the fp32 network (ONNX Runtime fp32 runs it as is);
* one file per backend / precision converted from it (``model_ov.xml`` for OpenVINO fp32 and
  bf16, ``model_ov_int8.xml``, ``model_ort_int8.onnx``); exporting again into the same folder
  with another backend or precision adds to it;
* ``config.py``: the config, dumped with the overrides applied, from which the test pipeline,
  the data preprocessor and the decoding are rebuilt;
* ``deploy.json``: the input size, mean / std, codec, class and keypoint names, flip indices,
  the files per backend and precision and each one's measured difference from torch;
* ``torch_heads.pth`` (det only): the weights of the RPN and RoI heads, which run in torch.
"""
import json
import os
import os.path as osp

import numpy as np
import torch

from .backend import check_precision, get_backend
from .calibration import calibration_inputs
from .task import (TORCH_HEADS_FILE, ExportedNet, build_model, dataset_meta_of, load_config,
                   max_rel_diff, task_of, torch_heads_state)

META_FILE = 'deploy.json'
CONFIG_FILE = 'config.py'
ONNX_FILE = 'model.onnx'
# ONNX Runtime fp32 against torch fp32 after export (relative to the output's largest value).
EXPORT_TOLERANCE = 1e-4


def default_shape(cfg, task):
    """The input (H, W) to trace with: pose, the crop the test pipeline makes; seg, the sliding
    window or the preprocessor's size; det, the test pipeline's resize padded to 32."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    if task == 'pose':
        affine = [t for t in pipeline if t.type.endswith('TopdownAffine')]
        if not affine:
            raise ValueError('pose export: no TopdownAffine in the test pipeline to read the '
                             'input size from; pass --shape H W')
        w, h = affine[0].input_size
        return int(h), int(w)
    if task == 'seg':
        test_cfg = cfg.model.get('test_cfg') or {}
        size = test_cfg.get('crop_size') if test_cfg.get('mode') == 'slide' else None
        size = size or cfg.model.get('data_preprocessor', {}).get('size') or (512, 512)
        return int(size[0]), int(size[1])
    resize = [t for t in pipeline if t.type.endswith('Resize') and 'scale' in t]
    scale = resize[0].scale if resize else (1333, 800)
    w, h = max(scale), min(scale)
    return -(-h // 32) * 32, -(-w // 32) * 32


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)


def read_meta(out_dir):
    path = osp.join(out_dir, META_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: not an export folder of '
                                'tools/deploy/export.py')
    with open(path) as f:
        return json.load(f)


def export_model(config, checkpoint, out_dir, shape=None, dynamic_batch=False,
                 dynamic_shape=None, backend='onnxruntime', precision='fp32', calib=32,
                 cfg_options=None, logger=print, calib_images=None, calib_det=None,
                 calib_bbox_file=None):
    """Export, convert, check and describe one model; see the module docstring for the files.

    Args:
        config (str | Config): The model's config.
        checkpoint (str | None): Its weights (None: as built, for tests of the plumbing).
        out_dir (str): The export folder (created; an existing export there is added to).
        shape (tuple[int, int] | None): Input (H, W); None: :func:`default_shape`.
        dynamic_batch (bool): Batch axis dynamic (else the batch is 1 and longer batches run
            in steps).
        dynamic_shape (bool | None): H and W dynamic; None: for seg and det when no ``shape``
            is given (their images differ in size), else static.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        precision (str): ``'fp32'``, ``'bf16'`` (OpenVINO, CPUs with bf16 units) or ``'int8'``.
        calib (int): Images (pose: person crops) to calibrate int8 on.
        calib_images (str | None): A folder of images, a video or an image file to calibrate
            int8 on; None: the config's training set (see :mod:`.calibration`).
        calib_det (tuple | str | None): Pose: the person detector whose boxes in
            ``calib_images`` are the crops (``(config, checkpoint)``, run in torch);
            None: ``calib_bbox_file``'s boxes, else the whole image as one box.
        calib_bbox_file (str | None): Pose: COCO detection results giving those boxes.
        cfg_options (dict | None): Config overrides (``--cfg-options``).
        logger (callable): Where the progress lines go.

    Returns:
        dict: The export's metadata (what ``deploy.json`` holds).
    """
    check_precision(precision)
    backend_mod = get_backend(backend)
    cfg = load_config(config, cfg_options)
    task = task_of(cfg)
    model = build_model(cfg, checkpoint)
    if dynamic_shape is None:
        dynamic_shape = task in ('seg', 'det') and shape is None
    height, width = shape or default_shape(cfg, task)
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = osp.join(out_dir, ONNX_FILE)
    net = ExportedNet(model, task).eval()
    example = torch.randn(2 if dynamic_batch else 1, 3, height, width,
                          generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        outs = net(example)
    out_names = [f'output{i}' for i in range(len(outs))] if isinstance(outs, tuple) \
        else ['output']
    axes = {**({0: 'batch'} if dynamic_batch else {}),
            **({2: 'height', 3: 'width'} if dynamic_shape else {})}
    logger(f'exporting {task} network at {tuple(example.shape)} to {onnx_path}')
    torch.onnx.export(net, (example, ), onnx_path, dynamo=False, opset_version=17,
                      input_names=['inputs'], output_names=out_names,
                      dynamic_axes={n: axes for n in ['inputs', *out_names]} if axes else None)

    def check(session, inputs, ref):
        return max_rel_diff([torch.from_numpy(o) for o in session(inputs.numpy())], ref)

    ort_diff = check(get_backend('onnxruntime').Session(onnx_path), example, outs)
    logger(f'onnxruntime fp32 vs torch: max relative difference {ort_diff:.2e}')
    if not ort_diff <= EXPORT_TOLERANCE:
        raise RuntimeError(f'{onnx_path}: onnxruntime differs from torch by {ort_diff:.2e} '
                           f'(relative), more than {EXPORT_TOLERANCE:g}')

    calib_inputs = None
    if precision == 'int8':
        calib_inputs = calibration_inputs(cfg, model.data_preprocessor, calib,
                                          None if dynamic_shape else (height, width),
                                          calib_images, calib_det, calib_bbox_file)
        logger(f'calibrating int8 on {len(calib_inputs)} '
               f'{"inputs from " + str(calib_images) if calib_images else "training images"}')
    model_file = backend_mod.convert(onnx_path, out_dir, precision, calib_inputs)
    diff = check(backend_mod.Session(osp.join(out_dir, model_file), precision), example, outs)
    logger(f'{backend} {precision} vs torch fp32: max relative difference {diff:.2e}')

    meta = read_meta(out_dir) if osp.isfile(osp.join(out_dir, META_FILE)) else {}
    if meta.get('task') not in (None, task) or meta.get('input_shape') not in (None, [
            None if dynamic_batch else 1, 3, None if dynamic_shape else height,
            None if dynamic_shape else width]):
        meta = {}  # another model was exported here before: start afresh
    preprocessor = cfg.model.get('data_preprocessor', {})
    meta.update(
        task=task,
        config=CONFIG_FILE,
        checkpoint=osp.abspath(checkpoint) if checkpoint else None,
        onnx=ONNX_FILE,
        input_name='inputs',
        output_names=out_names,
        input_shape=[None if dynamic_batch else 1, 3, None if dynamic_shape else height,
                     None if dynamic_shape else width],
        trace_shape=list(example.shape),
        mean=preprocessor.get('mean'),
        std=preprocessor.get('std'),
        bgr_to_rgb=preprocessor.get('bgr_to_rgb', False),
        codec=cfg.get('codec') if task == 'pose' else None,
        test_cfg=cfg.model.get('test_cfg'),
        dataset_meta=dataset_meta_of(cfg),
        torch_heads=TORCH_HEADS_FILE if task == 'det' else None)
    meta.setdefault('models', {}).setdefault(backend, {})[precision] = dict(
        file=model_file, max_rel_diff=diff,
        calib_images=len(calib_inputs) if calib_inputs else None)
    meta['models'].setdefault('onnxruntime', {}).setdefault(
        'fp32', dict(file=ONNX_FILE, max_rel_diff=ort_diff, calib_images=None))
    meta.setdefault('default_precision', {})[backend] = precision
    meta['default_precision'].setdefault('onnxruntime', 'fp32')
    cfg.dump(osp.join(out_dir, CONFIG_FILE))
    heads = torch_heads_state(model, task)
    if heads is not None:
        torch.save(heads, osp.join(out_dir, TORCH_HEADS_FILE))
    with open(osp.join(out_dir, META_FILE), 'w') as f:
        json.dump(meta, f, indent=1, default=_jsonable)
    return meta
