"""Builds the pose, detection and segmentation models of the inferencer, torch or exported.

torch models come from the upstream initialisers (mmpose ``init_model``, mmdet
``init_detector``, mmseg ``init_model``), which load checkpoints leniently: a checkpoint of
another model would leave random weights with a warning. Here the checkpoint is compared with
the model first and a mismatch is one error naming both files. Exported models come from
``mmhrnet.deploy.load_backend_model`` (onnxruntime / OpenVINO), which returns an object with
the same ``cfg`` and ``test_step`` as the torch model, so the upstream inference functions
run either. A multi-task model (``mmhrnet.HRNetMultiTask``: boxes, masks, keypoints and
parsing from one pass) loads as task ``'multitask'``, through mmdet's initialiser, or from its
export folder.
"""
import os
import os.path as osp
from typing import Optional, Tuple, Union

import torch
from mmengine.config import Config

from mmhrnet.tasks import MODEL_TASKS as TASKS  # the table of tasks
from mmhrnet.tasks import TITLES as TASK_NAMES
from mmhrnet.tasks import is_multitask_model

BACKENDS = ('torch', 'onnxruntime', 'openvino')
# Test pipelines of dataset configs load annotations; an image of a user has none.
_ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadSegAnnotations', 'LoadPanopticAnnotations',
                       'LoadPeopleAnnotations')


class ModelLoadError(ValueError):
    """A config or checkpoint that does not give the requested model; the message names it."""


def is_multitask(cfg: Config) -> bool:
    """Whether a config's model is a multi-task one (``mmhrnet.HRNetMultiTask``)."""
    return is_multitask_model(cfg.model)


def load_task_config(config: Union[str, Config], task: str) -> Config:
    """Reads a config and checks that it is one of ``task`` (``'pose'``, ``'det'``, ``'seg'``,
    ``'multitask'``).

    The task is the config's ``default_scope`` (mmpose / mmdet / mmseg), and a multi-task model
    for ``'multitask'``; a pose config must also be top-down (the inferencer gives it person
    boxes).
    """
    name = TASK_NAMES[task]
    if isinstance(config, Config):
        cfg, where = config, f'the given {name} config'
    else:
        where = os.fspath(config)
        if not osp.isfile(where):
            raise ModelLoadError(f'{name} model: config {where} does not exist')
        try:
            cfg = Config.fromfile(where)
        except Exception as e:  # a config is Python: any error is the file's
            raise ModelLoadError(f'{name} model: config {where} does not load: '
                                 f'{type(e).__name__}: {e}') from None
    from mmhrnet.tasks import task_of_scope
    scope = cfg.get('default_scope')
    found = task_of_scope(scope)
    if 'model' in cfg and found == 'det' and is_multitask(cfg):
        found = 'multitask'
    if 'model' not in cfg or found is None:
        raise ModelLoadError(f'{name} model: {where} is not an mmpose / mmdet / mmseg model '
                             f'config (default_scope {scope!r})')
    if found != task:
        raise ModelLoadError(
            f'{name} model: {where} is a {TASK_NAMES[found]} config (default_scope {scope!r}, '
            f'model {cfg.model.get("type")}); pass it as the {found} model')
    if task == 'pose' and 'Topdown' not in str(cfg.model.get('type', '')):
        raise ModelLoadError(f'pose model: {where} is not a top-down pose config (model '
                             f'{cfg.model.get("type")}); the inferencer runs top-down models')
    return cfg


def _strip_annotation_loaders(pipeline: list) -> list:
    return [t for t in pipeline if not str(t.get('type', '')).split('.')[-1].startswith(
        _ANNOTATION_LOADERS)]


def _prepare_config(cfg: Config, task: str) -> Config:
    """The config as the upstream inference functions read it, without annotation loading."""
    cfg = cfg.copy()
    loader = cfg.test_dataloader.dataset
    loader.pipeline = _strip_annotation_loaders(loader.pipeline)
    if task == 'seg':  # mmseg's inference_model reads the top-level test_pipeline
        cfg.test_pipeline = _strip_annotation_loaders(cfg.get('test_pipeline', loader.pipeline))
    if 'init_cfg' in cfg.model.get('backbone', {}):
        cfg.model.backbone.init_cfg = None  # no pretrained download: the checkpoint is loaded
    return cfg


