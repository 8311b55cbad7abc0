"""Why a segmentation network does not learn: fit one fixed batch and look at where it sticks.

A network that cannot overfit four training crops in a few hundred steps has a defect or a
recipe problem; one that can, but does not learn on the full data, has a schedule or
generalisation problem. :func:`overfit_batch` trains a config's model (its optimiser, its
loss, its data preprocessor) on one fixed batch and reports, every ``log_every`` steps, the
loss and the per-class IoU on that batch, and at the end the share of the pixels of each
left/right class pair whose argmax is background although the pair together outscores it
(the symmetric-pair trap of human parsing: a network that sees a limb but cannot yet tell
left from right splits its score between the two and loses the pixel to background).
"""
import copy
import time

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmhrnet.utils.build import build_model, load_config


def _batch_iou(pred, gt, num_classes, ignore_index=255):
    """Per-class IoU (percent, NaN for a class absent from both) of label tensors."""
    valid = gt != ignore_index
    ious = []
    for c in range(num_classes):
        inter = ((pred == c) & (gt == c)).sum().item()
        union = (((pred == c) | (gt == c)) & valid).sum().item()
        ious.append(100.0 * inter / union if union else float('nan'))
    return ious


def overfit_batch(cfg, steps=300, num_images=4, log_every=50, warmup=50, flip_pairs=(),
                  seed=0, logger=print):
    """Train ``cfg.model`` on one fixed batch of ``cfg``'s training data.

    Args:
        cfg (Config): A segmentation config (model, ``train_dataloader``, ``optim_wrapper``).
        steps (int): Optimiser steps. Defaults to 300.
        num_images (int): Batch size (the first ``num_images`` training samples, augmented
            once). Defaults to 4.
        log_every (int): Log and record every this many steps (and step 1).
        warmup (int): Linear warm-up steps from 5% of the config's learning rate.
        flip_pairs (Sequence[tuple[int, int]]): Left/right class pairs for the trap count.
        seed (int): Seed of the weights and the augmentation.
        logger (callable): Called with each log line.

    Returns:
        dict: ``log`` (per record: ``step``, ``loss``, ``mIoU``, ``IoU``), ``s_per_step``,
        ``init_loss`` and, with ``flip_pairs``, ``pair`` (mean softmax of background, the
        true class and its mirror on the pixels of paired classes, and ``trap``, the percent
        of those pixels whose argmax is background while true + mirror outscore it).
    """
    from mmengine.registry import DATASETS
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = build_model(cfg, init_weights=True)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        dataset = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    model.to(memory_format=torch.channels_last)  # as ChannelsLastHook trains it
    batch = pseudo_collate([dataset[i] for i in range(num_images)])
    data = model.data_preprocessor(batch, True)
    inputs, samples = data['inputs'], data['data_samples']
    metas = [s.metainfo for s in samples]
    gt = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    num_classes = model.decode_head.num_classes

    model.train()
    losses = model.loss(inputs, samples)
    init_loss = float(sum(v for k, v in losses.items() if 'loss' in k))
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    base = [g['lr'] for g in optim.optimizer.param_groups]
    log, start = [], time.time()
    for step in range(1, steps + 1):
        factor = min(1.0, 0.05 + 0.95 * step / max(warmup, 1))
        for group, lr in zip(optim.optimizer.param_groups, base):
            group['lr'] = lr * factor
        loss = float(model.train_step(batch, optim)['loss'])
        if step == 1 or step % log_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                pred = model.encode_decode(inputs, metas).argmax(1)
            model.train()
            ious = _batch_iou(pred, gt, num_classes)
            log.append(dict(step=step, loss=loss, mIoU=float(np.nanmean(ious)), IoU=ious))
            logger(f'step {step} loss {loss:.4f} mIoU {np.nanmean(ious):.1f} IoU '
                   f'{[round(i) if i == i else None for i in ious]}')
    result = dict(log=log, init_loss=init_loss, s_per_step=(time.time() - start) / steps)
    if flip_pairs:
        model.eval()
        with torch.no_grad():
            prob = model.encode_decode(inputs, metas).softmax(1).permute(1, 0, 2, 3)
        mirror = {a: b for p in flip_pairs for a, b in (tuple(p), tuple(p)[::-1])}
        sums, trap, n = np.zeros(3), 0, 0
        for c, m in mirror.items():
            p = prob[:, gt == c]
            sums += [p[0].sum().item(), p[c].sum().item(), p[m].sum().item()]
            trap += ((p.argmax(0) == 0) & (p[c] + p[m] > p[0])).sum().item()
            n += p.shape[1]
        n = max(n, 1)
        result['pair'] = dict(p_bg=sums[0] / n, p_true=sums[1] / n, p_mirror=sums[2] / n,
                              trap=100.0 * trap / n)
        logger('paired-class pixels: mean p(bg) {p_bg:.3f} p(true) {p_true:.3f} p(mirror) '
               '{p_mirror:.3f}; argmax background although true + mirror outscore it: '
               '{trap:.1f}%'.format(**result['pair']))
    return result


def overfit_configs(configs, out_file=None, cfg_options=None, logger=print, **kwargs):
    """:func:`overfit_batch` for each config (its ``flip_pairs`` as the pairs); one summary
    line per network, and all results as JSON in ``out_file``.

    Returns:
        dict[str, dict]: Network name -> :func:`overfit_batch` result.
    """
    import json

    from .seg_compare import LABELS, network_name
    results = {}
    for path in configs:
        cfg = load_config(path, cfg_options)
        name = network_name(path)
        logger(f'== {LABELS.get(name, name)} ({path})')
        results[name] = overfit_batch(cfg, flip_pairs=cfg.get('flip_pairs', ()),
                                      logger=logger, **kwargs)
    for name, r in results.items():
        last = r['log'][-1]
        pair = r.get('pair', {}).get('trap', float('nan'))
        logger(f'{LABELS.get(name, name)}: init loss {r["init_loss"]:.3f}, step {last["step"]} '
               f'loss {last["loss"]:.3f} mIoU {last["mIoU"]:.1f}, pair trap {pair:.1f}%, '
               f'{r["s_per_step"]:.2f} s/step')
    if out_file:
        with open(out_file, 'w') as f:
            json.dump(results, f, indent=1)
    return results
