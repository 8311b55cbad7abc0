"""DeepLab v1 LargeFOV (Chen et al., ICLR 2015), without the CRF, on Cityscapes.
Paper width; see the base for weights.
"""
_base_ = ['./_base_/cityscapes-512x1024.py']
model = dict(
    backbone=dict(_base_.vgg16_deeplab),
    decode_head=dict(_base_.largefov_head, num_classes=19))
