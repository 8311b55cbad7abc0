"""One HRNet-W18-Small-v1 pass for person boxes + masks, 11-part parsing and keypoints on the
project's synthetic people (``python tools/misc/make_synthetic_people.py --out
data/synthetic_people``), trained from scratch on a CPU.

The three single-task synthetic configs' recipes, merged: Mask R-CNN on HRNetV2p as
``configs/det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py`` (6 epochs of
batch 8, AdamW, cosine; the parsing config's lr 2e-3), the 15C parsing head of
``configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py`` and the heatmap codec of
``configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py`` (48x36
heatmaps, sigma 2, DARK decoding). Whole 256x256 images, the size parsing and keypoints need
(the detector alone ran at 128). Evaluation: mmdet's CocoMetric (bbox, segm), mmseg's IoUMetric
and mmpose's CocoMetric (keypoints of the model's own detections) in one run.
Results and the comparison with the single-task models: ``docs/multitask.md``.
"""
_base_ = ['../det/mask_rcnn_hrnetv2p_w32_coco.py', './_base_/hrnet_multitask.py']

data_root = 'data/synthetic_people/'
metainfo = dict(classes=('person', ), palette=[(220, 20, 60)])
num_parts = 11  # PART_CLASSES of mmhrnet/synthetic/meta.py
width = 64  # pyramid channels: a quarter of the COCO recipe's 256 for a one-class CPU task
codec = dict(type='MSRAHeatmap', input_size=(144, 192), heatmap_size=(36, 48), sigma=2)

model = dict(
    _base_.hrnet_multitask,
    backbone=dict(
        arch='w18_small_v1',
        norm_eval=False,  # from scratch: no ImageNet BN statistics to keep frozen
        init_cfg=None),
    neck=dict(out_channels=width, norm_cfg=dict(type='BN')),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=256, num_classes=1),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(in_channels=width, num_convs=2, conv_out_channels=64, num_classes=1)),
    parse_head=dict(_base_.hrnet_multitask.parse_head, num_classes=num_parts),
    keypoint_head=dict(
        _base_.hrnet_multitask.keypoint_head,
        # What tells the head its person from the neighbours in the crop (on the synthetic val
        # split 79% of crops hold another person's labelled keypoint): HRFPN's P2 (all four
        # branches, 1/4) rather than the 16-channel branch, the person's mask and the crop's
        # coordinates as extra channels, and dilated convs at half the RoI size so that each
        # heatmap pixel sees the whole crop (docs/multitask.md: the ablation of each).
        source='neck',
        in_index=0,
        mask_channel=True,
        coord_channels=True,
        roi_convs=dict(channels=64, num_convs=4, dilations=(1, 2, 4, 8)),
        head=dict(_base_.hrnet_multitask.keypoint_head.head, deconv_out_channels=(64, ),
                  deconv_kernel_sizes=(4, )),  # back to the heatmap size
        codec=codec,
        decoder=dict(codec, unbiased=True, blur_kernel_size=11),  # DARK, as the pose config
        # the top-down recipe's RandomBBoxTransform (rotate_factor=40, p=0.6, scale 0.7-1.3);
        # the mask channel gets the mask head's masks, as at test (docs/multitask.md: +8.7
        # keypoint AP against ground-truth masks at the same budget)
        train_cfg=dict(shift=0.1, scale=(0.7, 1.3), rotate=40, rotate_prob=0.6, max_rois=64,
                       mask_source='predicted'),
        # the flip test on the mirrored image, as the pose config's (docs/multitask.md: +2.2
        # AP over none, one more backbone pass; mirroring only the crop's features: -2.8)
        test_cfg=dict(score_thr=0.05, max_per_img=10, flip_test=True)),
    # The heatmap MSE pulls less on the shared backbone than the detection or parsing losses
    # (backbone gradient norms 0.11 / 0.58 / 0.61 after 30 steps at x1 and lr 1e-3:
    # tools/analysis/task_gradients.py). At half the schedule x20 gave keypoint AP 0.080
    # against 0.029 at x1, mask AP 0.079 against 0.047, the same box AP and mIoU.
    loss_weights=dict(det=1.0, parse=1.0, pose=20.0),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=200),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(max_per_img=10)))  # at most 4 people an image

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.LoadPeopleAnnotations', with_bbox=True, with_mask=True, with_seg=True),
    dict(type='RandomResize', scale=(256, 256), ratio_range=(0.75, 1.25), keep_ratio=True,
         resize_type='mmhrnet.ResizePeople'),  # the parsing recipe's scale jitter
    dict(type='mmhrnet.RandomFlipPeople', prob=0.5),
    dict(type='mmhrnet.PackPeopleInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmhrnet.ResizePeople', scale=(256, 256), keep_ratio=True),
    dict(type='mmhrnet.LoadPeopleAnnotations', with_bbox=True, with_mask=True, with_seg=True),
    dict(type='mmhrnet.PackPeopleInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
dataset = dict(
    type='mmhrnet.PeopleDataset',
    data_root=data_root,
    metainfo=metainfo,
    seg_map_suffix='.png',
    require_seg_maps=True)  # the synthetic people have every label
train_dataloader = dict(
    batch_size=8,
    num_workers=1,  # two cores: one loads, both compute
    dataset=dict(
        dataset,
        _delete_=True,
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/', seg='parts/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        dataset,
        _delete_=True,
        ann_file='annotations/person_keypoints_val.json',
        data_prefix=dict(img='val/', seg='parts/val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.multitask_metric, _delete_=True,
                     ann_file=data_root + 'annotations/person_keypoints_val.json')
test_evaluator = val_evaluator

# The detection recipe's schedule (AdamW + cosine, from scratch) at the parsing recipe's lr:
# 2e-3 against the detection recipe's 1e-3 gave mIoU 43.6 / 36.0, box AP 0.451 / 0.410, mask
# AP 0.213 / 0.169 and keypoint AP 0.154 / 0.135 after the 6 epochs (docs/multitask.md).
max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=3)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True,
         begin=0, end=max_epochs)
]
auto_scale_lr = dict(enable=False)
default_hooks = dict(
    logger=dict(interval=25),
    # Atomic saves, plus one every 50 steps to resume from (a CPU run takes hours).
    checkpoint=dict(type='mmhrnet.SafeCheckpointHook', interval=3, iter_interval=50,
                    save_best='pose/AP', rule='greater', max_keep_ckpts=1))
# ExactResumeHook: --resume continues with the random streams and data order of the run.
custom_hooks = [dict(type='mmhrnet.ExactResumeHook')]
