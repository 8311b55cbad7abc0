# Cityscapes for the networks of this folder, as mmseg trains its own Cityscapes models:
# 512x1024 crops, SGD 0.01 poly for 80k iterations, batch 8 (4 GPUs x 2), whole-image test.
# Data under data/cityscapes/ in mmseg's layout. Task configs add a backbone and head:
#   _base_ = ['./_base_/cityscapes-512x1024.py']
#   model = dict(backbone=_base_.vgg16_unpool, decode_head=dict(_base_.segnet_head, ...))
# The VGG16 networks are at the papers' widths and train from scratch unless ImageNet VGG16
# weights are given with `model.backbone.init_cfg` (their keys mapped to VGG16Encoder's
# `stages.<s>.<i>.conv`; no converter is shipped). No published number for this recipe.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    './models/baselines.py',
]
crop_size = (512, 1024)
syncbn = dict(type='SyncBN', requires_grad=True)  # mmseg's multi-GPU norm
model = dict(
    type='mmhrnet.CheckedEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255, size=crop_size),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
