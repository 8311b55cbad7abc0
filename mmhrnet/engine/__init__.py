from .hooks import ChannelsLastHook
from .optim_wrapper import AutocastOptimWrapper
from .runner import (build_runner_cfg, enable_amp, load_checkpoint_strict, parse_runner_args,
                     set_show_dir)

__all__ = [
    'AutocastOptimWrapper', 'ChannelsLastHook', 'build_runner_cfg', 'enable_amp',
    'load_checkpoint_strict', 'parse_runner_args', 'set_show_dir'
]
