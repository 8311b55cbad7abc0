"""mmseg's FCN (dilated ResNetV1c-50, output stride 8, FCNHead + auxiliary head) on Cityscapes,
unchanged: mmseg 1.2.2 zoo mIoU 73.61 (74.24 ms+flip), 80k iterations."""
_base_ = ['mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py']
