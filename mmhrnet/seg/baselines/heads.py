"""Decode heads of the networks HRNetV2 replaced, on :class:`VGG16Encoder` features.

Each is an mmseg ``BaseDecodeHead`` (loss, prediction, resizing to the label size are
mmseg's), usable in an ``EncoderDecoder``; param counts are given at the paper's width and
class count (``tests/test_seg_baselines.py`` builds them there).

- :class:`DeconvNetHead`: Noh, Hong & Han, "Learning Deconvolution Network for Semantic
  Segmentation", ICCV 2015. fc6 / fc7 as convs, a 7x7 deconvolution back, then the mirror of
  VGG16: per stage, unpooling with the encoder's switches and 3x3 deconvolutions + BN + ReLU.
  252M params with the encoder (21 classes).
- :class:`SegNetHead`: Badrinarayanan, Kendall & Cipolla, "SegNet: A Deep Convolutional
  Encoder-Decoder Architecture for Image Segmentation", TPAMI 2017. No fc layers; per stage,
  unpooling with the encoder's pooling indices and 3x3 convs + BN + ReLU, the last one giving
  the class scores. 29.5M params with the encoder.
- :class:`LargeFOVHead`: Chen et al., "Semantic Image Segmentation with Deep Convolutional
  Nets and Fully Connected CRFs", ICLR 2015 (DeepLab v1), the "DeepLab-LargeFOV" variant: fc6
  a 3x3 conv with 1024 channels at dilation 12, fc7 1x1 1024, on an encoder of output stride 8;
  scores upsampled bilinearly (by ``EncoderDecoder``). 20.5M params with the encoder. The
  fully connected CRF of the paper is post-processing and is not applied here: our numbers are
  those the paper labels "DeepLab-LargeFOV" (without "-CRF").
- :class:`DilatedNetHead`: Yu & Koltun, "Multi-Scale Context Aggregation by Dilated
  Convolutions", ICLR 2016. The front-end's fc6 (7x7, 4096, dilation 4), fc7 and class scores,
  then the basic context module: 3x3 convs C -> C at dilations 1, 1, 2, 4, 8, 16, 1 and a 1x1,
  identity-initialised as in the paper (64 C^2 weights).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmhrnet.registry import MODELS

from .vgg import VGG16_CONVS

CONTEXT_DILATIONS = (1, 1, 2, 4, 8, 16, 1)  # Yu & Koltun, Table 1 (then a 1x1 layer)


def _conv(in_channels, out_channels, kernel_size, norm_cfg, dilation=1, deconv=False):
    """A conv (or stride-1 deconv) + norm + ReLU keeping the spatial size."""
    return ConvModule(in_channels, out_channels, kernel_size,
                      padding=dilation * (kernel_size - 1) // 2, dilation=dilation,
                      conv_cfg=dict(type='deconv') if deconv else None, norm_cfg=norm_cfg)


class _UnpoolDecoderHead(BaseDecodeHead):
    """The mirror of :class:`VGG16Encoder` (``return_indices=True``): per stage, deepest
    first, max-unpooling with that stage's indices, then as many 3x3 layers as the encoder
    stage had, the last one narrowing to the next stage's width."""

    deconv = False

    def __init__(self, in_channels, *, num_classes, in_index=(0, 1, 2, 3, 4),
                 norm_cfg=dict(type='BN'), last_layer=True, **kwargs):
        if in_channels is None or len(in_channels) != 5:
            raise ValueError(f'{type(self).__name__} needs the 5 stage widths of '
                             f'VGG16Encoder(return_indices=True) as in_channels, got '
                             f'{in_channels}')
        super().__init__(in_channels, in_channels[0], num_classes=num_classes,
                         in_index=in_index, input_transform='multiple_select',
                         norm_cfg=norm_cfg, **kwargs)
        self.stage_layers = nn.ModuleList()
        for s in reversed(range(5)):
            c, n = in_channels[s], VGG16_CONVS[s]
            outs = [c] * (n - 1) + [in_channels[max(s - 1, 0)]]
            if s == 0 and not last_layer:
                outs = outs[:-1]  # SegNet: the stage's last conv is the classifier
            self.stage_layers.append(nn.Sequential(*[
                _conv(c, o, 3, norm_cfg, deconv=self.deconv) for o in outs]))

    def _decode(self, x, feats, indices):
        for layers, s in zip(self.stage_layers, reversed(range(5))):
            size = feats[s - 1].shape[-2:] if s else [2 * d for d in indices[0].shape[-2:]]
            size = [int(d) for d in size]  # ints under jit tracing too (FLOP counting)
            x = layers(F.max_unpool2d(x, indices[s], 2, 2, output_size=size))
        return x

    def _split(self, inputs):
        if len(inputs) != 10:
            raise ValueError(f'{type(self).__name__} needs the 5 features and 5 pooling '
                             f'indices of VGG16Encoder(return_indices=True), got '
                             f'{len(inputs)} inputs')
        return inputs[:5], inputs[5:]


