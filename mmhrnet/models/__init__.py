from .backbones import ARCH_ZOO, UPSTREAM_DEFAULTS, HRNet, arch_to_extra
from .inputs import inputs_from
from .v2 import UPSAMPLE_MODES, check_upsample_mode, concat_branches

__all__ = [
    'ARCH_ZOO', 'UPSAMPLE_MODES', 'UPSTREAM_DEFAULTS', 'HRNet', 'arch_to_extra',
    'check_upsample_mode', 'concat_branches', 'inputs_from'
]
