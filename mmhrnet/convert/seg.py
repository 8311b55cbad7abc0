"""Official HRNet-Semantic-Segmentation checkpoints to the mmseg layout of mmhrnet's model.

Official keys: the backbone at the top level (``conv1.weight``, ``stage4.2.fuse_layers...``;
the same names as mmseg's, see HRNET_FACTS section 3) and the head as
``last_layer.0`` (1x1 conv with bias), ``last_layer.1`` (BN), ``last_layer.3`` (classifier);
checkpoints saved by its training script wrap all of it in ``model.`` (its ``FullModel``) beside
``loss.*`` criterion buffers, sometimes under ``state_dict`` and a DataParallel ``module.``.
"""
import torch

from .core import rename, require, unwrap

RULES = [
    (r'^loss\.', None, "the training criterion's class weights"),
    (r'^last_layer\.0\.(.*)$', r'decode_head.convs.0.conv.\1', ''),
    (r'^last_layer\.1\.(.*)$', r'decode_head.convs.0.bn.\1', ''),
    (r'^last_layer\.3\.(.*)$', r'decode_head.conv_seg.\1', ''),
]


def official_seg(state_dict, fold_bias=True):
    """Convert an official HRNetV2 segmentation state dict, with the report.

    Args:
        state_dict (dict): Official checkpoint (a state dict, or a dict holding one under
            ``state_dict``).
        fold_bias (bool): Fold the bias of ``last_layer.0`` into the BN after it
            (``running_mean -= bias``), for ``HRNetV2Head(conv_bias=False)`` (the default, and
            mmseg's FCNHead layout). The BN subtracts its mean right after the conv, so this is
            exact in evaluation, and in training (batch statistics cancel the bias, and the
            running mean then tracks the folded value). False keeps the bias as
            ``decode_head.convs.0.conv.bias``, for ``HRNetV2Head(conv_bias=True)``.

    Returns:
        Conversion: ``backbone.*`` and ``decode_head.*`` keys, loadable strictly into an
        EncoderDecoder with ``mmhrnet.HRNet`` and ``mmhrnet.HRNetV2Head``.

    Raises:
        KeyError: The state dict has no ``last_layer`` head or no backbone keys.
    """
    state = unwrap(state_dict)
    state = type(state)((k[6:] if k.startswith('model.') else k, v) for k, v in state.items())
    conv = rename(state, RULES, 'official-seg', default=r'backbone.\1')
    require(conv, ['decode_head.conv_seg.weight'],
            'an official HRNet segmentation checkpoint (last_layer.3.weight)')
    require(conv, ['backbone.conv1.weight'], 'an official HRNet segmentation checkpoint')
    out = conv.state_dict
    bias = out.get('decode_head.convs.0.conv.bias')
    if fold_bias and bias is not None:
        del out['decode_head.convs.0.conv.bias']
        conv.mapped = [(o, n) for o, n in conv.mapped if n != 'decode_head.convs.0.conv.bias']
        conv.drop('last_layer.0.bias', 'folded into decode_head.convs.0.bn.running_mean')
        mean = out['decode_head.convs.0.bn.running_mean']
        out['decode_head.convs.0.bn.running_mean'] = (mean.double() - bias.double()).to(
            mean.dtype)
    return conv


def convert_official_seg(state_dict, fold_bias=True):
    """:func:`official_seg`'s state dict (an ``OrderedDict``)."""
    return official_seg(state_dict, fold_bias).state_dict


def load_official_seg(filename, fold_bias=True):
    """Read an official checkpoint file and :func:`convert_official_seg` it."""
    return convert_official_seg(torch.load(filename, map_location='cpu', weights_only=True),
                                fold_bias=fold_bias)
