"""HRNetV2-W48 + 15C head for LIP human parsing (20 classes), 473x473.

The official HRNet-Semantic-Segmentation LIP recipe in mmseg terms: 473x473 crops, batch 40
(4 GPUs x 10), SGD 0.007, momentum 0.9, weight decay 5e-4, poly, 150 epochs (~114k iterations
of 40 on the 30,462 training images), flip test. Augmentation as mmseg 0.x's LIP base
(``lip_321x321.py``: resize ratio 0.75-1.25, rotation up to 30 degrees, crop, flip) at 473.
mmseg 1.2.2 ships ``LIPDataset`` (used here) but no LIP config. Flips swap the left/right
classes: ``RandomFlip(swap_seg_labels=...)`` in training, ``mmhrnet.SwapLabelsSegTTAModel``
for ``--tta``.

Data: ``data/LIP/`` as the LIP download unpacks (``train_images/*.jpg``,
``train_segmentations/*.png``, ``val_images``, ``val_segmentations``).

Meant to reach: LIP val mIoU 55.83 with flip test (``--tta``) (official HRNet-Semantic-
Segmentation README, HRNet-OCR branch; 55.8 on its PyTorch 1.1 branch).
"""
_base_ = [
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
    '../_base_/models/hrnet_backbones.py',
    '../_base_/models/hrnetv2_seg.py',
]
num_classes = 20
# Left/right arm, leg and shoe (LIPDataset classes 14-19).
flip_pairs = [(14, 15), (16, 17), (18, 19)]
crop_size = (473, 473)
max_iters = 114000  # 150 epochs x 30462 images / batch 40
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.hrnet_v2,
        arch='w48',
        norm_cfg=_base_.norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w48')),
    decode_head=dict(num_classes=num_classes))

dataset_type = 'LIPDataset'
data_root = 'data/LIP/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes),
    dict(type='RandomResize', scale=crop_size, ratio_range=(0.75, 1.25), keep_ratio=False),
    dict(type='RandomRotate', prob=0.6, degree=30),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, swap_seg_labels=flip_pairs),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),  # the official test input
    dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes),
    dict(type='PackSegInputs')
]
img_ratios = [0.75, 1.0, 1.25]
tta_model = dict(type='mmhrnet.SwapLabelsSegTTAModel', swap_seg_labels=flip_pairs)
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(int(473 * r), int(473 * r)), keep_ratio=False)
             for r in img_ratios],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes)],
            [dict(type='PackSegInputs')],
        ])
]
train_dataloader = dict(
    batch_size=10,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='train_images', seg_map_path='train_segmentations'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val_images', seg_map_path='val_segmentations'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=0.007))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
default_hooks = dict(checkpoint=dict(interval=max_iters // 10))
