# Backbones and decode heads of the networks HRNetV2 replaced, at the papers' widths, as named
# pieces (no `model` key, like ../../../_base_/models/hrnet_backbones.py) that the task
# configs of this folder place in an EncoderDecoder:
#   _base_ = [TASK_CONFIG, '../_base_/models/baselines.py']  (or './_base_/models/...')
#   model = dict(backbone=dict(_delete_=True, **_base_.vgg16_unpool),
#                decode_head=dict(_delete_=True, **_base_.segnet_head, num_classes=19))
# The VGG16 networks (DeconvNet, SegNet, DeepLab v1, DilatedNet) are mmhrnet's
# (mmhrnet/seg/baselines); FCN, U-Net and DeepLab v3+ are mmseg's modules, configured as in
# mmseg's own _base_/models/{fcn_r50-d8,fcn_unet_s5-d16,deeplabv3plus_r50-d8}.py.
_bn = dict(type='BN', requires_grad=True)
_ce = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)

# DeconvNet / SegNet: VGG16 with BN, 2x2 poolings whose indices the decoder unpools with.
vgg16_unpool = dict(type='mmhrnet.VGG16Encoder', width=64, return_indices=True, norm_cfg=_bn)
deconvnet_head = dict(type='mmhrnet.DeconvNetHead', in_channels=None, fc_channels=4096,
                      dropout_ratio=-1, norm_cfg=_bn, align_corners=False, loss_decode=_ce)
segnet_head = dict(type='mmhrnet.SegNetHead', in_channels=None, dropout_ratio=-1,
                   norm_cfg=_bn, align_corners=False, loss_decode=_ce)
# DeepLab v1 LargeFOV: pool4 / pool5 3x3 stride 1, conv5 at dilation 2: output stride 8.
vgg16_deeplab = dict(type='mmhrnet.VGG16Encoder', width=64, pool_strides=(2, 2, 2, 1, 1),
                     pool_kernel=3, dilations=(1, 1, 1, 1, 2), norm_cfg=None)
largefov_head = dict(type='mmhrnet.LargeFOVHead', in_channels=None, channels=1024,
                     dilation=12, dropout_ratio=0.5, norm_cfg=None, align_corners=False,
                     loss_decode=_ce)
# DilatedNet: pool4 / pool5 removed, conv5 at dilation 2, fc6 at dilation 4: output stride 8.
vgg16_dilated = dict(type='mmhrnet.VGG16Encoder', width=64, pool_strides=(2, 2, 2, 0, 0),
                     dilations=(1, 1, 1, 1, 2), norm_cfg=None)
dilatednet_head = dict(type='mmhrnet.DilatedNetHead', in_channels=None, fc_channels=4096,
                       fc_dilation=4, context=True, dropout_ratio=0.5, norm_cfg=None,
                       align_corners=False, loss_decode=_ce)

# mmseg's FCN is the dilated-ResNet variant (ResNetV1c, strides 1/2/1/1 with dilations
# 1/1/2/4: output stride 8, FCNHead with two 3x3 convs), not the FCN-8s VGG16 skip net.
resnet_d8 = dict(type='ResNetV1c', depth=50, num_stages=4, out_indices=(0, 1, 2, 3),
                 dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=_bn, norm_eval=False,
                 style='pytorch', contract_dilation=True)
fcn_head = dict(type='FCNHead', in_channels=2048, in_index=3, channels=512, num_convs=2,
                concat_input=True, dropout_ratio=0.1, norm_cfg=_bn, align_corners=False,
                loss_decode=_ce)
# DeepLab v3+: ASPP (depthwise-separable, rates 12/24/36) + the 1/4 decoder on the same ResNet.
aspp_head = dict(type='DepthwiseSeparableASPPHead', in_channels=2048, in_index=3,
                 channels=512, dilations=(1, 12, 24, 36), c1_in_channels=256, c1_channels=48,
                 dropout_ratio=0.1, norm_cfg=_bn, align_corners=False, loss_decode=_ce)
# U-Net: mmseg's 5-stage UNet (output stride 1) + a one-conv FCNHead on its last decoder stage.
unet = dict(type='UNet', in_channels=3, base_channels=64, num_stages=5, strides=(1, 1, 1, 1, 1),
            enc_num_convs=(2, 2, 2, 2, 2), dec_num_convs=(2, 2, 2, 2),
            downsamples=(True, True, True, True), enc_dilations=(1, 1, 1, 1, 1),
            dec_dilations=(1, 1, 1, 1), with_cp=False, conv_cfg=None, norm_cfg=_bn,
            act_cfg=dict(type='ReLU'), upsample_cfg=dict(type='InterpConv'), norm_eval=False)
unet_head = dict(type='FCNHead', in_channels=64, in_index=4, channels=64, num_convs=1,
                 concat_input=False, dropout_ratio=0.1, norm_cfg=_bn, align_corners=False,
                 loss_decode=_ce)

# Median-frequency class balancing (Eigen & Fergus, ICCV 2015), SegNet's own recipe (TPAMI
# 2017, Sec. 3.2): weight of class c = median(freq) / freq(c), pixel frequencies of the 11
# synthetic part classes over 200 generated training images (background 84.1%, torso 6.7%,
# each limb 0.6-1.5%). For configs whose network needs it on the synthetic parsing task.
synthetic_parts_median_freq = [0.015, 1.13, 0.192, 1.87, 1.812, 2.067, 1.98, 1.0, 0.982, 0.911,
                               0.864]
