"""One HRNet-W32 pass for person boxes + masks, person / background segmentation and keypoints
on COCO person annotations, for users with the data and 8 GPUs.

The detection recipe (``configs/det/mask_rcnn_hrnetv2p_w32_coco.py``: mmdet's Mask R-CNN on
HRNetV2p-W32, 1333x800, flip, SGD 0.02 for batch 8x2, 12 epochs, ImageNet weights with frozen
BN statistics) with the multi-task heads: the 15C head on the four branches for person /
background (COCO has no part maps: the instance polygons are drawn into one map, crowds
ignored), and the top-down keypoint codec of ``configs/pose/hrnet_w32_coco.py`` (192x256 crops,
48x64 heatmaps, sigma 2) on RoIs of the 1/4 branch with the V1 1x1 head, so an mmpose W32
top-down checkpoint's head and backbone load (``mmhrnet.multitask.load_single_task``). COCO
people without keypoints (``num_keypoints == 0``) train the detector and the segmentation
only. No published number exists for this model; the single-task ones are box 41.2 / mask
37.1 (Mask R-CNN HRNetV2p-W32 1x) and keypoint AP 74.6 (W32 256x192, 210 epochs, detector
boxes), which a 12-epoch joint schedule is not expected to match for keypoints (their recipe
trains 17x longer); lengthen with ``--cfg-options train_cfg.max_epochs=...`` and the
scheduler's milestones.

Data: ``data/coco/annotations/person_keypoints_{train,val}2017.json``, ``train2017/``,
``val2017/``.
"""
_base_ = ['../det/mask_rcnn_hrnetv2p_w32_coco.py', './_base_/hrnet_multitask.py']

data_root = 'data/coco/'
metainfo = dict(classes=('person', ), palette=[(220, 20, 60)])
model = dict(
    _base_.hrnet_multitask,
    roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)),
    parse_head=dict(
        _base_.hrnet_multitask.parse_head,
        num_classes=2,
        norm_cfg=dict(type='SyncBN', requires_grad=True)))  # as mmseg's HRNet configs

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadPeopleAnnotations', with_bbox=True, with_mask=True, with_seg=True,
         seg_from_masks=True),
    dict(type='mmhrnet.ResizePeople', scale=(1333, 800), keep_ratio=True),
    dict(type='mmhrnet.RandomFlipPeople', prob=0.5, swap_seg_labels=()),
    dict(type='mmhrnet.PackPeopleInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.ResizePeople', scale=(1333, 800), keep_ratio=True),
    dict(type='mmhrnet.LoadPeopleAnnotations', with_bbox=True, with_mask=True, with_seg=True,
         seg_from_masks=True),
    dict(type='mmhrnet.PackPeopleInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
dataset = dict(type='mmhrnet.PeopleDataset', data_root=data_root, metainfo=metainfo)
train_dataloader = dict(
    dataset=dict(
        dataset,
        _delete_=True,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        dataset,
        _delete_=True,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.multitask_metric, _delete_=True,
                     ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
