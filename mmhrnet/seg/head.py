"""The HRNetV2 segmentation head: upsample all branches to the 1/4 one, concatenate (15C
channels), 1x1 conv + BN + ReLU, linear 1x1 classifier.

Loss (softmax cross-entropy by default), prediction and resizing come from mmseg's
``BaseDecodeHead``; the state-dict layout is mmseg's ``FCNHead`` with one conv
(``convs.0.conv.*``, ``convs.0.bn.*``, ``conv_seg.*``), so mmseg ``fcn_hr*`` checkpoints load
strictly. Official HRNet-Semantic-Segmentation checkpoints (``last_layer.{0,1,3}``) load after
:func:`mmhrnet.convert.convert_official_seg`
(``tools/misc/convert_weights.py --from official-seg``).
"""
import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmhrnet.models.v2 import check_upsample_mode, concat_branches
from mmhrnet.registry import MODELS


@MODELS.register_module()
class HRNetV2Head(BaseDecodeHead):
    """HRNetV2 representation head for semantic segmentation.

    Equal to mmseg's ``FCNHead(input_transform='resize_concat', kernel_size=1, num_convs=1,
    concat_input=False)`` as its ``fcn_hr*`` configs use it (``tests/test_seg.py``), with the
    concatenation's interpolation explicit and the backbone's channels as the default.

    Args:
        in_channels (Sequence[int]): Channels of the backbone outputs, highest resolution
            first (``HRNet.out_channels``). ``mmhrnet.CheckedEncoderDecoder`` fills them in
            from the backbone when left None, and otherwise checks them against it.
        channels (int, optional): Width of the 1x1 conv. Defaults to ``sum(in_channels)``
            (15C for HRNet-WC), as in the paper and both reference implementations.
        num_classes (int): Number of classes.
        in_index (Sequence[int]): Backbone outputs to concatenate. Defaults to all four.
        upsample_mode (str): Interpolation of the lower-resolution maps before the concat:
            ``'bilinear'`` (mmseg and the official code) or ``'nearest'``.
        align_corners (bool): ``align_corners`` of that interpolation and of the logits'
            resizing to the label size (bilinear only). mmseg: False; official code: from its
            config (``MODEL.ALIGN_CORNERS``). Defaults to False.
        kernel_size (int): Kernel of both convs of the head (official ``FINAL_CONV_KERNEL``).
            Defaults to 1.
        conv_bias (bool): Give the first conv a bias, as the official head does. The bias
            changes nothing the BN after it does not undo (a constant shift of the BN input:
            exact in training, and in evaluation once folded into ``running_mean``), so the
            default False keeps mmseg's layout and official checkpoints are folded on
            conversion. Defaults to False.
        dropout_ratio (float): Dropout before the classifier; neither reference uses one.
            Defaults to -1 (none).
        norm_cfg (dict): Norm of the first conv. Defaults to ``dict(type='BN')``
            (mmseg's configs: SyncBN for multi-GPU training).
        **kwargs: Further ``BaseDecodeHead`` arguments (``loss_decode``, ``ignore_index``,
            ``sampler``, ``threshold``, ``out_channels``, ``init_cfg``, ...).

    Example:
        >>> import torch
        >>> head = HRNetV2Head(in_channels=[18, 36, 72, 144], num_classes=19)
        >>> feats = [torch.rand(1, c, 64 // 2**i, 128 // 2**i)
        ...          for i, c in enumerate([18, 36, 72, 144])]
        >>> head(feats).shape
        torch.Size([1, 19, 64, 128])
    """

    def __init__(self,
                 in_channels,
                 channels=None,
                 *,
                 num_classes,
                 in_index=(0, 1, 2, 3),
                 upsample_mode='bilinear',
                 align_corners=False,
                 kernel_size=1,
                 conv_bias=False,
                 dropout_ratio=-1,
                 norm_cfg=dict(type='BN'),
                 **kwargs):
        if in_channels is None:
            raise ValueError('HRNetV2Head needs in_channels: build it inside '
                             'mmhrnet.CheckedEncoderDecoder (which reads them from the backbone) '
                             'or pass the backbone\'s out_channels')
        check_upsample_mode(upsample_mode, 'HRNetV2Head')
        in_channels, in_index = list(in_channels), list(in_index)
        if channels is None:
            channels = sum(in_channels)
        super().__init__(
            in_channels,
            channels,
            num_classes=num_classes,
            in_index=in_index,
            input_transform='resize_concat',
            dropout_ratio=dropout_ratio,
            norm_cfg=norm_cfg,
            align_corners=align_corners,
            **kwargs)
        self.branch_channels = tuple(in_channels)
        self.upsample_mode = upsample_mode
        self.kernel_size = kernel_size
        # One ConvModule in a Sequential: the key layout of mmseg's FCNHead (convs.0.*).
        self.convs = torch.nn.Sequential(
            ConvModule(
                self.in_channels,
                self.channels,
                kernel_size=kernel_size,
                padding=kernel_size // 2,
                bias=conv_bias,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg))
        # The official classifier shares FINAL_CONV_KERNEL with the first conv.
        if kernel_size != 1:
            self.conv_seg = torch.nn.Conv2d(
                self.channels, self.out_channels, kernel_size, padding=kernel_size // 2)

    def _transform_inputs(self, inputs):
        return concat_branches([inputs[i] for i in self.in_index], self.upsample_mode,
                               self.align_corners, self.branch_channels, 'HRNetV2Head')

    def forward(self, inputs):
        """Logits at the resolution of the first input (1/4 of the image).

        Args:
            inputs (Sequence[Tensor]): Backbone outputs, highest resolution first.

        Returns:
            Tensor: ``(N, num_classes, H/4, W/4)`` logits.
        """
        return self.cls_seg(self.convs(self._transform_inputs(inputs)))
