from .checkpoint import allow_mmengine_checkpoints
from .complexity import complexity

__all__ = ['allow_mmengine_checkpoints', 'complexity']
