"""Mask R-CNN on HRNetV2p-W18, COCO, 2x schedule.

``mask-rcnn_hrnetv2p-w32-2x_coco.py`` (mmdet's hrnet recipe, 2x schedule) with HRNet-W18
and its ImageNet weights.

Meant to reach: COCO val2017 box AP 39.8, mask AP 36.0 (mmdet 3.3.0 model zoo,
hrnet/metafile.yml, ``mask-rcnn_hrnetv2p-w18-2x_coco``).
"""
_base_ = ['./mask-rcnn_hrnetv2p-w32-2x_coco.py']

model = dict(
    backbone=dict(arch='w18', init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w18')))
