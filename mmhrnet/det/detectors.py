"""mmdet's Faster and Mask R-CNN whose neck reads its input channels from the backbone.

mmdet builds the backbone and the neck from two independent config dicts, so a neck's
``in_channels`` repeats the backbone's widths and a W18 backbone under a W32 neck only fails
deep inside the first forward pass. Here the neck is built after the backbone: a missing
``in_channels`` is taken from ``backbone.out_channels`` and a given one must equal it. Nothing
else changes: same modules, same state-dict keys, same losses and predictions as mmdet's.
"""
from mmdet.models.detectors import FasterRCNN as _FasterRCNN
from mmdet.models.detectors import MaskRCNN as _MaskRCNN
from mmdet.registry import MODELS as MMDET_MODELS

from mmhrnet.models import inputs_from
from mmhrnet.registry import MODELS


class _NeckFromBackbone:
    """Builds the neck after the backbone, with ``in_channels`` from :func:`inputs_from`."""

    def __init__(self, backbone, neck=None, **kwargs):
        super().__init__(backbone=backbone, neck=None, **kwargs)
        if neck is not None:
            # mmdet's registry, as mmdet builds its necks: 'FPN' is mmdet's, 'mmhrnet.HRFPN' ours
            self.neck = MMDET_MODELS.build(inputs_from(neck, self.backbone))


@MODELS.register_module()
class FasterRCNN(_NeckFromBackbone, _FasterRCNN):
    """mmdet's ``FasterRCNN`` with the neck's ``in_channels`` read from the backbone."""


@MODELS.register_module()
class MaskRCNN(_NeckFromBackbone, _MaskRCNN):
    """mmdet's ``MaskRCNN`` with the neck's ``in_channels`` read from the backbone."""
