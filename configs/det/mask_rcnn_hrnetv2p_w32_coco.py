"""Mask R-CNN on HRNetV2p-W32 (HRNet-W32 + the HRFPN pyramid), COCO, 1x schedule.

mmdet's reference recipe ``hrnet/mask-rcnn_hrnetv2p-w32-1x_coco`` (Mask R-CNN: RPN anchors at
strides 4..64, shared 2-fc box head, 4-conv 28x28 mask head; 1333x800 resize, flip; SGD 0.02
for batch 8x2, 12 epochs, steps at 8/11; ImageNet HRNet-W32 weights with frozen BN
statistics) on mmhrnet's HRNet and HRFPN. The detector is mmdet's ``MaskRCNN``;
``mmhrnet.MaskRCNN`` only reads the neck's input channels from the backbone.

Meant to reach: COCO val2017 box AP 41.2, mask AP 37.1 (mmdet 3.3.0 model zoo,
hrnet/metafile.yml).
"""
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/models/hrnet_backbones.py',
]

model = dict(
    type='mmhrnet.MaskRCNN',  # mmdet's MaskRCNN; the neck's in_channels come from the backbone
    backbone=dict(
        _base_.hrnet_v2p,
        _delete_=True,
        arch='w32',
        init_cfg=dict(  # ImageNet weights, as in the reference recipe
            type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w32')),
    neck=dict(_delete_=True, type='mmhrnet.HRFPN', out_channels=256))
