"""Export a config + checkpoint to ONNX, convert it for a backend and precision, and write what
inference needs beside it.

An export folder holds:

* ``model.onnx``: the fp32 network (ONNX Runtime fp32 runs it as is); det and multitask add one
  ONNX file per RoI graph (``bbox_head.onnx``, ``mask_head.onnx``, ``keypoint_head.onnx``:
  :mod:`mmhrnet.deploy.det`);
* one file per graph, backend and precision converted from them (``model_ov.xml`` for OpenVINO
  fp32 and bf16, ``model_ov_int8.xml``, ``model_ort_int8.onnx``, ``bbox_head_ov.xml``, ...);
  exporting the same model again into the folder with another backend or precision adds to it,
  exporting another model replaces it whole;
* ``config.py``: the config, dumped with the overrides applied, from which the test pipeline,
  the data preprocessor and the decoding are rebuilt;
* ``deploy.json``: the input size, mean / std, codec, class and keypoint names, flip indices,
  the graphs, the files per backend and precision and each one's measured difference from
  torch, the checkpoint's and config's SHA-256;
* ``torch_heads.pth`` (det, only where some head does not export): the weights that run in
  torch.

Everything is checked (precision on this CPU and backend, calibration images, each graph on
ONNX Runtime against torch) and built in a staging folder before the folder is touched
(:mod:`mmhrnet.deploy.folder`).
"""
import hashlib
import os.path as osp

import numpy as np
import torch

from mmhrnet.utils.fidelity import max_rel_diff

from . import det
from .backend import check_precision, get_backend
from .calibration import calibration_inputs
from .folder import META_FILE, file_sha256, publish, read_meta, staging  # noqa: F401
from .task import (TORCH_HEADS_FILE, ExportedNet, build_model, dataset_meta_of, load_config,
                   task_of, torch_heads_state)

CONFIG_FILE = 'config.py'
ONNX_FILE = 'model.onnx'
# ONNX Runtime fp32 against torch fp32 after export (relative to the output's largest value).
EXPORT_TOLERANCE = 1e-4


def default_shape(cfg, task):
    """The input (H, W) to trace with: pose, the crop the test pipeline makes; seg, the sliding
    window or the preprocessor's size; det and multitask, the test pipeline's resize padded to
    32."""
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
    resize = [t for t in pipeline if 'Resize' in t.type and 'scale' in t]
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


def onnx_export(module, example, path, output_names=None, dynamic_axes=None):
    """Export ``module(example)`` to the ONNX file ``path``: the one ``torch.onnx.export`` call
    (TorchScript exporter, opset 17; the input is named ``inputs``)."""
    with torch.no_grad():
        torch.onnx.export(module, (example, ), path, dynamo=False, opset_version=17,
                          input_names=['inputs'], output_names=output_names,
                          dynamic_axes=dynamic_axes)
    return path


class Graph:
    """One network to export: ``module(example) -> outputs``, ``dynamic`` input axes."""

    def __init__(self, name, module, example, dynamic, output_names=None):
        self.name, self.module, self.example, self.dynamic = name, module, example, dynamic
        with torch.no_grad():
            self.outputs = module(example)
        many = isinstance(self.outputs, tuple)
        self.output_names = output_names or (
            [f'output{i}' for i in range(len(self.outputs))] if many else ['output'])
        self.onnx = f'{name}.onnx'

    def export(self, folder):
        path = osp.join(folder, self.onnx)
        names = ['inputs', *self.output_names]
        axes = {n: self.dynamic for n in names} if self.dynamic else None
        return onnx_export(self.module, self.example, path, self.output_names, axes)

    def describe(self):
        shape = [None if i in self.dynamic else s for i, s in enumerate(self.example.shape)]
        outs = self.outputs if isinstance(self.outputs, tuple) else (self.outputs, )
        return dict(onnx=self.onnx, input_shape=shape, output_names=self.output_names,
                    output_shapes=[[None, *o.shape[1:]] for o in outs])


def export_graphs(model, task, example, dynamic):
    """The graphs of a model: the image graph (``model``: :class:`ExportedNet`) and, for det
    and multitask, one per RoI head (:func:`mmhrnet.deploy.det.roi_parts`)."""
    net = ExportedNet(model, task).eval()
    with torch.no_grad():
        net(example)
    graphs = [Graph(det.IMAGE_GRAPH, net, example, dynamic, net.output_names())]
    if task in ('det', 'multitask'):
        parts = det.roi_parts(model)
        examples = det.example_roi_inputs(model, example[:1], parts)
        for part in parts:
            graphs.append(Graph(part.name, part.graph(part.module(model)).eval(),
                                examples[part.name], {0: 'rois'}))
    return graphs


def graph_calibration(model, task, graphs, calib_inputs):
    """Calibration inputs per graph: the images for the image graph, and for each RoI graph
    the RoI features the torch model gives it on those images."""
    inputs = {det.IMAGE_GRAPH: calib_inputs}
    if len(graphs) > 1:
        parts = [p for p in det.roi_parts(model) if p.name in {g.name for g in graphs}]
        inputs.update(det.roi_inputs(model, calib_inputs, parts))
        empty = [name for name, items in inputs.items() if not items]
        if empty:
            raise ValueError(f'int8 calibration: the model finds no boxes in the '
                             f'{len(calib_inputs)} calibration images, so {empty} get no input '
                             'to calibrate on; calibrate on more or other images (--calib, '
                             '--calib-images)')
    return inputs


