"""Mask R-CNN on HRNetV2p-W18, COCO, 2x schedule.

``mask_rcnn_hrnetv2p_w32_coco.py`` (mmdet's hrnet recipe) with HRNet-W18 and its ImageNet
weights and the 2x schedule.

Meant to reach: COCO val2017 box AP 39.8, mask AP 36.0 (mmdet 3.3.0 model zoo,
hrnet/metafile.yml, ``mask-rcnn_hrnetv2p-w18-2x_coco``).
"""
_base_ = ['./mask_rcnn_hrnetv2p_w32_coco.py']

model = dict(
    backbone=dict(arch='w18', init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w18')))

# 2x schedule, as mmdet's hrnet 2x configs: 24 epochs, steps at 16 and 22.
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[16, 22],
         gamma=0.1)
]
