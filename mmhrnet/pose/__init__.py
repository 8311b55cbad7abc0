"""Top-down pose estimation (HRNetV1) on mmpose.

Registered in mmhrnet's scope: ``TopdownPoseEstimator`` (the head's ``in_channels`` read from
the backbone), ``TopdownCocoDataset``.
"""
from .datasets import TopdownCocoDataset
from .estimator import TopdownPoseEstimator

__all__ = ['TopdownCocoDataset', 'TopdownPoseEstimator']
