"""SegNet (Badrinarayanan et al., TPAMI 2017)
on Cityscapes (19 classes), mmseg's 80k-iteration 512x1024 recipe.

At the paper's width; trained from scratch unless ImageNet VGG16 weights are given with
``model.backbone.init_cfg`` (their keys must be mapped to ``VGG16Encoder``'s
``stages.<s>.<i>.conv``; no converter is shipped). No published number for this recipe.
"""
_base_ = ['./_base_/cityscapes-512x1024.py']
model = dict(
    backbone=dict(_base_.vgg16_unpool, norm_cfg=_base_.syncbn),
    decode_head=dict(_base_.segnet_head, num_classes=19, norm_cfg=_base_.syncbn))
