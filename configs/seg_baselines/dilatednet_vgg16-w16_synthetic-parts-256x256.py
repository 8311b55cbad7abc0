"""DilatedNet (Yu & Koltun, ICLR 2016: VGG16 front-end + basic context module) on the
synthetic human parsing task.

Same data, crops (128x128), schedule and optimiser (AdamW, from scratch) as the HRNetV2
config it inherits; VGG16 and fc6 / fc7 at a quarter of their width (16..128, fc 1024), and BN
after every front-end conv (the paper fine-tunes ImageNet VGG16 without BN). The context
module keeps the paper's identity initialisation and no BN.
Paper size (width 64, fc 4096, 21 classes, no BN): 134.4M params.
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py', '_base_/models/baselines.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_dilated, width=16, norm_cfg=_base_._bn)),
    decode_head=dict(_delete_=True, **dict(_base_.dilatednet_head, fc_channels=1024,
                                           norm_cfg=_base_._bn, num_classes=11)))
