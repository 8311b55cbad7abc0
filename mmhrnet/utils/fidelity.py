"""Compare mmhrnet.HRNet with the HRNets of mmpose, mmseg and mmdet under the same weights.

:data:`DROP_IN_CHANGES` is the one drop-in rule: what a user writes beside
``type='mmhrnet.HRNet'`` in a config of each package. The base config
``configs/_base_/models/hrnet_backbones.py``, the docs table (:func:`drop_in_table`) and the
sweep over every upstream HRNet config (:func:`sweep_config`, ``tests/test_dropin_sweep.py``)
follow it.
"""
import ast
import copy
import functools
import glob
import importlib
import os.path as osp
import re
from collections import OrderedDict

import torch

from mmhrnet.models.backbones.hrnet import UPSTREAM_DEFAULTS

# What a user adds beside type='mmhrnet.HRNet' in a config of each package, and why. The
# backbone then takes that package's defaults for everything the config leaves out, including
# how the package reads absent `extra` keys (mmhrnet.models.UPSTREAM_DEFAULTS).
# One argument: the package's column of UPSTREAM_DEFAULTS.
DROP_IN_CHANGES = {package: dict(defaults=package) for package in UPSTREAM_DEFAULTS
                   if package != 'mmhrnet'}


def defaults_text(package):
    """What ``package``'s HRNet does with what a config leaves out, in words, read from its
    column of :data:`UPSTREAM_DEFAULTS` (the docs' drop-in table)."""
    d = UPSTREAM_DEFAULTS[package]
    n = 'four' if d['multiscale_output'] else 'one'
    if d['extra_multiscale'] is None:
        words = [f'stage 4 gives {n} outputs (the `multiscale_output` argument); `extra` keys '
                 'of it ignored']
    else:
        words = ["stage 4 gives four outputs only where `extra['stage4']` says "
                 '`multiscale_output=True`, else '
                 f"{'four' if d['extra_multiscale'] else 'one'}"]
    if d['upsample'] is None:
        words.append('fusion upsampling as `extra.upsample`, else nearest')
    else:
        mode, align = d['upsample']
        words.append(f'fusion upsampling {mode}' +
                     ('' if align is None else f', `align_corners={align}`'))
    words.append(f"`norm_eval={d['norm_eval']}`" +
                 (' (BN statistics frozen while training)' if d['norm_eval'] else ''))
    init = d['init_cfg'][0]
    words.append('init ' + ', '.join(f'{k}={v}' for k, v in init.items() if k != 'layer')
                 .replace('type=', ''))
    return '; '.join(words)


# Input sides that are not multiples of 32. mmpose and mmdet add nearest-upsampled maps to the
# branch above without resizing, so their HRNets only run where every halving is exact: sides
# 32k-3..32k (253 -> 127 -> 64 at 1/4). mmseg resizes, so it also takes inexact halvings.
TEST_SIZES = {'mmpose': [(253, 189)], 'mmdet': [(253, 189)], 'mmseg': [(253, 189), (200, 136)]}


def upstream_hrnet(package):
    """The ``HRNet`` class of ``package`` ('mmpose', 'mmseg' or 'mmdet')."""
    return importlib.import_module(f'{package}.models.backbones').HRNet


def randomize(model, seed=0):
    """Fill every float parameter and buffer with random values (variances positive), so that
    any difference between two implementations shows up in their outputs."""
    g = torch.Generator().manual_seed(seed)
    own = model.state_dict()
    state = OrderedDict()
    # Module versions travel with a state dict: without them mmpose's CID / DEKR heads take it
    # for a pre-1.0 checkpoint and rename its keys.
    state._metadata = getattr(own, '_metadata', None)
    for k, v in own.items():
        if not v.is_floating_point():
            state[k] = v
        elif k.endswith('running_var'):
            state[k] = torch.rand(v.shape, generator=g) + 0.5
        else:
            state[k] = torch.randn(v.shape, generator=g) * 0.1
    model.load_state_dict(state, strict=True)
    return state


def max_rel_diff(ref, out):
    """Largest absolute difference over the largest magnitude of the reference ``ref``.

    Args:
        ref (Tensor | array | tuple | list): The reference output(s).
        out (Tensor | array | tuple | list): The output(s) compared with it, as many and of
            the same shapes (a dropped output would otherwise pass).

    Returns:
        float: The worst over all outputs.
    """
    refs = tuple(ref) if isinstance(ref, (tuple, list)) else (ref, )
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out, )
    if len(outs) != len(refs):
        raise ValueError(f'{len(outs)} outputs, the reference has {len(refs)}')
    worst = 0.0
    for r, o in zip(refs, outs):
        r, o = torch.as_tensor(r).float(), torch.as_tensor(o).float()
        if o.shape != r.shape:
            raise ValueError(f'output shape {tuple(o.shape)} differs from the reference '
                             f'{tuple(r.shape)}')
        worst = max(worst, ((r - o).abs().max() / r.abs().max()).item())
    return worst


