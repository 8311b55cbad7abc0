"""DeconvNet on the coco_tiny person task (see the base), at the quarter width of
its synthetic parsing config."""
_base_ = ['./_base_/coco-tiny-person-320x240.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_unpool, width=16)),
    decode_head=dict(_delete_=True, **dict(_base_.deconvnet_head, fc_channels=1024,
                                           num_classes=2)))
