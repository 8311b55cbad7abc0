"""mmhrnet: one HRNet for pose, segmentation and detection on OpenMMLab 2.0."""
from .utils.checkpoint import allow_mmengine_checkpoints
from .version import __version__

allow_mmengine_checkpoints()

__all__ = ['__version__']
