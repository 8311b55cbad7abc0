"""mmseg's U-Net (5 stages + FCNHead) on Cityscapes, unchanged: mmseg 1.2.2 zoo mIoU 69.10
(71.05 ms+flip), 160k iterations (mmseg's only Cityscapes U-Net recipe)."""
_base_ = ['mmseg::unet/unet-s5-d16_fcn_4xb4-160k_cityscapes-512x1024.py']
