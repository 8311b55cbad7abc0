"""mmseg's U-Net on the coco_tiny person task (see the base), at the quarter width of
its synthetic parsing config."""
_base_ = ['./_base_/coco-tiny-person-320x240.py']
model = dict(
    # whole-image test: U-Net's four exact halvings need sides divisible by 16 (320x213 is not)
    data_preprocessor=dict(test_cfg=dict(size_divisor=32)),
    backbone=dict(_delete_=True, **dict(_base_.unet, base_channels=16)),
    decode_head=dict(_delete_=True, **dict(_base_.unet_head, in_channels=16, channels=16,
                                           num_classes=2)))
