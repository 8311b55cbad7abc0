"""HRNetV2-W18-Small-v1 + head: person / background on the project's synthetic people (every
body part of the part maps is "person"); otherwise the parsing recipe
(``hrnetv2_w18-small_synthetic-parts-256x256.py``).

Reaches: mIoU 81.90 (background 93.37, person 70.43 IoU) on the 200 held-out images after 600
iterations from scratch, 18 minutes on one shared CPU core (our run, ``python tools/train.py``
this config; 61.56 / 78.24 at iterations 200 / 400; measured with one loader process and
NCHW weights, as the parsing config then had). Not converged (2.4 epochs of crops).
"""
_base_ = ['./hrnetv2_w18-small_synthetic-parts-256x256.py']
num_classes = 2
model = dict(decode_head=dict(num_classes=num_classes))
dataset_type = 'mmhrnet.SyntheticPersonSegDataset'
train_dataloader = dict(dataset=dict(type=dataset_type, pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes),
    dict(type='RandomResize', scale=(256, 256), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(128, 128)),  # as the parsing config
    dict(type='RandomFlip', prob=0.5),  # no sides
    dict(type='PackSegInputs')
]))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadSegAnnotations', num_classes=num_classes),
    dict(type='PackSegInputs')
]
val_dataloader = dict(dataset=dict(type=dataset_type, pipeline=test_pipeline))
test_dataloader = val_dataloader
tta_model = dict(type='SegTTAModel', _delete_=True)
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

# 1.5x the parsing schedule: still minutes, and the mIoU is still rising at the end.
max_iters = 600
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, begin=0, end=50, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 3)
default_hooks = dict(checkpoint=dict(interval=max_iters // 3))
