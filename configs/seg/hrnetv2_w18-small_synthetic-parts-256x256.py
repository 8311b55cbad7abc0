"""HRNetV2-W18-Small-v1 + 15C head: human parsing on the project's synthetic people.

The embedded default: runs out of the box on data the project generates itself
(``python tools/misc/make_synthetic_people.py --out data/synthetic_people``: 1000 train +
200 val images of 256x256) and trains from scratch on a CPU in minutes. 11 classes
(background, head, torso, left/right upper/lower arms and legs), LIP-like: flips swap left and
right in training (``RandomFlip(swap_seg_labels=...)``) and in the flip test (``--tta``,
``mmhrnet.SwapLabelsSegTTAModel``). Recipe scaled down from the LIP one
(``hrnetv2_w48_lip-473x473.py``) where noted.

Reaches: mIoU 60.66 on the 200 held-out images after 1200 iterations from scratch, 18.4
minutes of training and validation on this project's 2-core CPU (our run, ``python
tools/train.py`` this config; 41.30 / 54.90 at iterations 400 / 800). Per class: background
95.9, head 76.5, torso 83.8, upper arms 48-50, lower arms 36-37, upper legs 63-66, lower legs
55-56: the thin forearms come last. (400 iterations on one shared core: 39.25; 39.28 with
``--tta``, 26.86 when the flip test does not swap left and right.)
"""
_base_ = [
    'mmseg::_base_/default_runtime.py',
    '../_base_/models/hrnet_backbones.py',
    '../_base_/models/hrnetv2_seg.py',
]
num_classes = 11
flip_pairs = [(3, 4), (5, 6), (7, 8), (9, 10)]  # PART_FLIP_PAIRS of mmhrnet/synthetic/meta.py
# Train on 128x128 crops of the 256x256 images (4x cheaper on a CPU than whole images, at full
# resolution: thin limbs survive the head's 1/4 output); test on whole images.
crop_size = (128, 128)
max_iters = 1200
norm_cfg = dict(type='BN', requires_grad=True)  # one CPU process: no SyncBN
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.hrnet_v2, arch='w18_small_v1', norm_cfg=norm_cfg),  # from scratch
    decode_head=dict(num_classes=num_classes, norm_cfg=norm_cfg))

dataset_type = 'mmhrnet.SyntheticPartsDataset'
data_root = 'data/synthetic_people/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes),
    dict(type='RandomResize', scale=(256, 256), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, swap_seg_labels=flip_pairs),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes),
    dict(type='PackSegInputs')
]
tta_model = dict(type='mmhrnet.SwapLabelsSegTTAModel', swap_seg_labels=flip_pairs)
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in (0.75, 1.0, 1.25)],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes)],
            [dict(type='PackSegInputs')],
        ])
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,  # two cores: a loader process slows the model's threads more than it saves
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='train', seg_map_path='parts/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='parts/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# Adam from scratch instead of SGD 0.01 on ImageNet weights: a few minutes, no download.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3,
                                                         weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, begin=0, end=50, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters // 3)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Atomic saves: a kill never loses a checkpoint.
    checkpoint=dict(type='mmhrnet.SafeCheckpointHook', by_epoch=False, interval=max_iters // 3,
                    save_best='mIoU', max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# NHWC: faster oneDNN convolutions; ExactResumeHook: --resume continues the random streams.
custom_hooks = [dict(type='mmhrnet.ChannelsLastHook'), dict(type='mmhrnet.ExactResumeHook')]
