from .hrnet import ARCH_ZOO, UPSTREAM_DEFAULTS, HRNet, arch_to_extra

__all__ = ['ARCH_ZOO', 'UPSTREAM_DEFAULTS', 'HRNet', 'arch_to_extra']
