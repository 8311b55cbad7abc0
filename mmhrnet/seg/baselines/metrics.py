"""mmseg's IoU metric with what a comparison of segmentation networks on thin structures needs:
per-class IoU, mean IoU over named class groups, and the boundary F-score."""
import numpy as np
import torch
import torch.nn.functional as F
from mmseg.evaluation.metrics import IoUMetric

from mmhrnet.registry import METRICS


def class_boundaries(label, num_classes, ignore_index=255):
    """One-pixel inner boundaries of each class region of a label map.

    Args:
        label (Tensor): (H, W) integer label map.
        num_classes (int): Classes 0 .. num_classes - 1 (others are ignored).
        ignore_index (int): Label of ignored pixels; their region borders count for no class.

    Returns:
        Tensor: (num_classes, H, W) bool, True on a pixel of class c that has a 4- or
        8-neighbour of another label (the image border is no boundary).
    """
    masks = F.one_hot(label.long().clamp(0, num_classes), num_classes + 1)[..., :num_classes]
    masks = masks.permute(2, 0, 1)[None].float()
    eroded = -F.max_pool2d(-masks, 3, 1, 1)  # the padding is -inf for max: border kept
    return (masks - eroded)[0].bool() & (label != ignore_index)[None]


def boundary_counts(pred, label, num_classes, tolerance=3, ignore_index=255):
    """Per-class boundary pixels and those matched within ``tolerance`` pixels.

    A predicted boundary pixel counts as correct when a ground-truth boundary pixel of the same
    class lies within ``tolerance`` pixels (Chebyshev distance) of it, and vice versa (the
    boundary F-measure of Martin et al., PAMI 2004, per class as in Csurka et al., BMVC 2013).

    Args:
        pred (Tensor): (H, W) predicted labels.
        label (Tensor): (H, W) ground-truth labels.
        num_classes (int): Number of classes.
        tolerance (int): Match distance in pixels (the trimap width). Defaults to 3.
        ignore_index (int): Ignored label; predicted boundaries on ignored pixels are dropped.

    Returns:
        Tensor: (4, num_classes) float64: predicted boundary pixels, those matched, ground-truth
        boundary pixels, those matched.
    """
    pred = torch.where(label == ignore_index, torch.full_like(pred, ignore_index), pred)
    pb = class_boundaries(pred, num_classes, ignore_index)[None].float()
    gb = class_boundaries(label, num_classes, ignore_index)[None].float()
    k = 2 * tolerance + 1
    near_g = F.max_pool2d(gb, k, 1, tolerance).bool()
    near_p = F.max_pool2d(pb, k, 1, tolerance).bool()
    pb, gb = pb.bool(), gb.bool()
    return torch.stack([pb.sum((0, 2, 3)), (pb & near_g).sum((0, 2, 3)),
                        gb.sum((0, 2, 3)), (gb & near_p).sum((0, 2, 3))]).double()


def boundary_fscore(counts):
    """Per-class boundary F-score (0..1) from the summed :func:`boundary_counts`: NaN where a
    class has a boundary in neither the prediction nor the ground truth, 0 where only one has
    one."""
    pred_n, pred_hit, gt_n, gt_hit = counts
    precision = pred_hit / pred_n.clamp(min=1)
    recall = gt_hit / gt_n.clamp(min=1)
    f = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return torch.where((gt_n > 0) | (pred_n > 0), f, torch.full_like(f, float('nan')))


@METRICS.register_module()
class SegCompareMetric(IoUMetric):
    """mmseg's ``IoUMetric`` (mIoU) plus per-class IoU, group mIoUs and the boundary F-score.

    Args:
        groups (dict[str, Sequence[str]]): Named groups of class names whose IoUs are averaged
            into ``mIoU_<name>``, e.g. ``dict(thin=['left_lower_arm', ...], large=[...])``.
        boundary_tolerance (int): Match distance of the boundary F-score, in pixels.
            Defaults to 3.
        **kwargs: ``IoUMetric`` arguments (``ignore_index``, ...); ``iou_metrics`` is mIoU.

    Returns (``compute_metrics``):
        dict: ``mIoU``, ``aAcc``, ``IoU.<class>``, ``mIoU_<group>`` and ``bF`` (mean of the
        per-class boundary F-score), in percent. A class absent from both the predictions and
        the ground truth has NaN IoU / boundary F and is left out of the means (mmseg's rule).
    """

    def __init__(self, groups=None, boundary_tolerance=3, **kwargs):
        kwargs.setdefault('iou_metrics', ['mIoU'])
        super().__init__(**kwargs)
        self.groups = {k: list(v) for k, v in (groups or {}).items()}
        self.boundary_tolerance = boundary_tolerance

    def process(self, data_batch, data_samples):
        super().process(data_batch, data_samples)
        num_classes = len(self.dataset_meta['classes'])
        start = len(self.results) - len(data_samples)
        for i, sample in enumerate(data_samples):
            pred = sample['pred_sem_seg']['data'].squeeze().cpu()
            label = sample['gt_sem_seg']['data'].squeeze().to(pred)
            counts = boundary_counts(pred, label, num_classes, self.boundary_tolerance,
                                     self.ignore_index)
            self.results[start + i] = tuple(self.results[start + i]) + (counts, )

    def compute_metrics(self, results):
        classes = self.dataset_meta['classes']
        unknown = sorted({c for names in self.groups.values() for c in names} - set(classes))
        if unknown:
            raise ValueError(f'SegCompareMetric groups name classes {unknown} that the dataset '
                             f'does not have (its classes: {classes})')
        metrics = super().compute_metrics([r[:4] for r in results])
        inter = sum(r[0] for r in results).double()
        union = sum(r[1] for r in results).double()
        # A class absent from both prediction and ground truth has no IoU (NaN, left out of
        # every mean), as in mmseg's mIoU; scoring it 0 would penalise a perfect prediction.
        iou = torch.where(union > 0, inter / union.clamp(min=1), float('nan')).numpy() * 100
        for name, value in zip(classes, iou):
            metrics[f'IoU.{name}'] = float(value)
        for group, names in self.groups.items():
            values = iou[[classes.index(n) for n in names]]
            metrics[f'mIoU_{group}'] = (float(np.nanmean(values)) if not np.isnan(values).all()
                                        else float('nan'))
        f = boundary_fscore(sum(r[4] for r in results))
        metrics['bF'] = float(f[~f.isnan()].mean() * 100) if (~f.isnan()).any() else float('nan')
        return metrics
