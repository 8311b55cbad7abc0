"""SegNet (Badrinarayanan et al., TPAMI 2017) on the synthetic human parsing task.

Same data, crops (128x128), schedule and optimiser (AdamW, from scratch) as the HRNetV2
config it inherits, with a median-frequency class-weighted loss (below);
VGG16 at a quarter of its width (16/32/64/128/128, as HRNetV2-W18-Small-v1's
16/32/64/128 branches) so that all networks of the comparison train on a 2-core CPU.
Paper size (width 64, 12 classes): 29.4M params.
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py', '_base_/models/baselines.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_unpool, width=16)),
    decode_head=dict(_delete_=True, **dict(
        _base_.segnet_head, num_classes=11,
        # Median-frequency balancing, the paper's recipe: with plain CE it fits background and
        # torso only, even on one batch (compare_seg.py --overfit; docs/seg_baselines.md).
        loss_decode=dict(_base_._ce, class_weight=_base_.synthetic_parts_median_freq))))
