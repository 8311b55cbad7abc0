"""mmhrnet: one HRNet for pose, segmentation and detection on OpenMMLab 2.0."""
from .version import __version__

__all__ = ['__version__']
