"""Official HRNet-Object-Detection checkpoints (mmdetection v1 layout) to mmdet 3's layout.

The official repo is built on mmdetection v1: backbone keys as everywhere (``backbone.*``),
HRFPN as ``neck.reduction_conv.0.*`` / ``neck.fpn_conv.{i}.*`` (plain convs with a bias), the
RoI heads at the top level (``bbox_head.*``, ``mask_head.*``) and the background as class 0 of
``fc_cls`` / ``fc_reg`` / ``conv_logits``. mmdet >= 2 nests RoI heads in ``roi_head.``, puts the
background last in ``fc_cls`` and has no background rows in ``fc_reg`` and ``conv_logits``
(what mmdet's ``tools/model_converters/upgrade_model_version.py`` does; its RPN of one sigmoid
score per anchor is unchanged).
"""
import torch

from .core import rename, require, unwrap

ROI_HEADS = ('bbox_head', 'mask_head', 'semantic_head', 'grid_head', 'mask_iou_head')
RULES = [
    (r'^neck\.reduction_conv\.0\.(weight|bias)$', r'neck.reduction_conv.conv.\1', ''),
    (r'^neck\.fpn_conv\.(\d+)\.(weight|bias)$', r'neck.fpn_convs.\1.conv.\2', ''),
    (rf"^((?:{'|'.join(ROI_HEADS)})\..*)$", r'roi_head.\1', ''),
]


def _background_last(value, num_classes):
    """Move class 0 (background) of a classifier's rows to the end."""
    return torch.cat((value[1:], value[:1]), 0) if value.shape[0] == num_classes else value


def _without_background(value, num_classes):
    """Drop the background rows of per-class outputs (``num_classes`` groups of rows)."""
    rows = value.shape[0]
    if rows % num_classes or rows == 0:
        return value  # class-agnostic
    per = rows // num_classes
    return value.reshape(num_classes, per, *value.shape[1:])[1:].reshape(-1, *value.shape[1:])


def official_det(state_dict):
    """Convert an official HRNet detection state dict (Faster / Mask R-CNN + HRFPN).

    Returns:
        Conversion: keys of mmdet 3's two-stage detectors, loadable strictly into
        ``mmhrnet.FasterRCNN`` / ``mmhrnet.MaskRCNN`` with ``mmhrnet.HRFPN``.

    Raises:
        KeyError: The state dict has no ``backbone.conv1.weight`` or no HRFPN.
    """
    conv = rename(unwrap(state_dict), RULES, 'official-det', default=r'\1')
    require(conv, ['backbone.conv1.weight', 'neck.reduction_conv.conv.weight'],
            'an official HRNet detection checkpoint (backbone + HRFPN)')
    out = conv.state_dict
    cls = out.get('roi_head.bbox_head.fc_cls.weight')
    if cls is not None:
        n = cls.shape[0]  # classes + background
        for key in list(out):
            name = key.rsplit('.', 2)[-2]
            if key.startswith('roi_head.bbox_head.') and name == 'fc_cls':
                out[key] = _background_last(out[key], n)
            elif key.startswith('roi_head.') and name in ('fc_reg', 'conv_logits'):
                out[key] = _without_background(out[key], n)
    return conv
