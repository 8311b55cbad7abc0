"""mmseg's U-Net (5 stages, output stride 1, one-conv FCNHead) on the synthetic human parsing
task.

Same data, crops (128x128), schedule and optimiser (AdamW, from scratch) as the HRNetV2
config it inherits; base width 16 instead of 64 (a quarter, as for every network here), no
auxiliary head (HRNetV2 has none), whole-image testing as the others (256x256 images are
divisible by U-Net's 16), and SegNet's median-frequency class-weighted loss: with plain CE it
plateaus at its own schedule with all four arm classes at 0.0 IoU (docs/seg_baselines.md).
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py', '_base_/models/baselines.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.unet, base_channels=16)),
    decode_head=dict(_delete_=True, **dict(
        _base_.unet_head, in_channels=16, channels=16, num_classes=11,
        loss_decode=dict(_base_._ce, class_weight=_base_.synthetic_parts_median_freq))))
