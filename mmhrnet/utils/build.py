"""Reading a config and building its model, in one place (tools, the exporter, the benchmarks
and the analysis drivers all come here)."""
import itertools
import os
import os.path as osp
from contextlib import contextmanager

from mmengine.config import Config

_SCOPE_IDS = itertools.count()


def load_config(config, cfg_options=None):
    """A :class:`mmengine.Config` from a file (or a Config), ``--cfg-options`` merged.

    Args:
        config (str | Config): The config file (``mmhrnet::`` / ``mmpose::`` ... bases
            resolve through the installed packages), or a loaded Config.
        cfg_options (dict, optional): Overrides as ``--cfg-options`` gives them; a key that
            looks like a misspelling is refused (:func:`mmhrnet.validation.check_cfg_options`).

    Raises:
        FileNotFoundError: no such config file.
        ConfigOptionError: an option key that looks like a misspelling.
    """
    import mmhrnet  # noqa: F401 (registers `mmhrnet::` configs and the checkpoint allow-list)
    from mmhrnet.validation import check_cfg_options
    if isinstance(config, Config):
        cfg, path = config, None
    else:
        path = os.fspath(config)
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file not found: {path}')
        cfg = Config.fromfile(path)
    if cfg_options:
        check_cfg_options(cfg, cfg_options, path)
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_model(cfg, checkpoint=None, init_weights=False):
    """Build ``cfg.model`` in the config's ``default_scope``, in eval mode.

    Args:
        cfg (Config | str): A loaded config, or a config file (:func:`load_config`).
        checkpoint (str, optional): Weights loaded strictly
            (:func:`mmhrnet.utils.checkpoint.load_checkpoint_strict`); None: as built.
        init_weights (bool): Run the model's ``init_weights`` (its ``init_cfg``) first.

    Returns:
        nn.Module: The model, in eval mode (call ``.train()`` to train it).
    """
    from mmengine.registry import MODELS, DefaultScope, init_default_scope
    if not isinstance(cfg, Config):
        cfg = load_config(cfg)
    init_default_scope(cfg.get('default_scope', 'mmhrnet'))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
    if init_weights:
        model.init_weights()
    if checkpoint is not None:
        from .checkpoint import load_checkpoint_strict
        load_checkpoint_strict(model, os.fspath(checkpoint))
    return model.eval()


def unwrap_model(model):
    """The model inside DDP (mmengine's model wrappers) and test-time-augmentation wrappers."""
    from mmengine.model import is_model_wrapper
    if is_model_wrapper(model):
        model = model.module
    return getattr(model, 'module', model)  # test-time augmentation wraps the model


def has_mmcv_ops(module):
    """Whether ``module`` holds one of mmcv's compiled ops (which read NCHW memory only)."""
    return next(mmcv_ops(module), None) is not None


def mmcv_ops(module):
    """``(name, module)`` of each of mmcv's compiled ops inside ``module``."""
    return ((name, m) for name, m in module.named_modules()
            if type(m).__module__.startswith('mmcv.ops'))


def config_root(package='mmhrnet'):
    """The ``.mim/configs`` folder the installed ``package`` ships (where ``package::`` config
    names resolve), found where the package is imported from: an editable install (``pip
    install -e .``) has no copy in site-packages."""
    import importlib.util
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f'{package} is not installed: no {package}:: configs')
    return osp.join(list(spec.submodule_search_locations)[0], '.mim', 'configs')


def config_file(name):
    """The path of an installed config: ``'mmhrnet::pose/hrnet_w32_coco.py'`` (or
    ``'mmpose::...'`` ...); a name without ``::`` is a config file that exists, or else one
    of mmhrnet's configs."""
    if '::' not in name and osp.isfile(name):
        return name
    package, rel = name.split('::', 1) if '::' in name else ('mmhrnet', name)
    return osp.join(config_root(package), rel)


@contextmanager
def default_scope(name):
    """Make ``name`` the registry scope inside the block, as mmengine's
    ``DefaultScope.overwrite_default_scope``, at a per-image cost: nothing where ``name`` is
    current already, else one scope made and dropped (mmengine's deep-copies every scope and
    sleeps to make a unique name, which gives the core away: 0.11 ms a call on a quiet 2-core
    machine, 1.6 ms beside busy jobs, measured; this 0.005 ms)."""
    from mmengine.registry import DefaultScope
    current = DefaultScope.get_current_instance()
    if name is None or (current is not None and current.scope_name == name):
        yield
        return
    key = f'mmhrnet-scope-{next(_SCOPE_IDS)}'
    DefaultScope.get_instance(key, scope_name=name)
    try:
        yield
    finally:
        DefaultScope._instance_dict.pop(key, None)
