"""DeepLab v1 LargeFOV on the coco_tiny person task (see the base), at the quarter width of
its synthetic parsing config."""
_base_ = ['./_base_/coco-tiny-person-320x240.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_deeplab, width=16, norm_cfg=_base_.bn)),
    decode_head=dict(_delete_=True, **dict(_base_.largefov_head, channels=256,
                                           norm_cfg=_base_.bn, num_classes=2)))
