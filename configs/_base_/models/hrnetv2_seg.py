# HRNetV2 segmentation model around the backbone: mmseg's EncoderDecoder (checking the head's
# input channels against the backbone's declared out_channels) with the 15C head. Task configs
# add the backbone and classes:
#   _base_ = [..., 'mmhrnet::_base_/models/hrnet_backbones.py',
#             'mmhrnet::_base_/models/hrnetv2_seg.py']
#   model = dict(backbone=dict(_base_.hrnet_v2, arch='w48'), decode_head=dict(num_classes=19))
# Equal to mmseg's `_base_/models/fcn_hr18.py` (HRNet + FCNHead, resize_concat) under the same
# weights (tests/test_seg.py).
norm_cfg = dict(type='SyncBN', requires_grad=True)  # as mmseg; reverted to BN without DDP
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='mmhrnet.CheckedEncoderDecoder',
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        type='mmhrnet.HRNetV2Head',
        in_channels=None,  # the backbone's out_channels; channels = their sum (15C)
        num_classes=19,
        upsample_mode='bilinear',
        align_corners=False,
        norm_cfg=norm_cfg,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
