"""HRNetV2p's feature pyramid (HRFPN): the V2 concat, a 1x1 reduction, pooling to 5 levels.

Equal to mmdet's ``HRFPN`` under the same weights with the default options (tested in
``tests/test_det.py``), and different from it where mmdet's is silent: ``norm_cfg`` and
``act_cfg`` are applied (mmdet's stores ``norm_cfg`` and never uses it), the pooling type and
strides are explicit and checked, inputs of any size are upsampled to the exact 1/4 size, and
checkpoints of the official HRNet-Object-Detection repo load through a key hook.
"""
import re

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch.utils.checkpoint import checkpoint

from mmhrnet.models.v2 import check_upsample_mode, concat_branches
from mmhrnet.registry import MODELS

POOLINGS = {'avg': F.avg_pool2d, 'max': F.max_pool2d}
# Official HRNet-Object-Detection layout: ``reduction_conv = nn.Sequential(nn.Conv2d(1x1))``,
# ``fpn_conv = nn.ModuleList(nn.Conv2d(3x3) ...)``, all convs with a bias and no norm.
_OFFICIAL_KEYS = ((re.compile(r'^reduction_conv\.0\.(weight|bias)$'), r'reduction_conv.conv.\1'),
                  (re.compile(r'^fpn_conv\.(\d+)\.(weight|bias)$'), r'fpn_convs.\1.conv.\2'))


def _as_channel_list(in_channels):
    if (not isinstance(in_channels, (list, tuple)) or not in_channels
            or not all(isinstance(c, int) and c > 0 for c in in_channels)):
        raise ValueError(f'HRFPN in_channels = {in_channels!r}: expected a non-empty list of '
                         'positive ints, one per backbone branch')
    return list(in_channels)