def export_model(config, checkpoint, out_dir, shape=None, dynamic_batch=None,
                 dynamic_shape=None, backend='onnxruntime', precision='fp32', calib=32,
                 cfg_options=None, logger=print, calib_images=None, calib_det=None,
                 calib_bbox_file=None):
    """Export, convert, check and describe one model; see the module docstring for the files.

    Args:
        config (str | Config): The model's config.
        checkpoint (str | None): Its weights (None: as built, for tests of the plumbing).
        out_dir (str): The export folder (created; an export of the same model there is added
            to, one of another model replaced).
        shape (tuple[int, int] | None): Input (H, W); None: :func:`default_shape`.
        dynamic_batch (bool | None): Batch axis dynamic (else the batch is 1 and longer
            batches run in steps); None: for pose (all person crops of an image and their
            mirror images in one call), else static.
        dynamic_shape (bool | None): H and W dynamic; None: for seg, det and multitask when no
            ``shape`` is given (their images differ in size), else static.
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
    check_precision(precision, backend)  # before anything is built or written
    backend_mod = get_backend(backend)
    cfg = load_config(config, cfg_options)
    task = task_of(cfg)
    model = build_model(cfg, checkpoint)
    if dynamic_shape is None:
        dynamic_shape = task in ('seg', 'det', 'multitask') and shape is None
    if dynamic_batch is None:
        dynamic_batch = task == 'pose'
    height, width = shape or default_shape(cfg, task)
    calib_inputs = None
    if precision == 'int8':
        calib_inputs = calibration_inputs(cfg, model.data_preprocessor, calib,
                                          None if dynamic_shape else (height, width),
                                          calib_images, calib_det, calib_bbox_file)
        logger(f'calibrating int8 on {len(calib_inputs)} '
               f'{"inputs from " + str(calib_images) if calib_images else "training images"}')
    example = torch.randn(2 if dynamic_batch else 1, 3, height, width,
                          generator=torch.Generator().manual_seed(0))
    axes = {**({0: 'batch'} if dynamic_batch else {}),
            **({2: 'height', 3: 'width'} if dynamic_shape else {})}
    graphs = export_graphs(model, task, example, axes)
    graph_calib = graph_calibration(model, task, graphs, calib_inputs) if calib_inputs else {}
    ort = get_backend('onnxruntime')
    with staging(out_dir) as stage:
        files, diffs, ort_diffs = {}, {}, {}
        for graph in graphs:
            logger(f'exporting {task} graph {graph.name} at {tuple(graph.example.shape)}')
            onnx_path = graph.export(stage)
            x = graph.example.numpy()
            ort_diff = ort_diffs[graph.name] = _check(ort.Session(onnx_path), x, graph.outputs)
            logger(f'{graph.name}: onnxruntime fp32 vs torch: max relative difference '
                   f'{ort_diff:.2e}')
            if not ort_diff <= EXPORT_TOLERANCE:
                raise RuntimeError(f'{graph.name}.onnx: onnxruntime differs from torch by '
                                   f'{ort_diff:.2e} (relative), more than {EXPORT_TOLERANCE:g}')
            files[graph.name] = backend_mod.convert(onnx_path, stage, precision,
                                                    graph_calib.get(graph.name))
            diffs[graph.name] = _check(backend_mod.Session(
                osp.join(stage, files[graph.name]), precision), x, graph.outputs)
            logger(f'{graph.name}: {backend} {precision} vs torch fp32: max relative '
                   f'difference {diffs[graph.name]:.2e}')
        cfg.dump(osp.join(stage, CONFIG_FILE))
        heads = torch_heads_state(model, task)
        if heads is not None:
            torch.save(heads, osp.join(stage, TORCH_HEADS_FILE))
        meta = _describe(cfg, task, checkpoint, graphs, osp.join(stage, CONFIG_FILE),
                         heads is not None)
        meta['models'] = {backend: {precision: dict(
            file=files[det.IMAGE_GRAPH], files=files, max_rel_diff=max(diffs.values()),
            max_rel_diffs=diffs, calib_images=len(calib_inputs) if calib_inputs else None)}}
        meta['models'].setdefault('onnxruntime', {}).setdefault('fp32', dict(
            file=ONNX_FILE, files={g.name: g.onnx for g in graphs},
            max_rel_diff=max(ort_diffs.values()), max_rel_diffs=ort_diffs, calib_images=None))
        meta['default_precision'] = {backend: precision}
        meta['default_precision'].setdefault('onnxruntime', 'fp32')
        return publish(stage, out_dir, meta, backend, precision, _jsonable, logger)


def _check(session, inputs, ref):
    return max_rel_diff(ref, [torch.from_numpy(o) for o in session(inputs)])


def _describe(cfg, task, checkpoint, graphs, config_file, torch_heads):
    """``deploy.json`` without its models: what the folder's files are of and how to feed
    them."""
    preprocessor = cfg.model.get('data_preprocessor', {})
    image = graphs[0].describe()
    with open(config_file, 'rb') as f:
        config_sha = hashlib.sha256(f.read()).hexdigest()
    return dict(
        task=task,
        config=CONFIG_FILE,
        checkpoint=osp.abspath(checkpoint) if checkpoint else None,
        checkpoint_sha256=file_sha256(checkpoint),
        config_sha256=config_sha,
        onnx=ONNX_FILE,
        input_name='inputs',
        output_names=image['output_names'],
        input_shape=image['input_shape'],
        trace_shape=list(graphs[0].example.shape),
        graphs={g.name: g.describe() for g in graphs},
        graph_inputs={g.name: g.describe()['input_shape'] for g in graphs},
        mean=preprocessor.get('mean'),
        std=preprocessor.get('std'),
        bgr_to_rgb=preprocessor.get('bgr_to_rgb', False),
        codec=cfg.get('codec') if task == 'pose' else None,
        test_cfg=cfg.model.get('test_cfg'),
        dataset_meta=dataset_meta_of(cfg),
        torch_heads=TORCH_HEADS_FILE if torch_heads else None)
