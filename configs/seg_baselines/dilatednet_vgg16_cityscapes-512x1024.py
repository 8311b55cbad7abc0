"""DilatedNet (Yu & Koltun, ICLR 2016: front-end + basic context module) on Cityscapes.
Paper width; see the base for weights.
"""
_base_ = ['./_base_/cityscapes-512x1024.py']
model = dict(
    backbone=dict(_base_.vgg16_dilated),
    decode_head=dict(_base_.dilatednet_head, num_classes=19))
