"""Ablation: the multi-task synthetic config with its first keypoint head (the 16-channel 1/4
branch, two 3x3 convs of 32, no mask, no coordinates, no rotation jitter, no flip test); every
other setting as the main config. Results: docs/multitask.md."""
_base_ = ['../hrnet-w18-small-v1_1xb8-6e_synthetic-people-256.py']

model = dict(
    keypoint_head=dict(
        source='backbone',
        in_index=0,
        mask_channel=False,
        coord_channels=False,
        roi_convs=None,
        head=dict(deconv_out_channels=None, conv_out_channels=(32, 32), conv_kernel_sizes=(3, 3)),
        train_cfg=dict(shift=0.1, scale=(0.8, 1.2), rotate=0, max_rois=64),
        test_cfg=dict(flip_test=False)))
