"""HRNet-W48 (HRNetV1) top-down heatmap pose estimation on COCO, 384x288.

mmpose's reference recipe ``td-hm_hrnet-w48_8xb32-210e_coco-384x288`` (codec 288x384 -> 72x96,
sigma 3, batch 8x32) on mmhrnet's HRNet; everything else as ``hrnet_w32_coco.py``.

Meant to reach: COCO val2017 keypoint AP 76.7 (mmpose 1.3.2 model zoo, hrnet_coco.yml, flip
test, person boxes of 56.4 AP); the HRNet paper reports 76.3, and 75.5 on COCO test-dev.
"""
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-384x288.py',
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
