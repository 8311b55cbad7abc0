"""DilatedNet on the coco_tiny person task (see the base), at the quarter width of
its synthetic parsing config."""
_base_ = ['./_base_/coco-tiny-person-320x240.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_dilated, width=16, norm_cfg=_base_.bn)),
    decode_head=dict(_delete_=True, **dict(_base_.dilatednet_head, fc_channels=1024,
                                           norm_cfg=_base_.bn, num_classes=2)))
