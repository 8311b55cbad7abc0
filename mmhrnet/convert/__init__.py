"""HRNet weights from everywhere, converted to mmhrnet's (= mmpose's / mmseg's / mmdet's) keys.

=================  ==========================================  =============================
``source``         layout                                      output loads strictly into
=================  ==========================================  =============================
``official-pose``  backbone at the top level, ``final_layer``  a pose config's model
                   heatmap conv (deep-high-resolution-net)     (``backbone.*``, ``head.*``)
``official-seg``   ``model.`` + ``last_layer.{0,1,3}``         a seg config's model
``official-det``   mmdetection v1 (HRFPN ``reduction_conv.0``,  a det config's model
                   RoI heads at the top level, background 0)
``official-cls``   ImageNet classification (``incre_modules``,  ``mmhrnet.HRNet`` (bare keys;
                   ``downsamp_modules``, ``final_layer``,      ``init_cfg=Pretrained``)
                   ``classifier``)
``timm``           timm's ``hrnet_w*`` (the official cls keys)  ``mmhrnet.HRNet``
``mmpretrain``     ``backbone.*`` + ``neck.*`` + ``head.*``    ``mmhrnet.HRNet``
=================  ==========================================  =============================

Every source key is either mapped or dropped with its reason (:class:`Conversion`);
``Conversion.check(model)`` lists the keys a target model still misses.
"""
import re

from mmhrnet.utils.checkpoint import CLS_HEAD_PREFIXES, CheckpointError, read_checkpoint

from .core import Conversion, rename, require, unwrap
from .det import official_det
from .seg import convert_official_seg, load_official_seg, official_seg

CLS_HEAD = 'ImageNet classification head (HRNet-C), used by no pose / seg / det model'
CLS_RULES = [('^(' + '|'.join(re.escape(p) for p in CLS_HEAD_PREFIXES) + ')', None, CLS_HEAD)]
POSE_RULES = [(r'^final_layer\.(.*)$', r'head.final_layer.\1', '')]
MMPRETRAIN_RULES = [
    (r'^backbone\.(.*)$', r'\1', ''),
    (r'^neck\.', None, "mmpretrain's classification neck (HRFuseScales)"),
    (r'^head\.', None, "mmpretrain's classification head"),
    (r'^data_preprocessor\.', None, "mmpretrain's data preprocessor"),
]


def _official_pose(state):
    conv = rename(state, POSE_RULES, 'official-pose', default=r'backbone.\1')
    require(conv, ['backbone.conv1.weight', 'head.final_layer.weight'],
            'an official HRNet pose checkpoint (backbone + final_layer)')
    return conv


def _backbone_only(source, rules):
    def convert(state):
        conv = rename(state, rules, source, default=r'\1')
        require(conv, ['conv1.weight', 'layer1.0.conv1.weight'], f'a {source} HRNet checkpoint')
        return conv
    return convert


CONVERTERS = {
    'official-pose': _official_pose,
    'official-seg': official_seg,
    'official-det': official_det,
    'official-cls': _backbone_only('official-cls', CLS_RULES),
    'timm': _backbone_only('timm', CLS_RULES),
    'mmpretrain': _backbone_only('mmpretrain', MMPRETRAIN_RULES),
}
SOURCES = tuple(CONVERTERS)
# Sources whose output is a bare backbone (for ``mmhrnet.HRNet``), not a whole model.
BACKBONE_SOURCES = ('official-cls', 'timm', 'mmpretrain')


def convert_weights(checkpoint, source, **kwargs):
    """Convert a checkpoint (or state dict) of ``source``'s layout.

    Args:
        checkpoint (dict): A state dict, or a checkpoint holding one under ``state_dict`` /
            ``model``; DataParallel's ``module.`` is removed.
        source (str): One of :data:`SOURCES`.
        **kwargs: Options of the source's converter (``official-seg``: ``fold_bias``).

    Returns:
        Conversion: The state dict and the account of every key.
    """
    if source not in CONVERTERS:
        raise ValueError(f'unknown weights source {source!r}; expected one of {SOURCES}')
    if source == 'official-seg':
        return official_seg(checkpoint, **kwargs)
    if kwargs:
        raise TypeError(f'{source} takes no options, got {sorted(kwargs)}')
    return CONVERTERS[source](unwrap(checkpoint))


def load_and_convert(filename, source, **kwargs):
    """Read a checkpoint file (tensors only) and :func:`convert_weights` it.

    Raises:
        CheckpointError: missing, truncated, not a checkpoint or holding NaN / inf.
        ValueError: a checkpoint of another layout than ``source``.
    """
    checkpoint = read_checkpoint(filename)
    try:
        return convert_weights(checkpoint, source, **kwargs)
    except (KeyError, TypeError, CheckpointError) as e:
        # a file of another layout: name it, one plain line
        raise ValueError(f'{filename} (--from {source}): {e.args[0] if e.args else e}') from e


__all__ = [
    'BACKBONE_SOURCES', 'CONVERTERS', 'Conversion', 'SOURCES', 'convert_official_seg',
    'convert_weights', 'load_and_convert', 'load_official_seg', 'official_det', 'official_seg',
    'rename', 'require', 'unwrap'
]
