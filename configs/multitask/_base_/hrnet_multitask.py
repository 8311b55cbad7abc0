# The multi-task parts added to a Mask R-CNN on HRNetV2p config
# (``../det/mask_rcnn_hrnetv2p_w32_coco.py``): the detector becomes mmhrnet.HRNetMultiTask, which
# adds the HRNetV2 parsing head and the RoI keypoint head on the same backbone pass. Task configs
# take them with
#   _base_ = ['../det/mask_rcnn_hrnetv2p_w32_coco.py', './_base_/hrnet_multitask.py']
#   model = dict(_base_.hrnet_multitask, backbone=dict(...), parse_head=dict(num_classes=...))
# and set the classes, widths and data. Default scope: mmdet; mmpose / mmseg modules by prefix.
hrnet_multitask = dict(
    type='mmhrnet.HRNetMultiTask',
    data_preprocessor=dict(pad_seg=True, seg_pad_value=255),  # parsing labels padded as ignored
    parse_head=dict(
        type='mmhrnet.HRNetV2Head',
        in_channels=None,  # the backbone's out_channels; channels = their sum (15C)
        num_classes=2,
        norm_cfg=dict(type='BN', requires_grad=True),
        # avg_non_ignore: an image without a label map (all 255) adds neither loss nor weight
        loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)),
    keypoint_head=dict(
        in_index=0,  # HRNetV1: the 1/4 branch
        head=dict(
            type='mmpose.HeatmapHead',
            out_channels=17,
            deconv_out_channels=None,  # RoIAlign samples on the heatmap grid: no upsampling
            loss=dict(type='KeypointMSELoss', use_target_weight=True)),
        # mmpose's COCO codec (td-hm_hrnet-w32_8xb64-210e_coco-256x192)
        codec=dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2),
        train_cfg=dict(shift=0.1, scale=(0.8, 1.2), max_rois=64),
        test_cfg=dict(score_thr=0.05, max_per_img=10)),
    loss_weights=dict(det=1.0, parse=1.0, pose=1.0))

# Keypoint AP, parsing mIoU and box / mask AP from one test run; a config adds its annotation
# file: ``val_evaluator = dict(_base_.multitask_metric, _delete_=True, ann_file=...)``.
multitask_metric = dict(
    type='mmhrnet.MultiTaskMetric',
    det=dict(type='mmdet.CocoMetric', metric=['bbox', 'segm'], prefix='det'),
    parse=dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'], prefix='parse'),
    pose=dict(type='mmpose.CocoMetric', prefix='pose'))
