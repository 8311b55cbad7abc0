"""Official HRNet-Semantic-Segmentation checkpoints to the mmseg layout of mmhrnet's model.

Official keys: the backbone at the top level (``conv1.weight``, ``stage4.2.fuse_layers...``;
the same names as mmseg's, see HRNET_FACTS section 3) and the head as
``last_layer.0`` (1x1 conv with bias), ``last_layer.1`` (BN), ``last_layer.3`` (classifier);
checkpoints saved by its training script wrap all of it in ``model.`` (its ``FullModel``) beside
``loss.*`` criterion buffers, sometimes under ``state_dict`` and a DataParallel ``module.``.
"""
from collections import OrderedDict

import torch

HEAD_KEYS = {
    'last_layer.0.': 'decode_head.convs.0.conv.',
    'last_layer.1.': 'decode_head.convs.0.bn.',
    'last_layer.3.': 'decode_head.conv_seg.',
}


def _strip(key):
    for prefix in ('module.', 'model.'):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


def convert_official_seg(state_dict, fold_bias=True):
    """Rename an official HRNetV2 segmentation state dict to mmhrnet's / mmseg's layout.

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
        OrderedDict: ``backbone.*`` and ``decode_head.*`` keys, loadable strictly into an
        EncoderDecoder with ``mmhrnet.HRNet`` and ``mmhrnet.HRNetV2Head``.

    Raises:
        KeyError: The state dict has no ``last_layer`` head or no backbone keys.
    """
    if 'state_dict' in state_dict and isinstance(state_dict['state_dict'], dict):
        state_dict = state_dict['state_dict']
    out = OrderedDict()
    for key, value in state_dict.items():
        key = _strip(key)
        if key.startswith('loss.'):  # the training criterion's class weights
            continue
        for old, new in HEAD_KEYS.items():
            if key.startswith(old):
                out[new + key[len(old):]] = value
                break
        else:
            out['backbone.' + key] = value
    if 'decode_head.conv_seg.weight' not in out:
        raise KeyError('not an official HRNet segmentation checkpoint: no last_layer.3.weight '
                       f'(keys start {list(state_dict)[:5]})')
    if 'backbone.conv1.weight' not in out:
        raise KeyError('not an official HRNet segmentation checkpoint: no conv1.weight')
    bias = out.get('decode_head.convs.0.conv.bias')
    if fold_bias and bias is not None:
        del out['decode_head.convs.0.conv.bias']
        mean = out['decode_head.convs.0.bn.running_mean']
        out['decode_head.convs.0.bn.running_mean'] = (mean.double() - bias.double()).to(
            mean.dtype)
    return out


def load_official_seg(filename, fold_bias=True):
    """Read an official checkpoint file and :func:`convert_official_seg` it."""
    return convert_official_seg(torch.load(filename, map_location='cpu', weights_only=True),
                                fold_bias=fold_bias)
