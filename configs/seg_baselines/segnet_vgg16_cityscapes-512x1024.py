"""SegNet (Badrinarayanan et al., TPAMI 2017) on Cityscapes. Paper width; see the base for weights.
"""
_base_ = ['./_base_/cityscapes-512x1024.py']
model = dict(
    backbone=dict(_base_.vgg16_unpool, norm_cfg=_base_.syncbn),
    decode_head=dict(_base_.segnet_head, num_classes=19, norm_cfg=_base_.syncbn))
