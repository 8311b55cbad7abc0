"""mmdet's Faster and Mask R-CNN whose neck reads its input channels from the backbone.

mmdet builds the backbone and the neck from two independent config dicts, so a neck's
``in_channels`` repeats the backbone's widths and a W18 backbone under a W32 neck only fails
deep inside the first forward pass. Here the neck is built after the backbone: a missing
``in_channels`` is taken from ``backbone.out_channels`` and a given one must equal it. Nothing
else changes: same modules, same state-dict keys, same losses and predictions as mmdet's.
"""
import copy

from mmdet.models.detectors import FasterRCNN as _FasterRCNN
from mmdet.models.detectors import MaskRCNN as _MaskRCNN
from mmdet.registry import MODELS as MMDET_MODELS

from mmhrnet.registry import MODELS


def neck_cfg_from_backbone(neck, backbone):
    """Return a copy of the ``neck`` config with ``in_channels`` checked against, or taken
    from, the built ``backbone``'s ``out_channels``.

    Raises:
        ValueError: ``neck.in_channels`` is given and differs from the backbone's channels
            (the message names both), or neither is known.
    """
    neck = copy.deepcopy(neck)
    channels = getattr(backbone, 'out_channels', None)
    given = neck.get('in_channels')
    if channels is None:
        if given is None:
            raise ValueError(f'{type(backbone).__name__} declares no out_channels: give the '
                             f"neck's in_channels in the config")
        return neck
    channels = [int(c) for c in channels]
    if given is None:
        neck['in_channels'] = channels
    elif list(given) != channels:
        raise ValueError(f"neck {neck.get('type')} in_channels = {list(given)} but the backbone "
                         f'{type(backbone).__name__} outputs {channels} channels')
    return neck


class _NeckFromBackbone:
    """Builds the neck after the backbone, with :func:`neck_cfg_from_backbone`."""

    def __init__(self, backbone, neck=None, **kwargs):
        super().__init__(backbone=backbone, neck=None, **kwargs)
        if neck is not None:
            # mmdet's registry, as mmdet builds its necks: 'FPN' is mmdet's, 'mmhrnet.HRFPN' ours
            self.neck = MMDET_MODELS.build(neck_cfg_from_backbone(neck, self.backbone))


@MODELS.register_module()
class FasterRCNN(_NeckFromBackbone, _FasterRCNN):
    """mmdet's ``FasterRCNN`` with the neck's ``in_channels`` read from the backbone."""


@MODELS.register_module()
class MaskRCNN(_NeckFromBackbone, _MaskRCNN):
    """mmdet's ``MaskRCNN`` with the neck's ``in_channels`` read from the backbone."""
