from .hrnet import ARCH_ZOO, HRNet, arch_to_extra

__all__ = ['ARCH_ZOO', 'HRNet', 'arch_to_extra']
