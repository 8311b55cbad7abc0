"""mmseg's FCN (dilated ResNetV1c-18, output stride 8, FCNHead: the ResNet variant, not the
VGG16 FCN-8s) on the synthetic human parsing task.

Same data, crops (128x128), schedule and optimiser (AdamW, from scratch) as the HRNetV2
config it inherits; ResNet-18 at a quarter of its width (16/32/64/128, as mmseg's fcn_r18-d8
head widths / 4), no auxiliary head (HRNetV2 has none).
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py', '_base_/models/baselines.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.resnet_d8, depth=18, stem_channels=16,
                                        base_channels=16)),
    decode_head=dict(_delete_=True, **dict(_base_.fcn_head, in_channels=128, channels=32,
                                           num_classes=11)))
