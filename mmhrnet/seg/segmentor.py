"""mmseg's EncoderDecoder with heads that read their input channels from the backbone, and a
test-time-augmentation model that swaps left/right classes of flipped predictions."""
import inspect

import torch
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.models.segmentors import EncoderDecoder, SegTTAModel

from mmhrnet.models import inputs_from
from mmhrnet.registry import MODELS


def _default_in_index(head_type):
    """The ``in_index`` default of a head class (BaseDecodeHead's is -1)."""
    if isinstance(head_type, str):
        head_type = MMENGINE_MODELS.get(head_type) or MODELS.get(head_type)
    for klass in getattr(head_type, '__mro__', ()):
        param = inspect.signature(klass.__init__).parameters.get('in_index')
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default
    return -1


def head_inputs_from(head_cfg, feeder):
    """:func:`inputs_from` at the head's ``in_index`` (its class default when not given)."""
    return inputs_from(head_cfg, feeder,
                       head_cfg.get('in_index', _default_in_index(head_cfg.get('type'))))


@MODELS.register_module()
class CheckedEncoderDecoder(EncoderDecoder):
    """mmseg's ``EncoderDecoder`` whose heads take their input channels from the backbone.

    Each head's ``in_channels``, when None, is read from the ``out_channels`` that the backbone
    (or neck) declares; when given, a mismatch fails at build time naming both numbers.
    Everything else (losses, whole and sliding-window inference, TTA) is mmseg's.
    """

    def _feeder(self):
        return self.neck if self.with_neck else self.backbone

    def _init_decode_head(self, decode_head):
        super()._init_decode_head(head_inputs_from(decode_head, self._feeder()))

    def _init_auxiliary_head(self, auxiliary_head):
        if not auxiliary_head:
            return super()._init_auxiliary_head(auxiliary_head)
        heads = auxiliary_head if isinstance(auxiliary_head, list) else [auxiliary_head]
        heads = [head_inputs_from(h, self._feeder()) for h in heads]
        super()._init_auxiliary_head(heads if isinstance(auxiliary_head, list) else heads[0])


@MODELS.register_module()
class SwapLabelsSegTTAModel(SegTTAModel):
    """mmseg's ``SegTTAModel`` for classes with a side: the logits of horizontally flipped
    views swap each left/right pair before they are averaged.

    mmseg flips the logits of a flipped view back (``BaseSegmentor.postprocess_result``) but
    keeps their channels, which is right for Cityscapes and wrong for human parsing, where the
    left arm of the flipped image is the right arm of the original.

    Args:
        swap_seg_labels (Sequence[tuple[int, int]]): Class pairs to swap, as in mmseg's
            ``RandomFlip(swap_seg_labels=...)``, e.g. ``[(14, 15), (16, 17), (18, 19)]`` (LIP).
        **kwargs: ``SegTTAModel`` arguments (``module``, ``data_preprocessor``).
    """

    def __init__(self, swap_seg_labels=(), **kwargs):
        super().__init__(**kwargs)
        self.swap_seg_labels = [tuple(p) for p in swap_seg_labels]
        if any(len(p) != 2 for p in self.swap_seg_labels):
            raise ValueError(f'swap_seg_labels must be pairs, got {swap_seg_labels}')

    def _swap(self, logits):
        order = torch.arange(logits.shape[0], device=logits.device)
        for a, b in self.swap_seg_labels:
            order[a], order[b] = b, a
        return logits[order]

    def merge_preds(self, data_samples_list):
        for data_samples in data_samples_list:
            for sample in data_samples:
                if (sample.metainfo.get('flip') and sample.metainfo.get('flip_direction')
                        == 'horizontal' and self.swap_seg_labels):
                    sample.seg_logits.data = self._swap(sample.seg_logits.data)
        return super().merge_preds(data_samples_list)
