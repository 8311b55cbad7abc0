"""Faster R-CNN on HRNetV2p-W18, COCO, 1x schedule.

``faster_rcnn_hrnetv2p_w32_coco.py`` (mmdet's hrnet recipe) with HRNet-W18 and its ImageNet
weights.

Meant to reach: COCO val2017 box AP 36.9 (mmdet 3.3.0 model zoo, hrnet/metafile.yml,
``faster-rcnn_hrnetv2p-w18-1x_coco``).
"""
_base_ = ['./faster_rcnn_hrnetv2p_w32_coco.py']

model = dict(
    backbone=dict(arch='w18', init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w18')))
