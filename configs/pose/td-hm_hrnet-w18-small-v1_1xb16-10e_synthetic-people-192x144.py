"""HRNetV1 (W18-Small-v1) top-down heatmap pose on the project's synthetic people, 192x144.

The embedded default: runs out of the box on data the project generates itself
(``python tools/misc/make_synthetic_people.py --out data/synthetic_people``) and trains on
a 2-core CPU in about 9 minutes. The recipe is the COCO one (``hrnet_w32_coco.py``: MSRA
heatmaps, 1x1 head, KeypointMSELoss with target weights, Adam, flip test, detector boxes,
CocoMetric with OKS-NMS and rescoring), scaled down where noted.

Reaches: keypoint AP 0.735-0.759 (three runs) on the 200 held-out images (detector boxes, flip
test, DARK decoding) after 10 epochs, 8.7 minutes of training and validation on 2 cores of an
Intel Xeon (AVX-512, 0.33 s per step of 16 crops). AP by epoch 2/4/6/8/10 of the best run:
0.458, 0.634, 0.711, 0.747, 0.759 (``python tools/train.py`` on this config); the
quickstart's runs ended at 0.738 and 0.735. Resolution is what limits this data's AP,
not the schedule (AP averages OKS 0.50-0.95, where eyes need 2-3 px): at 128x96 the same
recipe gave 0.572 after 8 epochs and 0.562 after 20; W18-Small-v2 at 128x96, 0.619 after 8.
"""
_base_ = ['mmpose::_base_/default_runtime.py', '../_base_/models/hrnet_backbones.py']

train_cfg = dict(max_epochs=10, val_interval=2)
# 16x the reference lr (5e-4 at batch 8x64): a short schedule from scratch. 100 warm-up steps,
# cosine decay. AP after 8 epochs by lr at 128x96 (one run each): 4e-3 0.569, 8e-3 0.596,
# 1.6e-2 0.565.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=8e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', T_max=10, eta_min=1e-5, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=20),
    # Atomic saves (a kill never loses a checkpoint), plus one every 100 steps to resume from.
    checkpoint=dict(type='mmhrnet.SafeCheckpointHook', interval=2, iter_interval=100,
                    save_best='coco/AP', rule='greater', max_keep_ckpts=1))
# NHWC weights: oneDNN's CPU convolutions run faster (0.33 vs 0.38 s per step of 16 here).
# ExactResumeHook: --resume continues with the random streams and data order of the run.
custom_hooks = [dict(type='SyncBuffersHook'), dict(type='mmhrnet.ChannelsLastHook'),
                dict(type='mmhrnet.ExactResumeHook')]

# 3/4 of the reference resolution (heatmap 36x48), the reference sigma: AP 0.716 vs 0.572 at
# 128x96 (heatmap 24x32, sigma 1.5) after 8 epochs, for 0.33 vs 0.17 s per step.
codec = dict(type='MSRAHeatmap', input_size=(144, 192), heatmap_size=(36, 48), sigma=2)

model = dict(
    type='mmhrnet.TopdownPoseEstimator',  # mmpose's; the head's in_channels from the backbone
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        _base_.hrnet_v1,
        arch='w18_small_v1',
        # From scratch with Kaiming init (the measured runs); mmpose's Normal(std=0.001) is
        # for recipes that start from ImageNet weights.
        init_cfg=[dict(type='Kaiming', layer='Conv2d'),
                  dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]),
    head=dict(
        type='HeatmapHead',
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        # DARK decoding (test only): sub-pixel peaks matter on a small heatmap (+0.026 AP at
        # 24x32); its blur kernel as mmpose's DARK configs pair with sigma 2.
        decoder=dict(codec, unbiased=True, blur_kernel_size=11)),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

dataset_type = 'mmhrnet.TopdownCocoDataset'
data_mode = 'topdown'
data_root = 'data/synthetic_people/'

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    # No RandomHalfBody, and milder than mmpose's 80 deg / 0.5-1.5: a short schedule (16
    # epochs: AP 0.537 vs 0.482; rotation 15 instead of 40 at 8 epochs: 0.518 vs 0.521).
    dict(type='RandomBBoxTransform', rotate_factor=40, scale_factor=(0.7, 1.3)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

# Batch 16: twice the updates of 32 for the same time (AP 0.521 vs 0.471 after 8 epochs).
# No loader process: on two cores it slows the model's threads more than it saves (0.89 vs
# 1.0 s per step of 32).
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val.json',
        bbox_file=data_root + 'person_detection_results/detections_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator
