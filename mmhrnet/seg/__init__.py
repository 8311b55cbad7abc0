"""Semantic segmentation and human parsing (HRNetV2) on mmseg.

Registered in mmhrnet's scope (``type='mmhrnet.HRNetV2Head'`` etc., no ``custom_imports``):
``HRNetV2Head``, ``CheckedEncoderDecoder``, ``SwapLabelsSegTTAModel``,
``SyntheticPartsDataset``, ``SyntheticPersonSegDataset``, ``CocoPersonSegDataset``,
``LoadSegAnnotations``, ``LoadCocoPersonSeg``.
"""
from . import baselines  # noqa: F401 (registers the networks HRNetV2 replaced)
from .datasets import CocoPersonSegDataset, SyntheticPartsDataset, SyntheticPersonSegDataset
from .head import HRNetV2Head
from .segmentor import CheckedEncoderDecoder, SwapLabelsSegTTAModel, head_inputs_from
from .transforms import (LoadCocoPersonSeg, LoadSegAnnotations, check_seg_map,
                         rasterize_person_masks)

__all__ = [
    'CheckedEncoderDecoder', 'CocoPersonSegDataset', 'HRNetV2Head', 'LoadCocoPersonSeg',
    'LoadSegAnnotations', 'SwapLabelsSegTTAModel', 'SyntheticPartsDataset',
    'SyntheticPersonSegDataset', 'check_seg_map',
    'head_inputs_from', 'rasterize_person_masks'
]
