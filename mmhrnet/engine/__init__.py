from .checkpoint_hook import SafeCheckpointHook
from .cli import (build_runner_cfg, error_line, overfit_schedule, parse_runner_args,
                  removed_on_failure, retarget_dataset, run_main, set_show_dir)
from .hooks import ChannelsLastHook
from .optim_wrapper import AutocastOptimWrapper
from .precision import cpu_has_amx, enable_amp
from .resume import ExactResumeHook, resolve_resume

__all__ = [
    'AutocastOptimWrapper', 'ChannelsLastHook', 'ExactResumeHook', 'SafeCheckpointHook',
    'build_runner_cfg', 'cpu_has_amx',
    'enable_amp', 'error_line',
    'overfit_schedule', 'parse_runner_args', 'removed_on_failure',
    'resolve_resume', 'retarget_dataset', 'run_main', 'set_show_dir'
]
