"""Faster R-CNN on HRNetV2p-W40, COCO, 1x schedule.

``faster_rcnn_hrnetv2p_w32_coco.py`` (mmdet's hrnet recipe) with HRNet-W40 and its ImageNet
weights.

Meant to reach: COCO val2017 box AP 41.2 (mmdet 3.3.0 model zoo, hrnet/metafile.yml,
``faster-rcnn_hrnetv2p-w40-1x_coco``).
"""
_base_ = ['./faster_rcnn_hrnetv2p_w32_coco.py']

model = dict(
    backbone=dict(arch='w40', init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w40')))
