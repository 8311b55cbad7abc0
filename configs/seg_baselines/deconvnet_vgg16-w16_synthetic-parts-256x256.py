"""DeconvNet (Noh et al., ICCV 2015) on the synthetic human parsing task.

Same data, crops (128x128), schedule and optimiser (AdamW, from scratch) as the HRNetV2
config it inherits, with a median-frequency class-weighted loss (below);
VGG16 and fc6 / fc7 at a quarter of their width (16..128, fc 1024).
Paper size (width 64, fc 4096, 21 classes): 251.8M params.
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py', '_base_/models/baselines.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_unpool, width=16)),
    decode_head=dict(_delete_=True, **dict(
        _base_.deconvnet_head, fc_channels=1024, num_classes=11,
        # SegNet's median-frequency balancing (same unpooling decoder, same failure with plain
        # CE on one batch: compare_seg.py --overfit; docs/seg_baselines.md).
        loss_decode=dict(_base_._ce, class_weight=_base_.synthetic_parts_median_freq))))
