"""One evaluator entry for the three tasks: each prediction goes, in the form it expects, to
mmdet's ``CocoMetric`` (boxes, masks), mmseg's ``IoUMetric`` (parsing) and mmpose's
``CocoMetric`` (keypoints)."""
from mmengine.evaluator import BaseMetric

from mmhrnet.registry import METRICS


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else x


@METRICS.register_module()
class MultiTaskMetric(BaseMetric):
    """Runs a metric per task on the multi-task model's predictions and merges their results.

    Args:
        det (dict, optional): mmdet metric on ``pred_instances`` (boxes, scores, labels,
            masks), e.g. ``dict(type='mmdet.CocoMetric', metric=['bbox', 'segm'], ...)``.
        parse (dict, optional): mmseg metric on the parsing map, e.g.
            ``dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])``; its classes are the
            dataset's ``seg_classes``.
        pose (dict, optional): mmpose metric on the keypoints of ``pred_pose_instances``
            (given boxes) if present, else of ``pred_instances`` (own detections), e.g.
            ``dict(type='mmpose.CocoMetric', ann_file=...)``; its metainfo (sigmas, ...) is
            the dataset's.
        ann_file (str, optional): The COCO annotation file for the ``det`` and ``pose``
            metrics that name none (one file holds both tasks' ground truth).
        **kwargs: ``BaseMetric`` arguments.

    Give each a distinct ``prefix`` (e.g. ``det``, ``parse``, ``pose``): the merged dict
    fails on a repeated name rather than overwrite it.
    """

    def __init__(self, det=None, parse=None, pose=None, ann_file=None, **kwargs):
        super().__init__(**kwargs)
        cfgs = dict(det=det, parse=parse, pose=pose)
        for task in ('det', 'pose'):
            if ann_file and cfgs[task] and not cfgs[task].get('ann_file'):
                cfgs[task] = dict(cfgs[task], ann_file=ann_file)
        if not any(cfgs.values()):
            raise ValueError('MultiTaskMetric needs at least one of det, parse, pose')
        self.metrics = {task: METRICS.build(cfg) for task, cfg in cfgs.items() if cfg}

    @property
    def dataset_meta(self):
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta):
        self._dataset_meta = meta
        for task, metric in self.metrics.items():
            if task == 'parse':
                metric.dataset_meta = dict(classes=meta['seg_classes'],
                                           palette=meta.get('seg_palette'))
            else:
                metric.dataset_meta = meta

    def process(self, data_batch, data_samples):
        if 'det' in self.metrics:
            self.metrics['det'].process(data_batch, data_samples)
        if 'parse' in self.metrics:
            self.metrics['parse'].process(data_batch, [dict(
                img_path=s.get('img_path'),
                pred_sem_seg=dict(data=s['pred_sem_seg']['sem_seg']),
                gt_sem_seg=dict(data=s['gt_sem_seg']['sem_seg'])) for s in data_samples])
        if 'pose' in self.metrics:
            self.metrics['pose'].process(data_batch, [self._pose_sample(s) for s in data_samples])

    @staticmethod
    def _pose_sample(sample):
        """One result per image holding all its persons, in mmpose's bottom-up form.

        Keypoints come from the given person boxes when the dataset has a bbox_file, else from
        the model's own detections. ``id`` is a list of per-person ids: mmpose's ``CocoMetric``
        keeps one person per distinct scalar ``id`` (top-down samples are one person each),
        and skips that de-duplication for a sequence; one result per image also keeps all
        persons through ``BaseMetric.evaluate``, which keeps ``size`` (= images) results.
        """
        pred = sample.get('pred_pose_instances')
        pred = sample['pred_instances'] if pred is None else pred
        return dict(
            id=list(range(len(pred))), img_id=sample['img_id'], ori_shape=sample['ori_shape'],
            category_id=1, gt_instances={},
            pred_instances={k: _numpy(pred[k]) for k in
                            ('keypoints', 'keypoint_scores', 'bbox_scores', 'bboxes')})

    def compute_metrics(self, results):  # the task metrics compute their own in evaluate
        raise NotImplementedError

    def evaluate(self, size):
        merged = {}
        for task, metric in self.metrics.items():
            for key, value in metric.evaluate(size).items():
                if key in merged:
                    raise KeyError(f'MultiTaskMetric: metric {key!r} of {task} repeats another '
                                   "task's: give the task metrics distinct prefixes")
                merged[key] = value
        return merged
