"""HRNetV2-W18 + 15C head on Cityscapes: the W48 recipe (``hrnetv2_w48_cityscapes.py``) with
the W18 backbone; the head follows the backbone's channels (18+36+72+144 = 270).

Meant to reach: Cityscapes val mIoU 78.80, 80.74 with multi-scale + flip (mmseg 1.2.2 model
zoo, ``fcn_hr18_4xb2-160k_cityscapes-512x1024``).
"""
_base_ = ['./hrnetv2_w48_cityscapes.py']
model = dict(
    backbone=dict(
        arch='w18', init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w18')))
