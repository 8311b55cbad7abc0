from .checkpoint_hook import CheckpointError, SafeCheckpointHook, read_checkpoint
from .cli import (build_config_model, build_model_from_config, build_runner_cfg, error_line,
                  load_checkpoint_strict, load_cli_config, overfit_schedule, parse_runner_args,
                  removed_on_failure, retarget_dataset, run_main, set_show_dir)
from .hooks import ChannelsLastHook
from .optim_wrapper import AutocastOptimWrapper
from .precision import cpu_has_amx, enable_amp
from .resume import ExactResumeHook, find_resume_checkpoint, resolve_resume

__all__ = [
    'AutocastOptimWrapper', 'ChannelsLastHook', 'CheckpointError', 'ExactResumeHook',
    'SafeCheckpointHook', 'read_checkpoint',
    'build_config_model', 'build_model_from_config', 'build_runner_cfg', 'cpu_has_amx',
    'enable_amp', 'error_line', 'find_resume_checkpoint', 'load_checkpoint_strict',
    'load_cli_config', 'overfit_schedule', 'parse_runner_args', 'removed_on_failure',
    'resolve_resume', 'retarget_dataset', 'run_main', 'set_show_dir'
]
