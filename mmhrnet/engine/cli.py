"""Command-line helpers that `tools/` share: config loading, CLI overrides, checkpoint loading,
dataset retargeting and the overfit schedule."""
import os
import os.path as osp

from mmengine.config import Config

from .dist import setup_cpu_distributed


def parse_runner_args(parser, example):
    """Add the options both tools share (``--cfg-options``, ``--launcher``, ``--local_rank``),
    parse the command line and export ``LOCAL_RANK`` as torchrun's older launchers expect.

    Args:
        parser (argparse.ArgumentParser): The tool's parser, with its own options.
        example (str): An override shown in ``--cfg-options``' help.
    """
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config settings, e.g. {example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_runner_cfg(args):
    """Load ``args.config`` and apply ``--work-dir``, ``--launcher`` and ``--cfg-options``.

    The task's scope (mmpose, mmseg or mmdet) comes from the config's ``default_scope``,
    which the task's inherited runtime sets.
    """
    import mmhrnet  # noqa: F401 (registers `mmhrnet::` configs and the checkpoint allow-list)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    setup_cpu_distributed(cfg, args.launcher)  # gloo, BN, DDP without device ids
    return cfg


def build_model_from_config(path, options=None):
    """Build the ``model`` of a config file in its ``default_scope`` (``options``: overrides as
    ``--cfg-options`` gives them)."""
    import mmhrnet  # noqa: F401 (registers `mmhrnet::` configs)
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    return build_config_model(cfg)


def build_config_model(cfg):
    """Build ``cfg.model`` (a loaded Config) in the config's ``default_scope``."""
    from mmengine.registry import MODELS, DefaultScope, init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmhrnet'))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return MODELS.build(cfg.model)


def load_checkpoint_strict(model, filename):
    """Load ``filename`` into ``model`` (unwrapped from DDP / TTA wrappers where needed), failing
    with the file name and the offending keys on any missing, unexpected or mis-shaped key."""
    from mmengine.model import is_model_wrapper
    from mmengine.runner.checkpoint import load_checkpoint
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    if is_model_wrapper(model):
        model = model.module
    target = getattr(model, 'module', model)  # test-time augmentation wraps the model
    try:
        load_checkpoint(target, filename, map_location='cpu', strict=True, logger='silent')
    except RuntimeError as e:
        raise RuntimeError(f'checkpoint {filename} does not fit the model of this config: '
                           f'{e}') from None


def set_show_dir(cfg, show_dir, interval=1):
    """Turn on the task's visualisation hook (pose, detection or segmentation) for testing."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError('--show-dir needs default_hooks.visualization in the config')
    hook.interval = interval
    if hook.type == 'SegVisualizationHook':  # mmseg's hook saves through the visualizer
        hook.draw = True
        cfg.visualizer.save_dir = show_dir
    else:
        hook.enable = True
        hook['test_out_dir' if hook.type == 'DetVisualizationHook' else 'out_dir'] = show_dir


def retarget_dataset(loader_cfg, ann_file, img_dir, bbox_file=None):
    """Point a dataloader config at a COCO-format annotation file and image folder.

    Paths are made absolute (``data_root`` emptied), so the config's own ``data/coco/`` layout
    does not leak in; the image folder goes where the dataset reads it (mmseg: ``img_path``).
    ``bbox_file`` (top-down pose) sets the person boxes to test with; None tests with
    ground-truth boxes.
    """
    for path, what in ((ann_file, 'annotation file'), (img_dir, 'image folder'),
                       (bbox_file, 'detection file')):
        if path is not None and not os.path.exists(path):
            raise FileNotFoundError(f'{what} not found: {path}')
    dataset = loader_cfg.dataset
    dataset.data_root = ''
    dataset.ann_file = osp.abspath(ann_file)
    prefix = dict(dataset.get('data_prefix', {}))
    # mmseg's datasets name the image folder `img_path`; mmpose's and mmdet's `img`.
    prefix['img_path' if 'img_path' in prefix else 'img'] = osp.abspath(img_dir) + '/'
    dataset.data_prefix = prefix
    if 'bbox_file' in dataset or bbox_file is not None:
        dataset.bbox_file = osp.abspath(bbox_file) if bbox_file else None
    return loader_cfg


def overfit_schedule(cfg, epochs):
    """Set ``cfg`` to overfit in ``epochs`` epochs: 10-step warm-up then cosine decay, one
    validation and one checkpoint at the end, a log line per step, no lr auto-scaling."""
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=10),
                           dict(type='CosineAnnealingLR', T_max=epochs, by_epoch=True)]
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=cfg.train_dataloader.batch_size)
    return cfg
