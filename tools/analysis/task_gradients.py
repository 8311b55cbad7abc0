"""How strongly each task's loss pulls on the shared backbone of a multi-task model: the loss
and the L2 norm of its gradient into ``backbone``, after some training steps (what the config's
``loss_weights`` should balance).

    python tools/analysis/task_gradients.py \\
        configs/multitask/hrnet-w18-small-v1_1xb8-6e_synthetic-people-256.py \\
        [--steps 30] [--cfg-options model.loss_weights.pose=20]

The steps are plain optimiser steps of the config's optimiser (no scheduler: its warm-up), on
the config's training data, from a fixed seed; the norms are taken on the next batch.
"""
import argparse

import torch
from mmengine.config import DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner

from mmhrnet.utils.build import build_model, load_config
from mmhrnet.analysis.multitask_compare import task_gradient_norms


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--steps', type=int, default=30, help='training steps before measuring')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = load_config(args.config, args.cfg_options)
    torch.manual_seed(args.seed)
    model = build_model(cfg).train()
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    loader = iter(Runner.build_dataloader(cfg.train_dataloader, seed=args.seed))
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    for step in range(args.steps + 1):
        data = model.data_preprocessor(next(loader), True)
        losses = model.loss(data['inputs'], data['data_samples'])
        if step == args.steps:
            break
        optim.update_params(model.parse_losses(losses)[0])
        print(f'step {step + 1}/{args.steps}', end='\r', flush=True)
    print(f'after {args.steps} steps, loss weights {model.loss_weights}:')
    print('| task | loss | backbone gradient norm |\n| --- | --- | --- |')
    for task, (loss, norm) in task_gradient_norms(model, losses).items():
        print(f'| {task} | {loss:.4f} | {norm:.4f} |')


if __name__ == '__main__':
    main()
