"""HRNetV2-W48 + 15C head on Cityscapes, 512x1024 crops, 160k iterations (the entry point).

mmseg's reference recipe ``fcn_hr48_4xb2-160k_cityscapes-512x1024`` (its Cityscapes data,
pipelines and TTA; SGD 0.01, momentum 0.9, weight decay 5e-4, poly decay to 1e-4; batch 8 =
4 GPUs x 2; SyncBN; ImageNet-pretrained backbone; whole-image test at 1024x2048) on
``mmhrnet.HRNet`` and ``mmhrnet.HRNetV2Head``. Data: ``data/cityscapes/`` in mmseg's layout
(``leftImg8bit/{train,val}``, ``gtFine/{train,val}/*_labelTrainIds.png``).

Meant to reach: Cityscapes val mIoU 80.65, 81.92 with multi-scale + flip (``--tta``) (mmseg
1.2.2 model zoo, hrnet/metafile.yaml); the official HRNet-Semantic-Segmentation code reports
81.1 (batch 12, 484 epochs).
"""
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
    '../_base_/models/hrnet_backbones.py',
    '../_base_/models/hrnetv2_seg.py',
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.hrnet_v2,
        arch='w48',
        norm_cfg=_base_.norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w48')),
    decode_head=dict(num_classes=19))
