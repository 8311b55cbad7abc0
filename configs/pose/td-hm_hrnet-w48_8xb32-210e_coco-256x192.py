"""HRNet-W48 (HRNetV1) top-down heatmap pose estimation on COCO, 256x192.

mmpose's reference recipe ``td-hm_hrnet-w48_8xb32-210e_coco-256x192`` (batch 8x32, lr
auto-scaled from 512) on mmhrnet's HRNet; everything else as ``hrnet_w32_coco.py``.

Meant to reach: COCO val2017 keypoint AP 75.6 (mmpose 1.3.2 model zoo, hrnet_coco.yml, flip
test, person boxes of 56.4 AP); the HRNet paper reports 75.1.
"""
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-256x192.py',
    '../_base_/models/hrnet_backbones.py',
]

model = dict(
    type='mmhrnet.TopdownPoseEstimator',  # mmpose's; checks the head's in_channels
    backbone=dict(
        _base_.hrnet_v1,
        _delete_=True,
        arch='w48',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w48-8ef0771d.pth')),
    head=dict(in_channels=None))  # the backbone's out_channels (mmpose's base restates them)

# The reference data, read by mmpose's CocoDataset with clear errors for malformed files.
train_dataloader = dict(dataset=dict(type='mmhrnet.TopdownCocoDataset'))
val_dataloader = dict(dataset=dict(type='mmhrnet.TopdownCocoDataset'))
test_dataloader = val_dataloader
