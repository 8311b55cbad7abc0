"""VGG16 (configuration D of Simonyan & Zisserman, ICLR 2015) as the encoder of the
segmentation networks HRNetV2 replaced: DeconvNet, SegNet, DilatedNet and DeepLab v1.

One encoder, four papers: they differ in what happens to the last poolings (kept and their
indices reused by the decoder; stride 1; removed) and in the dilation of the convs after them,
which are arguments here.
"""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmhrnet.registry import MODELS

VGG16_CONVS = (2, 2, 3, 3, 3)  # 3x3 convs per stage (13 in all)
VGG16_WIDTHS = (1, 2, 4, 8, 8)  # stage widths in units of the first one (64 in the paper)


@MODELS.register_module()
class VGG16Encoder(BaseModule):
    """The 13 convolutions of VGG16 in five stages, each closed by an optional max pooling.

    Params at the paper's width (64): 14.71M with biases (``norm_cfg=None``), the
    "14.7M" of the VGG16 encoder in the SegNet paper (TPAMI 2017, Sec. 3).

    Args:
        width (int): Channels of the first stage (64 in VGG16); the stages have
            ``width * (1, 2, 4, 8, 8)``. Defaults to 64.
        in_channels (int): Image channels. Defaults to 3.
        pool_strides (Sequence[int]): Per stage, the stride of the max pooling after it: 2
            (VGG16; 2x2 windows, or 3x3 with ``pool_kernel=3`` as DeepLab's Caffe model), 1
            (DeepLab v1's pool4 / pool5: 3x3 window, stride 1, resolution kept) or 0 (no pooling:
            DilatedNet's front-end removes pool4 and pool5). Defaults to ``(2,) * 5``.
        pool_kernel (int): Window of the stride-2 poolings: 2 (VGG16, SegNet, DeconvNet) or 3
            (padding 1, DeepLab). Defaults to 2.
        dilations (Sequence[int]): Dilation of each stage's convs (DeepLab v1 and DilatedNet:
            2 in stage 5, after the removed stride). Defaults to ``(1,) * 5``.
        return_indices (bool): Also return the argmax indices of the (stride-2, 2x2) poolings,
            which SegNet and DeconvNet decoders unpool with. Defaults to False.
        norm_cfg (dict | None): Norm after each conv (SegNet, DeconvNet: BN; VGG16, DeepLab,
            DilatedNet: none, with conv biases). Defaults to ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine initialisation.

    Returns (forward):
        tuple[Tensor]: The five stage outputs after their pooling (``out_channels``,
        ``strides``), followed with ``return_indices`` by the five pooling indices.

    Example:
        >>> import torch
        >>> enc = VGG16Encoder(width=16)
        >>> [tuple(o.shape) for o in enc(torch.rand(1, 3, 64, 64))]
        [(1, 16, 32, 32), (1, 32, 16, 16), (1, 64, 8, 8), (1, 128, 4, 4), (1, 128, 2, 2)]
    """

    def __init__(self,
                 width=64,
                 in_channels=3,
                 pool_strides=(2, 2, 2, 2, 2),
                 pool_kernel=2,
                 dilations=(1, 1, 1, 1, 1),
                 return_indices=False,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(pool_strides) != 5 or len(dilations) != 5:
            raise ValueError(f'VGG16Encoder has 5 stages: got pool_strides {pool_strides}, '
                             f'dilations {dilations}')
        if any(s not in (0, 1, 2) for s in pool_strides) or pool_kernel not in (2, 3):
            raise ValueError(f'pool_strides must be 0, 1 or 2 and pool_kernel 2 or 3, got '
                             f'{pool_strides}, {pool_kernel}')
        if return_indices and (pool_kernel != 2 or any(s != 2 for s in pool_strides)):
            raise ValueError('return_indices needs the 2x2 stride-2 poolings of VGG16 in every '
                             f'stage (got pool_strides {pool_strides}, pool_kernel {pool_kernel})')
        self.return_indices = return_indices
        self.out_channels = tuple(width * m for m in VGG16_WIDTHS)
        strides, stride = [], 1
        self.stages, self.pools = nn.ModuleList(), nn.ModuleList()
        for n, c, s, d in zip(VGG16_CONVS, self.out_channels, pool_strides, dilations):
            self.stages.append(nn.Sequential(*[
                ConvModule(in_channels if i == 0 else c, c, 3, padding=d, dilation=d,
                           norm_cfg=norm_cfg) for i in range(n)]))
            in_channels = c
            if s == 2 and pool_kernel == 2:
                self.pools.append(nn.MaxPool2d(2, 2, return_indices=return_indices))
            elif s:
                self.pools.append(nn.MaxPool2d(3, s, padding=1))
            else:
                self.pools.append(nn.Identity())
            stride *= max(s, 1)
            strides.append(stride)
        self.strides = tuple(strides)

    def forward(self, x):
        outs, indices = [], []
        for stage, pool in zip(self.stages, self.pools):
            x = pool(stage(x))
            if self.return_indices:
                x, idx = x
                indices.append(idx)
            outs.append(x)
        return tuple(outs + indices)
