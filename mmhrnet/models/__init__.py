from .backbones import ARCH_ZOO, UPSTREAM_DEFAULTS, HRNet, arch_to_extra
from .inputs import inputs_from

__all__ = ['ARCH_ZOO', 'UPSTREAM_DEFAULTS', 'HRNet', 'arch_to_extra', 'inputs_from']