@MODELS.register_module()
class SegNetHead(_UnpoolDecoderHead):
    """SegNet's decoder (see the module docstring): 13 convs mirroring VGG16, upsampling by
    the encoder's max-pooling indices; the last 3x3 conv gives the class scores.

    Args:
        in_channels (Sequence[int]): The encoder's 5 stage widths (read from
            ``VGG16Encoder.out_channels`` by ``mmhrnet.CheckedEncoderDecoder``).
        num_classes (int): Number of classes.
        norm_cfg (dict): Norm after each conv. Defaults to BN (as the paper).
        **kwargs: Further ``BaseDecodeHead`` arguments.

    Example:
        >>> import torch
        >>> from mmhrnet.seg.baselines import VGG16Encoder
        >>> enc = VGG16Encoder(width=8, return_indices=True)
        >>> head = SegNetHead(enc.out_channels, num_classes=11)
        >>> head(enc(torch.rand(1, 3, 64, 64))).shape
        torch.Size([1, 11, 64, 64])
    """

    def __init__(self, in_channels, *, num_classes, norm_cfg=dict(type='BN'), **kwargs):
        super().__init__(in_channels, num_classes=num_classes, norm_cfg=norm_cfg,
                         last_layer=False, **kwargs)
        self.conv_seg = nn.Conv2d(self.channels, self.out_channels, 3, padding=1)

    def forward(self, inputs):
        feats, indices = self._split(inputs)
        return self.cls_seg(self._decode(feats[-1], feats, indices))


@MODELS.register_module()
class DeconvNetHead(_UnpoolDecoderHead):
    """DeconvNet's decoder (see the module docstring).

    fc6 is a 7x7 conv and its mirror a 7x7 deconvolution, both with padding 3 so that any input
    size works (in the paper, at 224x224, fc6 maps the 7x7 pool5 to 1x1 and the deconvolution
    back to 7x7; the weights are the same).

    Args:
        in_channels (Sequence[int]): The encoder's 5 stage widths.
        num_classes (int): Number of classes.
        fc_channels (int | None): Width of fc6 / fc7 (4096 in the paper); None leaves out
            fc6 / fc7 and the 7x7 deconvolution (an ablation: the decoder unpools pool5
            directly). Defaults to 4096.
        norm_cfg (dict): Norm after each layer. Defaults to BN (as the paper).
        **kwargs: Further ``BaseDecodeHead`` arguments.

    Example:
        >>> import torch
        >>> from mmhrnet.seg.baselines import VGG16Encoder
        >>> enc = VGG16Encoder(width=8, return_indices=True)
        >>> head = DeconvNetHead(enc.out_channels, num_classes=11, fc_channels=64)
        >>> head(enc(torch.rand(1, 3, 64, 64))).shape
        torch.Size([1, 11, 64, 64])
    """

    deconv = True

    def __init__(self, in_channels, *, num_classes, fc_channels=4096,
                 norm_cfg=dict(type='BN'), **kwargs):
        super().__init__(in_channels, num_classes=num_classes, norm_cfg=norm_cfg, **kwargs)
        c5 = in_channels[-1]
        self.fc = nn.Identity() if fc_channels is None else nn.Sequential(
            _conv(c5, fc_channels, 7, norm_cfg), _conv(fc_channels, fc_channels, 1, norm_cfg),
            _conv(fc_channels, c5, 7, norm_cfg, deconv=True))

    def forward(self, inputs):
        feats, indices = self._split(inputs)
        return self.cls_seg(self._decode(self.fc(feats[-1]), feats, indices))


