"""Calibration inputs for post-training quantisation: N images of the config's own training
set, through its test pipeline (no augmentation) and the model's data preprocessor."""
import copy

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope


def calibration_inputs(cfg, data_preprocessor, num, shape=None):
    """``num`` network inputs (``(1, 3, H, W)`` float32 arrays) from evenly spaced images of
    ``cfg.train_dataloader.dataset``, resized to ``shape`` (H, W) where given (a static export).

    Raises:
        FileNotFoundError: naming the training set's annotation file when it cannot be read.
    """
    if num <= 0:
        raise ValueError(f'--calib must be a positive number of images, got {num}')
    init_default_scope(cfg.default_scope)
    from mmengine.registry import DATASETS
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.pipeline = cfg.test_dataloader.dataset.pipeline
    dataset_cfg.pop('indices', None)
    try:
        dataset = DATASETS.build(dataset_cfg)
    except (FileNotFoundError, OSError) as e:
        raise FileNotFoundError(
            f'calibration reads the config\'s training set ({dataset_cfg.get("data_root", "")}'
            f'{dataset_cfg.get("ann_file", "")}): {e}') from None
    if len(dataset) == 0:
        raise ValueError(f'calibration: the training set {dataset_cfg.get("ann_file")} is empty')
    inputs = []
    with torch.no_grad():
        for index in np.linspace(0, len(dataset) - 1, min(num, len(dataset))).astype(int):
            batch = data_preprocessor(pseudo_collate([dataset[int(index)]]), False)['inputs']
            if shape is not None and tuple(batch.shape[2:]) != tuple(shape):
                batch = F.interpolate(batch, size=tuple(shape), mode='bilinear',
                                      align_corners=False)
            inputs.append(batch.float().numpy())
    return inputs
