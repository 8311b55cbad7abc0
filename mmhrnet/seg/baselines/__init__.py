"""The segmentation networks HRNetV2 replaced, for side-by-side comparisons on the same data.

Registered in mmhrnet's scope: :class:`VGG16Encoder` (backbone) with :class:`DeconvNetHead`,
:class:`SegNetHead`, :class:`LargeFOVHead` (DeepLab v1) and :class:`DilatedNetHead`, which mmseg
lacks; FCN, U-Net and DeepLab v3+ are mmseg's, by configuration (``configs/seg_baselines/``).
:class:`SegCompareMetric` adds per-class IoU, thin / large part groups and the boundary F-score
to mmseg's IoU. The comparison driver (train, measure, table, figures) and the one-batch
diagnosis are measurement: :mod:`mmhrnet.analysis.seg_compare`,
:mod:`mmhrnet.analysis.seg_diagnose`.
"""
from .heads import DeconvNetHead, DilatedNetHead, LargeFOVHead, SegNetHead
from .metrics import SegCompareMetric, boundary_counts, boundary_fscore, class_boundaries
from .vgg import VGG16Encoder

__all__ = ['DeconvNetHead', 'DilatedNetHead', 'LargeFOVHead', 'SegCompareMetric', 'SegNetHead',
           'VGG16Encoder', 'boundary_counts', 'boundary_fscore', 'class_boundaries']
