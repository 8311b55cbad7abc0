"""HRNetV2-W48 + 15C head on Cityscapes: ``configs/seg/hrnetv2_w48_cityscapes.py`` (mmseg 1.2.2
zoo mIoU 80.65, 81.92 ms+flip, 160k iterations), the reference of this folder's Cityscapes rows."""
_base_ = ['../seg/hrnetv2_w48_cityscapes.py']
