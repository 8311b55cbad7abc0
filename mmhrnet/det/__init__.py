"""Object detection and instance segmentation (HRNetV2p) on mmdet.

``type='mmhrnet.HRFPN'`` (the HRNetV2p pyramid) and ``type='mmhrnet.FasterRCNN'`` /
``'mmhrnet.MaskRCNN'`` (mmdet's detectors, with the neck's input channels read from the
backbone) build from mmdet configs with no ``custom_imports``.
"""
from .datasets import CheckedCocoDataset
from .detectors import FasterRCNN, MaskRCNN
from .hrfpn import HRFPN

__all__ = ['CheckedCocoDataset', 'HRFPN', 'FasterRCNN', 'MaskRCNN']
