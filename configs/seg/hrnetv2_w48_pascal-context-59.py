"""HRNetV2-W48 + 15C head on PASCAL-Context, 59 classes, 480x480 crops, 80k iterations.

mmseg's reference recipe ``fcn_hr48_4xb4-80k_pascal-context-59-480x480`` (its data and TTA;
SGD 0.004, weight decay 1e-4, poly; batch 16 = 4 GPUs x 4; sliding-window test, 480x480
windows at stride 320) on ``mmhrnet.HRNet`` and ``mmhrnet.HRNetV2Head``. Data:
``data/VOCdevkit/VOC2010/`` in mmseg's layout (``JPEGImages``, ``SegmentationClassContext``,
``ImageSets/SegmentationContext/{train,val}.txt``).

Meant to reach: PASCAL-Context-59 val mIoU 51.12, 53.56 with multi-scale + flip (``--tta``)
(mmseg 1.2.2 model zoo); the official code reports 54.1 (multi-scale + flip, 59 classes).
"""
_base_ = [
    'mmseg::_base_/datasets/pascal_context_59.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    '../_base_/models/hrnet_backbones.py',
    '../_base_/models/hrnetv2_seg.py',
]
crop_size = (480, 480)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.hrnet_v2,
        arch='w48',
        norm_cfg=_base_.norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w48')),
    decode_head=dict(num_classes=59),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(320, 320)))
optim_wrapper = dict(optimizer=dict(lr=0.004, weight_decay=0.0001))