@MODELS.register_module()
class LargeFOVHead(BaseDecodeHead):
    """DeepLab v1 LargeFOV's fc6 (3x3, dilation 12) / fc7 (1x1) / fc8 scores, dropout 0.5
    after fc6 and fc7 (see the module docstring). No CRF.

    Args:
        in_channels (int): Width of the last encoder stage (512 in the paper).
        num_classes (int): Number of classes.
        channels (int): Width of fc6 / fc7. Defaults to 1024 (LargeFOV).
        dilation (int): Dilation of fc6 (the paper's "input stride" 12). Defaults to 12.
        norm_cfg (dict | None): Norm after fc6 / fc7 (none in the paper). Defaults to None.
        dropout_ratio (float): Dropout after fc6 and fc7. Defaults to 0.5.
        **kwargs: Further ``BaseDecodeHead`` arguments.

    Example:
        >>> import torch
        >>> head = LargeFOVHead(128, num_classes=11, channels=64)
        >>> head([torch.rand(1, 128, 16, 16)]).shape
        torch.Size([1, 11, 16, 16])
    """

    def __init__(self, in_channels, *, num_classes, channels=1024, dilation=12,
                 norm_cfg=None, dropout_ratio=0.5, **kwargs):
        super().__init__(in_channels, channels, num_classes=num_classes, norm_cfg=norm_cfg,
                         dropout_ratio=dropout_ratio, **kwargs)
        self.fc6 = _conv(in_channels, channels, 3, norm_cfg, dilation=dilation)
        self.drop6 = nn.Dropout2d(dropout_ratio)
        self.fc7 = _conv(channels, channels, 1, norm_cfg)

    def forward(self, inputs):
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.fc7(self.drop6(self.fc6(x))))  # cls_seg: dropout, fc8


@MODELS.register_module()
class DilatedNetHead(BaseDecodeHead):
    """DilatedNet's front-end top (fc6 7x7 at dilation 4, fc7, class scores) and the basic
    context module (see the module docstring); ``conv_seg`` is the module's final 1x1.

    Args:
        in_channels (int): Width of the last encoder stage (512 in the paper).
        num_classes (int): Number of classes C (the context module's width).
        fc_channels (int): Width of fc6 / fc7. Defaults to 4096 (the paper).
        fc_dilation (int): Dilation of fc6. Defaults to 4 (pool4 and pool5 removed).
        context (bool): Add the context module (the paper's "front end + basic" model);
            False gives the front-end alone. Defaults to True.
        norm_cfg (dict | None): Norm after fc6 / fc7 (none in the paper; the context module
            never has one). Defaults to None.
        dropout_ratio (float): Dropout after fc6 and fc7. Defaults to 0.5.
        **kwargs: Further ``BaseDecodeHead`` arguments.

    Example:
        >>> import torch
        >>> head = DilatedNetHead(128, num_classes=11, fc_channels=64)
        >>> logits = head([torch.rand(1, 128, 16, 16)])
        >>> logits.shape, len(head.context)  # one conv per dilation of the context module
        (torch.Size([1, 11, 16, 16]), 7)
    """

    def __init__(self, in_channels, *, num_classes, fc_channels=4096, fc_dilation=4,
                 context=True, norm_cfg=None, dropout_ratio=0.5, **kwargs):
        super().__init__(in_channels, num_classes, num_classes=num_classes, norm_cfg=norm_cfg,
                         dropout_ratio=-1, **kwargs)
        self.front = nn.Sequential(
            _conv(in_channels, fc_channels, 7, norm_cfg, dilation=fc_dilation),
            nn.Dropout2d(dropout_ratio), _conv(fc_channels, fc_channels, 1, norm_cfg),
            nn.Dropout2d(dropout_ratio), nn.Conv2d(fc_channels, num_classes, 1))
        self.context = nn.Sequential(*[
            _conv(num_classes, num_classes, 3, None, dilation=d) for d in CONTEXT_DILATIONS
        ]) if context else nn.Identity()
        self._identity_init()

    def _identity_init(self):
        """The paper's identity initialisation: the module starts by passing its input on
        (it reports that random initialisation does not train)."""
        convs = [m.conv for m in self.context if isinstance(m, ConvModule)] + [self.conv_seg]
        with torch.no_grad():
            for conv in convs:
                conv.weight.zero_()
                k = conv.kernel_size[0] // 2
                conv.weight[:, :, k, k] = torch.eye(conv.out_channels)
                conv.bias.zero_()

    def init_weights(self):
        super().init_weights()
        self._identity_init()

    def forward(self, inputs):
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.context(self.front(x)))
