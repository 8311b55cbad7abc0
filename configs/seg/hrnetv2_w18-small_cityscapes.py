"""HRNetV2-W18-Small-v2 + head on Cityscapes: the W48 recipe (``hrnetv2_w48_cityscapes.py``)
with the W18-Small-v2 backbone (mmseg's ``hr18s``: 2 blocks per branch, 1/3/2 modules).

Meant to reach: Cityscapes val mIoU 76.31, 78.31 with multi-scale + flip (mmseg 1.2.2 model
zoo, ``fcn_hr18s_4xb2-160k_cityscapes-512x1024``); the official code reports 76.2 for
W18-Small-v2.
"""
_base_ = ['./hrnetv2_w48_cityscapes.py']
model = dict(
    backbone=dict(
        arch='w18_small_v2', init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w18_small')))
