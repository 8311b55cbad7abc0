"""DeepLab v1 LargeFOV (Chen et al., ICLR 2015), without its CRF, on the synthetic human
parsing task.

Same data, crops (128x128), schedule and optimiser (AdamW, from scratch) as the HRNetV2
config it inherits; VGG16 and fc6 / fc7 at a quarter of their width (16..128, fc 256), and BN
after every conv (the paper fine-tunes ImageNet VGG16 without BN; from scratch it is needed).
Paper size (width 64, fc 1024, 21 classes, no BN): 20.5M params.
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py', '_base_/models/baselines.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_deeplab, width=16, norm_cfg=_base_._bn)),
    decode_head=dict(_delete_=True, **dict(_base_.largefov_head, channels=256,
                                           norm_cfg=_base_._bn, num_classes=11)))
