"""Object detection and instance segmentation (HRNetV2p) on mmdet."""
