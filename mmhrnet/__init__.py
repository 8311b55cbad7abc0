"""mmhrnet: one HRNet for pose, segmentation and detection on OpenMMLab 2.0."""
from mmengine.config.utils import MODULE2PACKAGE

from .utils.checkpoint import allow_mmengine_checkpoints
from .version import __version__

# mmengine resolves `pkg::path` bases only for the packages in this table.
MODULE2PACKAGE.setdefault('mmhrnet', 'mmhrnet')
allow_mmengine_checkpoints()

__all__ = ['__version__']
