"""mmseg's DeepLab v3+ (dilated ResNetV1c-18, ASPP + 1/4 decoder) on the synthetic human
parsing task.

Same data, crops (128x128), schedule and optimiser (AdamW, from scratch) as the HRNetV2
config it inherits; ResNet-18 and the head at a quarter of mmseg's deeplabv3plus_r18-d8 widths
(ASPP 32, low-level 12 channels as there), no auxiliary head (HRNetV2 has none).
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py', '_base_/models/baselines.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.resnet_d8, depth=18, stem_channels=16,
                                        base_channels=16)),
    decode_head=dict(_delete_=True, **dict(_base_.aspp_head, in_channels=128, channels=32,
                                           c1_in_channels=16, c1_channels=12,
                                           num_classes=11)))
