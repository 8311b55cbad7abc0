"""The table of tasks: one row per task, everything else that speaks of tasks reads it.

A config's task is its ``default_scope`` (the OpenMMLab package it runs in); the multi-task model
(``mmhrnet.HRNetMultiTask``, an mmdet detector) is the fifth name, ``'multitask'``, made of
one part per task. Each row says:

========  ============  ========  ==============  =========================  =====  =========
task      title         scope     package         metric keys (column: key)  scale  submits
========  ============  ========  ==============  =========================  =====  =========
pose      pose          mmpose    mmhrnet.pose    keypoint AP: coco/AP       100    keypoints
seg       segmentation  mmseg     mmhrnet.seg     mIoU: mIoU                 1      -
det       detection     mmdet     mmhrnet.det     box AP: coco/bbox_mAP,     100    bbox, segm
                                                  mask AP: coco/segm_mAP
========  ============  ========  ==============  =========================  =====  =========

``scale`` turns a metric into points (mmpose's and mmdet's ``CocoMetric`` report 0-1, mmseg's
``IoUMetric`` percent). The multi-task model names its parts ``pose``, ``parse`` and ``det``
(``loss_weights`` keys, ``parse/mIoU`` ... in its metrics): :func:`multitask_key`.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

MULTITASK = 'multitask'


@dataclass(frozen=True)
class Task:
    """One row of the task table.

    Attributes:
        name (str): ``'pose'``, ``'seg'`` or ``'det'``.
        title (str): The word messages use (``'segmentation'``).
        scope (str): The config's ``default_scope`` (``'mmseg'``).
        package (str): The mmhrnet subpackage registering its modules (``'mmhrnet.seg'``).
        metrics (dict): Column name -> key in the evaluation results, the first one the
            metric the task is judged on.
        scale (float): Multiplier taking the metrics to points.
        part (str): The name of this task's part inside ``HRNetMultiTask``.
        submissions (tuple): COCO test-dev result kinds it submits (``'keypoints'``,
            ``'bbox'``, ``'segm'``).
        submission_file (str): The leaderboard's file-name prefix for them.
    """
    name: str
    title: str
    scope: str
    package: str
    metrics: Dict[str, str]
    scale: float
    part: str
    submissions: Tuple[str, ...] = ()
    submission_file: str = ''

    @property
    def metric(self):
        """The key of the metric the task is judged on (``'coco/AP'``)."""
        return next(iter(self.metrics.values()))


TASKS = {t.name: t for t in (
    Task('pose', 'pose', 'mmpose', 'mmhrnet.pose', {'keypoint AP': 'coco/AP'}, 100, 'pose',
         ('keypoints', ), 'person_keypoints'),
    Task('seg', 'segmentation', 'mmseg', 'mmhrnet.seg', {'mIoU': 'mIoU'}, 1, 'parse'),
    Task('det', 'detection', 'mmdet', 'mmhrnet.det',
         {'box AP': 'coco/bbox_mAP', 'mask AP': 'coco/segm_mAP'}, 100, 'det',
         ('bbox', 'segm'), 'detections'),
)}
BY_SCOPE = {t.scope: t for t in TASKS.values()}
# The names a model of the inferencer / exporter can be: the three tasks and the multi-task one.
MODEL_TASKS = (*TASKS, MULTITASK)
TITLES = {**{t.name: t.title for t in TASKS.values()}, MULTITASK: 'multi-task'}
# The parts of HRNetMultiTask, in its order.
MULTITASK_PARTS = tuple(sorted(t.part for t in TASKS.values()))
# COCO test-dev result kind -> the leaderboard's file-name prefix.
SUBMISSION_FILES = {kind: t.submission_file for t in TASKS.values() for kind in t.submissions}


def is_multitask_model(model_cfg):
    """Whether a model config is the multi-task model (type ``*MultiTask``)."""
    return str(model_cfg.get('type', '')).split('.')[-1].endswith('MultiTask')


def task_of_scope(scope):
    """The task name of a ``default_scope``, or None for one that is no task's."""
    task = BY_SCOPE.get(scope)
    return task.name if task else None


def task_of(cfg):
    """The task (``'pose'``, ``'seg'``, ``'det'`` or ``'multitask'``) of a config.

    Raises:
        ValueError: a ``default_scope`` that is no task's.
    """
    scope = cfg.get('default_scope')
    name = task_of_scope(scope)
    if name is None:
        raise ValueError(f'{getattr(cfg, "filename", None) or "the config"}: default_scope '
                         f'{scope!r} is none of {sorted(BY_SCOPE)} (pose, seg, det)')
    if name == 'det' and 'model' in cfg and is_multitask_model(cfg.model):
        return MULTITASK
    return name


def multitask_key(task, column=None):
    """The key of a task's metric in the multi-task model's results (``'parse/mIoU'``).

    Args:
        task (str): ``'pose'``, ``'seg'`` or ``'det'``.
        column (str, optional): One of the task's metric columns; default its first.
    """
    row = TASKS[task]
    key = row.metrics[column] if column else row.metric
    return f'{row.part}/{key.split("/")[-1]}'
