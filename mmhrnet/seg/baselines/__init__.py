"""The segmentation networks HRNetV2 replaced, for side-by-side comparisons on the same data.

Registered in mmhrnet's scope: :class:`VGG16Encoder` (backbone) with :class:`DeconvNetHead`,
:class:`SegNetHead`, :class:`LargeFOVHead` (DeepLab v1) and :class:`DilatedNetHead`, which mmseg
lacks; FCN, U-Net and DeepLab v3+ are mmseg's, by configuration (``configs/seg_baselines/``).
:class:`SegCompareMetric` adds per-class IoU, thin / large part groups and the boundary F-score
to mmseg's IoU; :mod:`.compare` trains, measures and writes the comparison table and figures;
:mod:`.diagnose` fits one batch to tell a defect from a recipe or schedule problem.
"""
from .heads import DeconvNetHead, DilatedNetHead, LargeFOVHead, SegNetHead
from .diagnose import overfit_batch, overfit_configs
from .metrics import SegCompareMetric, boundary_counts, boundary_fscore, class_boundaries
from .vgg import VGG16Encoder

__all__ = ['DeconvNetHead', 'DilatedNetHead', 'LargeFOVHead', 'SegCompareMetric', 'SegNetHead',
           'VGG16Encoder', 'boundary_counts', 'boundary_fscore', 'class_boundaries',
           'overfit_batch', 'overfit_configs']