def local_checkpoint(checkpoint: str) -> str:
    """A checkpoint file path; a URL is downloaded once into torch's hub cache."""
    if not checkpoint.startswith(('http://', 'https://')):
        return checkpoint
    from torch.hub import download_url_to_file, get_dir
    path = osp.join(get_dir(), 'checkpoints', osp.basename(checkpoint.split('?')[0]))
    if not osp.isfile(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
        try:
            download_url_to_file(checkpoint, path)
        except Exception as e:  # no network, 404, ...: name the URL
            raise ModelLoadError(f'checkpoint {checkpoint} cannot be downloaded: '
                                 f'{type(e).__name__}: {e}') from None
    return path


def _read_checkpoint(path: str, name: str) -> dict:
    from mmhrnet.utils.checkpoint import CheckpointError, read_checkpoint
    try:  # truncated, not a checkpoint, bytes changed (digest), NaN: one error naming it
        return read_checkpoint(path)
    except CheckpointError as e:
        raise ModelLoadError(f'{name} model: {e}') from None


def _check_fit(model: torch.nn.Module, ckpt: dict, path: str, where: str, name: str) -> None:
    """Raises ModelLoadError when the checkpoint's weights are not those of ``model``."""
    from mmhrnet.utils.checkpoint import CheckpointError, check_fit, state_dict_of, strip_prefix
    try:
        state = strip_prefix(state_dict_of(ckpt, f'checkpoint {path}'))
        check_fit(model.state_dict(), state, path, where)
    except CheckpointError as e:
        raise ModelLoadError(f'{name} model: {e}') from None


def _dataset_meta(ckpt: dict, task: str) -> Optional[dict]:
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    dataset_meta = meta.get('dataset_meta') if isinstance(meta, dict) else None
    if not dataset_meta:
        return None
    if task in ('det', 'multitask'):  # mmdet 3.x reads lower-case keys (as init_detector)
        dataset_meta = {k.lower(): v for k, v in dataset_meta.items()}
    return dict(dataset_meta)


def _config_dataset_meta(cfg: Config) -> dict:
    """The test dataset's metainfo (classes, palette) without loading its annotations."""
    from mmhrnet.deploy.task import dataset_meta_of
    return dataset_meta_of(cfg)


def _init_torch(task: str, cfg: Config, device: str):
    if task == 'pose':
        from mmpose.apis import init_model
        return init_model(cfg, None, device=device)
    if task in ('det', 'multitask'):
        from mmdet.apis import init_detector
        return init_detector(cfg, None, device=device)
    from mmseg.apis import init_model
    return init_model(cfg, None, device=device)


def load_torch_model(task: str, config, checkpoint: str, device: str = 'cpu'):
    """Builds a torch model of ``task`` from a config and a checkpoint made for it.

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta`` set as the upstream
        initialisers set them.

    Raises:
        ModelLoadError: A missing or unreadable file, a config of another task, or a
            checkpoint whose weights are not this config's model.
    """
    from mmengine.registry import init_default_scope

    from mmhrnet.utils.checkpoint import load_checkpoint_strict
    name = TASK_NAMES[task]
    cfg = _prepare_config(load_task_config(config, task), task)
    where = os.fspath(config) if not isinstance(config, Config) else 'the config'
    if checkpoint is None:
        raise ModelLoadError(f'{name} model: no checkpoint given for {where}')
    checkpoint = local_checkpoint(os.fspath(checkpoint))
    ckpt = _read_checkpoint(checkpoint, name)
    init_default_scope(cfg.default_scope)
    model = _init_torch(task, cfg, 'cpu')
    _check_fit(model, ckpt, checkpoint, where, name)
    load_checkpoint_strict(model, checkpoint)
    meta = _dataset_meta(ckpt, task) or (_config_dataset_meta(cfg) if task != 'pose' else None)
    if meta:
        if task == 'pose':
            from mmpose.datasets.datasets.utils import parse_pose_metainfo
            meta = meta if 'skeleton_links' in meta else parse_pose_metainfo(meta)
        model.dataset_meta = {**(getattr(model, 'dataset_meta', None) or {}), **meta}
    return model.to(device).eval()


def load_exported_model(task: str, export_dir: str, backend: str, device: str = 'cpu',
                        threads: Optional[int] = None):
    """Loads an exported model (``tools/deploy/export.py``) with onnxruntime or OpenVINO,
    running on ``threads`` threads (None: torch's number)."""
    name = TASK_NAMES[task]
    try:
        from mmhrnet.deploy import load_backend_model
    except ImportError as e:
        raise ModelLoadError(f'backend {backend!r} needs mmhrnet.deploy, which does not import '
                             f'here ({e})') from None
    if not osp.isdir(os.fspath(export_dir)):
        raise ModelLoadError(f'{name} model: export folder {export_dir} does not exist (make '
                             f'it with tools/deploy/export.py CONFIG CHECKPOINT --out DIR)')
    model = load_backend_model(os.fspath(export_dir), backend=backend, device=device,
                               threads=threads)
    cfg = load_task_config(model.cfg, task)  # an export of another task fails here, naming it
    model.cfg = _prepare_config(cfg, task)
    if getattr(model, 'dataset_meta', None) is None:
        meta = getattr(model, 'meta', None) or {}
        model.dataset_meta = meta.get('dataset_meta') or _config_dataset_meta(cfg)
    return model


def load_task_model(task: str, spec, backend: str = 'torch', device: str = 'cpu',
                    threads: Optional[int] = None):
    """One model of the inferencer from its spec.

    Args:
        task: ``'pose'``, ``'det'``, ``'seg'`` or ``'multitask'``.
        spec: ``(config, checkpoint)`` for torch; for an exported backend, the export folder
            or ``(config, export_folder)`` (the config then only names the task's config).
        backend: ``'torch'``, ``'onnxruntime'`` or ``'openvino'``.
        device: ``'cpu'`` or ``'cuda:0'`` ...
        threads: An exported backend's threads (None: torch's number).
    """
    if task not in TASKS:
        raise ValueError(f'task {task!r} must be one of {TASKS}')
    if backend not in BACKENDS:
        raise ModelLoadError(f'backend {backend!r} must be one of {BACKENDS}')
    parts: Tuple = tuple(spec) if isinstance(spec, (list, tuple)) else (spec, )
    if backend == 'torch':
        if len(parts) != 2:
            raise ModelLoadError(f'{TASK_NAMES[task]} model: give (config, checkpoint), got '
                                 f'{spec!r}')
        model = load_torch_model(task, parts[0], parts[1], device)
    else:
        if len(parts) not in (1, 2):
            raise ModelLoadError(f'{TASK_NAMES[task]} model: give the export folder, got '
                                 f'{spec!r}')
        model = load_exported_model(task, parts[-1], backend, device, threads)
    if task in ('det', 'multitask') and device == 'cpu':
        # the RoI stage's RoIAlign through torchvision's kernel: the same bits, faster
        from mmhrnet.deploy.optimize import torchvision_roi_align
        torchvision_roi_align(model)
    return model