@MODELS.register_module()
class HRFPN(BaseModule):
    """HRNetV2p pyramid: concat all branches at 1/4, reduce, pool to ``num_outs`` levels.

    ``inputs[i]`` (stride ``4 * 2**i`` in HRNet) is upsampled to the size of ``inputs[0]``;
    the concat (``sum(in_channels)`` channels) is reduced by a 1x1 conv to ``out_channels``;
    level ``k`` is that map pooled with kernel = stride = ``pool_strides[k]``, then a 3x3 conv.
    With HRNet's strides 4..32 the outputs have strides ``4 * pool_strides * stride``: 4, 8,
    16, 32 and 64 by default, as mmdet's RPN anchors (strides 4..64) expect. The neck declares
    them as ``strides`` beside ``out_channels``.

    Args:
        in_channels (list[int]): Channels of each input branch, highest resolution first. In
            ``mmhrnet.FasterRCNN`` / ``mmhrnet.MaskRCNN`` they are read from the backbone's
            ``out_channels`` when left out, and checked against it when given.
        out_channels (int): Channels of every pyramid level. Defaults to 256.
        num_outs (int): Number of levels. Defaults to 5.
        pooling_type (str): ``'avg'`` (HRNetV2p, default) or ``'max'``; case-insensitive
            (mmdet spells them ``'AVG'`` / ``'MAX'``).
        pool_strides (Sequence[int], optional): Kernel and stride of the pooling per level.
            Defaults to ``(1, 2, 4, ..., 2**(num_outs - 1))``.
        upsample_mode (str): Upsampling of the lower-resolution branches, ``'bilinear'``
            (mmdet, official) or ``'nearest'``. Defaults to ``'bilinear'``.
        align_corners (bool, optional): For bilinear upsampling. Defaults to False.
        conv_cfg (dict, optional): Conv config of the reduction and level convs.
        norm_cfg (dict, optional): Norm after each of those convs (their bias is then
            dropped). Defaults to None, no norm, as in mmdet and the official code.
        act_cfg (dict, optional): Activation after each of those convs. Defaults to None.
        stride (int): Stride of the 3x3 level convs (mmdet's ``stride``). Defaults to 1.
        with_cp (bool): Gradient checkpointing of the convs while training. Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to Caffe2Xavier on the convs, as mmdet.

    Example:
        >>> import torch
        >>> from mmhrnet.det import HRFPN
        >>> neck = HRFPN(in_channels=[18, 36, 72, 144], out_channels=64).eval()
        >>> feats = [torch.rand(1, c, 32 // 2**i, 48 // 2**i)
        ...          for i, c in enumerate([18, 36, 72, 144])]
        >>> for out in neck(feats):
        ...     print(tuple(out.shape))
        (1, 64, 32, 48)
        (1, 64, 16, 24)
        (1, 64, 8, 12)
        (1, 64, 4, 6)
        (1, 64, 2, 3)
        >>> neck.strides
        (4, 8, 16, 32, 64)
    """

    def __init__(self,
                 in_channels,
                 out_channels=256,
                 num_outs=5,
                 pooling_type='avg',
                 pool_strides=None,
                 upsample_mode='bilinear',
                 align_corners=False,
                 conv_cfg=None,
                 norm_cfg=None,
                 act_cfg=None,
                 stride=1,
                 with_cp=False,
                 init_cfg=dict(type='Caffe2Xavier', layer='Conv2d')):
        super().__init__(init_cfg)
        self.in_channels = _as_channel_list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(self.in_channels)
        self.num_outs = num_outs
        if str(pooling_type).lower() not in POOLINGS:
            raise ValueError(f"HRFPN pooling_type = {pooling_type!r}: expected 'avg' or 'max'")
        self.pooling_type = str(pooling_type).lower()
        if pool_strides is None:
            pool_strides = tuple(2**i for i in range(num_outs))
        self.pool_strides = tuple(pool_strides)
        if len(self.pool_strides) != num_outs or not all(
                isinstance(s, int) and s >= 1 for s in self.pool_strides):
            raise ValueError(f'HRFPN pool_strides = {pool_strides!r}: expected {num_outs} '
                             f'(num_outs) ints >= 1')
        self.upsample_mode = check_upsample_mode(upsample_mode, 'HRFPN')
        self.align_corners = align_corners if upsample_mode == 'bilinear' else None
        self.with_cp = with_cp
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        # What heads read, as the backbone declares its own: the first input is HRNet's 1/4.
        self.strides = tuple(4 * s * stride for s in self.pool_strides)

        layer_cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.reduction_conv = ConvModule(sum(self.in_channels), out_channels, 1, **layer_cfg)
        self.fpn_convs = nn.ModuleList(
            ConvModule(out_channels, out_channels, 3, stride=stride, padding=1, **layer_cfg)
            for _ in range(num_outs))

    def _run(self, module, x):
        if self.with_cp and x.requires_grad:
            return checkpoint(module, x, use_reentrant=False)
        return module(x)

    def forward(self, inputs):
        """Map ``len(in_channels)`` branch features to a tuple of ``num_outs`` levels."""
        if len(inputs) != self.num_ins:
            raise ValueError(f'HRFPN got {len(inputs)} input maps, expected {self.num_ins} '
                             f'(in_channels={self.in_channels})')
        out = self._run(self.reduction_conv, concat_branches(
            inputs, self.upsample_mode, self.align_corners, self.in_channels, 'HRFPN'))
        pool = POOLINGS[self.pooling_type]
        levels = [out if s == 1 else pool(out, kernel_size=s, stride=s)
                  for s in self.pool_strides]
        return tuple(self._run(conv, x) for conv, x in zip(self.fpn_convs, levels))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Rename the official repo's keys (``reduction_conv.0.*``, ``fpn_conv.i.*``) to ours
        (mmdet's: ``reduction_conv.conv.*``, ``fpn_convs.i.conv.*``)."""
        for key in [k for k in state_dict if k.startswith(prefix)]:
            local = key[len(prefix):]
            for pattern, repl in _OFFICIAL_KEYS:
                if pattern.match(local):
                    state_dict[prefix + pattern.sub(repl, local)] = state_dict.pop(key)
                    break
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
