# The coco_tiny person / background task for the networks of this folder: the 4 real COCO
# images of ../shared/data/coco_tiny (person polygons rasterised, crowds ignored), trained and
# tested on the same images at 320x240 (the recipe of tools/misc/overfit_coco_tiny_seg.py:
# flips only, AdamW 2e-3 from scratch, 10 warm-up + poly to 120 iterations, batch 4). Task
# configs set the backbone and head (`_base_.vgg16_unpool`, ... of ./models/baselines.py).
# It inherits the pieces of configs/seg/hrnetv2_w18-small_coco-person-512x512.py, not that
# file itself, so that the task configs stay 3 files deep.
_base_ = [
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    '../../_base_/models/hrnet_backbones.py',
    '../../_base_/models/hrnetv2_seg.py',
    './models/baselines.py',
]
coco_tiny = '../shared/data/coco_tiny/'  # relative to the repository root
scale = (320, 240)
max_iters = 120
bn = dict(type='BN', requires_grad=True)  # one CPU process: no SyncBN
model = dict(
    data_preprocessor=dict(size=None, size_divisor=32),
    backbone=dict(_base_.hrnet_v2, arch='w18_small_v1', norm_cfg=bn, init_cfg=None),  # scratch
    decode_head=dict(num_classes=2, norm_cfg=bn))
_data = dict(type='mmhrnet.CocoPersonSegDataset', data_root='',
             ann_file=coco_tiny + 'test_coco.json',
             data_prefix=dict(img_path=coco_tiny))
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(**_data, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='mmhrnet.LoadCocoPersonSeg'),
        dict(type='Resize', scale=scale, keep_ratio=True), dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs')]))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**_data, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='Resize', scale=scale, keep_ratio=True),
        dict(type='mmhrnet.LoadCocoPersonSeg'), dict(type='PackSegInputs')]))
test_dataloader = val_dataloader
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=10, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=10, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                     interval=max_iters))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
