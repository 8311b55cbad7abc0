"""HRNetV2-W18-Small-v2 + 15C head: person / background segmentation from COCO's person masks.

No published number: this config carries the real-data check. The masks of each image's
persons (polygons or RLE) are rasterised on the fly (``mmhrnet.CocoPersonSegDataset`` +
``mmhrnet.LoadCocoPersonSeg``; crowd regions ignored). Recipe: mmseg's 512x512 one
(``fcn_hr18s_4xb4-80k_voc12aug-512x512``-style: resize ratio 0.5-2.0, 512x512 crops, flip,
photometric distortion, SGD 0.01 poly, 80k iterations, batch 16 = 4 GPUs x 4) with
ImageNet weights. Data: ``data/coco/`` (``annotations/instances_{train,val}2017.json``,
``train2017/``, ``val2017/``).

Real data check: ``python tools/misc/overfit_coco_tiny_seg.py`` trains it on the 4 images of
``../shared/data/coco_tiny`` (numbers in README "Segmentation").
"""
_base_ = [
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    '../_base_/models/hrnet_backbones.py',
    '../_base_/models/hrnetv2_seg.py',
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.hrnet_v2,
        arch='w18_small_v2',
        norm_cfg=_base_.norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w18_small')),
    decode_head=dict(num_classes=2))

dataset_type = 'mmhrnet.CocoPersonSegDataset'
data_root = 'data/coco/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadCocoPersonSeg'),
    dict(type='RandomResize', scale=(640, 480), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(640, 480), keep_ratio=True),
    dict(type='mmhrnet.LoadCocoPersonSeg'),  # at the original size, after the resize
    dict(type='PackSegInputs')
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='mmhrnet.LoadCocoPersonSeg')],
            [dict(type='PackSegInputs')],
        ])
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img_path='train2017'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img_path='val2017'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
