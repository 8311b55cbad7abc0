"""Top-down pose estimation (HRNetV1) on mmpose."""
from .datasets import TopdownCocoDataset

__all__ = ['TopdownCocoDataset']