def compare(upstream, ours, sizes, batch=2, seed=0):
    """Swap randomised weights between two HRNets strictly and compare their eval outputs.

    Returns:
        dict: ``keys`` (state-dict size) and ``max_rel_diff`` over all outputs and sizes.
    """
    upstream.eval()  # mmpose's train() returns None: no chaining
    ours.eval()
    ours.load_state_dict(randomize(upstream, seed), strict=True)
    upstream.load_state_dict(ours.state_dict(), strict=True)
    worst = 0.0
    for size in sizes:
        x = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            ref, out = upstream(x), ours(x)
        if len(ref) != len(out) or any(a.shape != b.shape for a, b in zip(ref, out)):
            raise AssertionError(f'output shapes differ: {[tuple(a.shape) for a in ref]} vs '
                                 f'{[tuple(b.shape) for b in out]}')
        worst = max([worst] + [max_rel_diff(a, b) for a, b in zip(ref, out)])
    return dict(keys=len(ours.state_dict()), max_rel_diff=worst)


def compare_extra(package, extra, sizes=None):
    """Build ``package``'s HRNet and ours from the same ``extra`` and :func:`compare` them."""
    from mmhrnet.models import HRNet
    upstream = upstream_hrnet(package)(extra=copy.deepcopy(extra))
    ours = HRNet(extra=extra, **DROP_IN_CHANGES[package])
    return compare(upstream, ours, sizes or TEST_SIZES[package])


def drop_in_table():
    """The README's drop-in table (markdown), rendered from :data:`DROP_IN_CHANGES`."""
    rows = ['| package | change `type=\'HRNet\'` to | what it keeps |', '| --- | --- | --- |']
    for package, change in DROP_IN_CHANGES.items():
        args = ', '.join(f'{k}={v!r}' for k, v in change.items())
        rows.append(f"| {package} | `type='mmhrnet.HRNet', {args}` | {defaults_text(package)} |")
    return '\n'.join(rows)


# -- the sweep over every HRNet config an installed package ships -----------------------------
UPSTREAM_PACKAGES = ('mmpose', 'mmseg', 'mmdet')
# Input (H, W) per package: sides multiples of 32 (mmpose / mmdet need exact halvings), small.
SWEEP_SIZES = {'mmpose': (64, 64), 'mmseg': (64, 64), 'mmdet': (64, 64)}
_HRNET_LITERAL = re.compile(r"""['"]HRNet['"]""")


@functools.lru_cache(maxsize=None)
def upstream_config_root(package):
    """The ``.mim/configs`` folder that the installed ``package`` ships."""
    from .build import config_root
    return config_root(package)


def base_files(path):
    """The files that ``path`` names in ``_base_`` (relative, ``mmpose::`` / ``mmseg::`` /
    ``mmdet::`` or ``mmhrnet::``), read with ast."""
    try:
        tree = ast.parse(open(path, encoding='utf-8').read())
    except SyntaxError:
        return []
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], 'id', None) == '_base_'):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return []
            bases = [bases] if isinstance(bases, str) else list(bases)
            out = []
            for b in bases:
                if '::' in b:
                    pkg, rel = b.split('::', 1)
                    if pkg in (*UPSTREAM_PACKAGES, 'mmhrnet'):
                        out.append(osp.join(upstream_config_root(pkg), rel))
                else:
                    out.append(osp.normpath(osp.join(osp.dirname(path), b)))
            return out
    return []


def _names_hrnet(path, root, memo):
    """Whether ``path`` or a file of its ``_base_`` chain holds the literal ``'HRNet'``."""
    if path not in memo:
        memo[path] = False  # guards against cycles
        try:
            text = open(path, encoding='utf-8').read()
        except OSError:
            return False
        memo[path] = bool(_HRNET_LITERAL.search(text)) or any(
            _names_hrnet(b, root, memo) for b in base_files(path))
    return memo[path]


def discover_hrnet_configs(package):
    """Every config ``package`` ships whose ``model.backbone.type`` is ``'HRNet'``.

    Each candidate is loaded with mmengine and its backbone type read. Files whose whole
    ``_base_`` chain never writes the string ``'HRNet'`` cannot have that type and are not
    loaded (loading all ~2100 shipped configs takes minutes); ``_base_`` folders hold no
    complete configs.

    Returns:
        list[tuple[str, dict | None, str | None]]: ``(path relative to the configs folder,
        model config, None)`` per HRNet config, ``(path, None, reason)`` for a candidate that
        does not load.
    """
    from mmengine.config import Config
    root = upstream_config_root(package)
    memo, found = {}, []
    for path in sorted(glob.glob(osp.join(root, '**', '*.py'), recursive=True)):
        rel = osp.relpath(path, root)
        if '_base_' in rel.split(osp.sep) or not _names_hrnet(path, root, memo):
            continue
        try:
            model = Config.fromfile(path).get('model')
        except Exception as e:  # a broken upstream file is reported, not hidden
            found.append((rel, None, f'{package} config does not load: {type(e).__name__}: {e}'))
            continue
        backbone = model.get('backbone') if isinstance(model, dict) else None
        if isinstance(backbone, dict) and backbone.get('type') == 'HRNet':
            found.append((rel, model.to_dict(), None))
    return found


