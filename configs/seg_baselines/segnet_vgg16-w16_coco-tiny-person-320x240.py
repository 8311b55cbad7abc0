"""SegNet on the coco_tiny person task (see the base), at the quarter width of
its synthetic parsing config."""
_base_ = ['./_base_/coco-tiny-person-320x240.py']
model = dict(
    backbone=dict(_delete_=True, **dict(_base_.vgg16_unpool, width=16)),
    decode_head=dict(_delete_=True, **dict(_base_.segnet_head, num_classes=2)))
