from .checkpoint_hook import SafeCheckpointHook
from .cli import (build_config_model, build_model_from_config, build_runner_cfg,
                  load_checkpoint_strict, overfit_schedule, parse_runner_args, retarget_dataset,
                  set_show_dir)
from .hooks import ChannelsLastHook
from .optim_wrapper import AutocastOptimWrapper
from .precision import cpu_has_amx, enable_amp
from .resume import ExactResumeHook, find_resume_checkpoint, resolve_resume

__all__ = [
    'AutocastOptimWrapper', 'ChannelsLastHook', 'ExactResumeHook', 'SafeCheckpointHook',
    'build_config_model', 'build_model_from_config', 'build_runner_cfg', 'cpu_has_amx',
    'enable_amp', 'find_resume_checkpoint', 'load_checkpoint_strict', 'overfit_schedule',
    'parse_runner_args', 'resolve_resume', 'retarget_dataset', 'set_show_dir'
]