def drop_in_model_cfg(model_cfg, package):
    """A copy of an upstream model config with the backbone swapped by :data:`DROP_IN_CHANGES`."""
    cfg = copy.deepcopy(model_cfg)
    if cfg['backbone'].get('type') != 'HRNet':
        raise ValueError(f"backbone type is {cfg['backbone'].get('type')!r}, not 'HRNet'")
    cfg['backbone'].update(type='mmhrnet.HRNet', **DROP_IN_CHANGES[package])
    return cfg


# Keys that hold no weights and do not enter the swept forward: configs that differ only in
# them (schedules, codecs, losses) share one check.
_UNSWEPT_KEYS = frozenset(('train_cfg', 'test_cfg', 'decoder', 'loss', 'loss_decode',
                           'loss_cls', 'loss_bbox', 'loss_mask', 'loss_centerness',
                           'loss_keypoint'))


def model_key(model_cfg):
    """What decides the swept check: the model config without :data:`_UNSWEPT_KEYS`."""
    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in sorted(d.items()) if k not in _UNSWEPT_KEYS}
        return [strip(v) for v in d] if isinstance(d, (list, tuple)) else d
    return repr(strip(model_cfg))


def _flatten(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for k in sorted(out) for t in _flatten(out[k])]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flatten(o)]
    return []


def _swept_forward(model, package, x):
    """The tensors a user's pipeline reads: head outputs (mmpose, mmseg), neck maps (mmdet,
    whose heads need proposals and image metas)."""
    if package == 'mmdet':
        return _flatten(model.extract_feat(x))
    return _flatten(model._forward(x))


def sweep_config(model_cfg, package, seed=0):
    """Build an upstream model config both ways, swap weights strictly, compare outputs.

    The upstream model (``type='HRNet'``) gets random weights and BN statistics
    (:func:`randomize`); they load strictly into the drop-in model (``type='mmhrnet.HRNet'``
    plus :data:`DROP_IN_CHANGES`) and back; both run one small input in eval mode.

    Returns:
        dict: ``keys`` (whole-model state-dict size), ``outputs`` (tensors compared) and
        ``max_rel_diff``.
    """
    from mmengine.config import ConfigDict
    from mmengine.registry import DefaultScope
    registry = importlib.import_module(f'{package}.registry').MODELS
    with DefaultScope.overwrite_default_scope(package):
        upstream = registry.build(ConfigDict(copy.deepcopy(model_cfg)))
        ours = registry.build(ConfigDict(drop_in_model_cfg(model_cfg, package)))
    upstream.eval()
    ours.eval()
    ours.load_state_dict(randomize(upstream, seed), strict=True)
    upstream.load_state_dict(ours.state_dict(), strict=True)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 3, *SWEEP_SIZES[package], generator=g)
    with torch.no_grad():
        ref, out = _swept_forward(upstream, package, x), _swept_forward(ours, package, x)
    if not ref or [t.shape for t in ref] != [t.shape for t in out]:
        raise AssertionError(f'output shapes differ: {[tuple(t.shape) for t in ref]} vs '
                             f'{[tuple(t.shape) for t in out]}')
    return dict(keys=len(ours.state_dict()), outputs=len(ref),
                max_rel_diff=max(max_rel_diff(a, b) for a, b in zip(ref, out)))


def sweep_package(package, log=None):
    """:func:`sweep_config` on every discovered config of ``package``, sharing equal models.

    Returns:
        dict: ``found``, ``checked``, ``equal`` (max relative difference below 1e-5),
        ``unique`` (models built), ``failures`` ({path: reason}), ``seconds`` (wall) and
        ``cpu_seconds`` (this process).
    """
    import time
    start, cpu = time.perf_counter(), time.process_time()
    results, failures, checked, equal = {}, {}, 0, 0
    found = discover_hrnet_configs(package)
    for rel, model_cfg, reason in found:
        if reason is None:
            key = model_key(model_cfg)
            if key not in results:
                try:
                    results[key] = sweep_config(model_cfg, package)
                except Exception as e:  # reported per config, the sweep goes on
                    results[key] = f'{type(e).__name__}: {e}'
            res = results[key]
            reason = res if isinstance(res, str) else (
                None if res['max_rel_diff'] < 1e-5 else f"max rel diff {res['max_rel_diff']:.2e}")
            checked += not isinstance(res, str)
        equal += reason is None
        if reason is not None:
            failures[rel] = reason
        if log:
            log(f'{package} {rel}: {reason or "equal"}')
    return dict(found=len(found), checked=checked, equal=equal, unique=len(results),
                failures=failures, seconds=time.perf_counter() - start,
                cpu_seconds=time.process_time() - cpu)
