"""Mask R-CNN on HRNetV2p (W18-Small-v1) for person boxes and masks of the synthetic people.

The embedded detection task: trains from scratch on data the project generates itself
(``python tools/misc/make_synthetic_people.py --out data/synthetic_people``: 1000 train /
200 val images of 1-4 people, modal boxes and polygon masks) on a 2-core CPU. The recipe is
``mask_rcnn_hrnetv2p_w32_coco.py`` (mmdet's Mask R-CNN on mmhrnet's HRNet + HRFPN), scaled
down where noted; evaluation is mmdet's CocoMetric (bbox and segm) on the 200 val images.

Reaches: box AP 0.278 (AP50 0.695) and mask AP 0.009 (AP50 0.073) on the 200 val images
after 6 epochs, 23.4 minutes of training and validation on this project's 2-core CPU (our run,
``python tools/train.py`` this config; epoch 3: box 0.160). An earlier run on one shared core
took 42.5 minutes to box 0.281 / mask 0.008. The boxes are learnt; the masks are not: the
figures' limbs are 1-8 px wide at this 128 px scale (forearms 1-6), one or two cells of the
stride-4 features the mask RoIs are cut from, and the light mask head from scratch needs far
longer.
No ``mmhrnet.ChannelsLastHook`` here: mmcv's RoIAlign reads NCHW memory only.
"""
_base_ = ['./mask_rcnn_hrnetv2p_w32_coco.py']

data_root = 'data/synthetic_people/'
metainfo = dict(classes=('person', ), palette=[(220, 20, 60)])
scale = (128, 128)  # the 256x256 images at half size: people stay 20-110 px, the CPU keeps up
width = 128  # pyramid and head channels halved from 256: a one-class task on a CPU

model = dict(
    backbone=dict(
        arch='w18_small_v1',
        norm_eval=False,  # from scratch: no ImageNet BN statistics to keep frozen
        init_cfg=None),  # Kaiming init, no download
    neck=dict(
        out_channels=width,
        norm_cfg=dict(type='BN')),  # from scratch: a normalised pyramid trains stably
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=256, num_classes=1),
        mask_roi_extractor=dict(out_channels=width),
        # 2 convs of 64 instead of 4 of 256: the mask head costs most on a CPU
        mask_head=dict(in_channels=width, num_convs=2, conv_out_channels=64, num_classes=1)),
    # fewer proposals and samples: at most 4 people per image
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=200),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(max_per_img=20)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,  # two cores: one loads, both compute
    dataset=dict(
        type='mmhrnet.CheckedCocoDataset',  # malformed files: one error naming file and item
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        type='mmhrnet.CheckedCocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/person_keypoints_val.json',
        data_prefix=dict(img='val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

# AdamW with cosine decay instead of SGD 0.02 steps: from scratch, 6 short epochs.
max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=3)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True,
         begin=0, end=max_epochs)
]
auto_scale_lr = dict(enable=False)
default_hooks = dict(
    logger=dict(interval=25),
    # Atomic saves (a kill never loses a checkpoint), plus one every 200 steps to resume from.
    checkpoint=dict(type='mmhrnet.SafeCheckpointHook', interval=3, iter_interval=200,
                    save_best='coco/bbox_mAP', rule='greater', max_keep_ckpts=1))
custom_hooks = [dict(type='mmhrnet.ExactResumeHook')]  # --resume continues the random streams
