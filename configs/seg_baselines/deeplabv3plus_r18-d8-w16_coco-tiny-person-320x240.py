"""mmseg's DeepLab v3+ (ResNetV1c-18-D8) on the coco_tiny person task (see the base),
at the quarter width of
its synthetic parsing config."""
_base_ = ['./_base_/coco-tiny-person-320x240.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.resnet_d8, depth=18, stem_channels=16,
                                        base_channels=16)),
    decode_head=dict(_delete_=True, **dict(_base_.aspp_head, in_channels=128, channels=32,
                                           c1_in_channels=16, c1_channels=12, num_classes=2)))
