"""mmseg's DeepLab v3+ (dilated ResNetV1c-50, ASPP + decoder) on Cityscapes, unchanged: mmseg
1.2.2 zoo mIoU 80.09 (81.13 ms+flip), 80k iterations."""
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-80k_cityscapes-512x1024.py']
