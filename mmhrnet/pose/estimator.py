"""mmpose's top-down estimator whose head reads its input channels from the backbone.

The same channel contract as ``mmhrnet.CheckedEncoderDecoder`` (seg) and ``mmhrnet.FasterRCNN``
/ ``MaskRCNN`` (det): a head ``in_channels`` left out is taken from the ``out_channels`` that
the backbone (or a neck) declares, and a given one must equal it, else the build fails naming
both numbers. Modules, state-dict keys, losses and predictions are mmpose's.
"""
import torch
from mmpose.models.pose_estimators import TopdownPoseEstimator as _TopdownPoseEstimator
from mmpose.registry import MODELS as MMPOSE_MODELS

from mmhrnet.models import inputs_from
from mmhrnet.registry import MODELS


@MODELS.register_module()
class TopdownPoseEstimator(_TopdownPoseEstimator):
    """mmpose's ``TopdownPoseEstimator`` with the head's ``in_channels`` checked.

    mmpose's heatmap heads read the last feature map (``feats[-1]``): the head's
    ``in_channels`` is compared with the last declared ``out_channels`` (HRNetV1: the 1/4
    branch, C for HRNet-WC).

    Example:
        >>> from mmhrnet.pose import TopdownPoseEstimator
        >>> model = TopdownPoseEstimator(
        ...     backbone=dict(type='mmhrnet.HRNet', arch='w18_small_v1', defaults='mmpose'),
        ...     head=dict(type='HeatmapHead', out_channels=17, deconv_out_channels=None))
        >>> model.head.in_channels
        16
    """

    def __init__(self, backbone, neck=None, head=None, **kwargs):
        if head is not None and head.get('in_channels') is None:
            # mmpose builds backbone and head in one call and needs a complete head config: read
            # the declared channels from a weightless (meta-device) copy of the feeder.
            with torch.device('meta'):
                feeder = MMPOSE_MODELS.build(backbone)
                if neck is not None:
                    feeder = MMPOSE_MODELS.build(neck)
            head = inputs_from(head, feeder, in_index=-1)
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        if head is not None:  # a given in_channels must match what the feeder declares
            inputs_from(head, self.neck if self.with_neck else self.backbone, in_index=-1)
