"""One HRNet pass for pose, human parsing and person detection / instance masks.

Registered in mmhrnet's scope (``type='mmhrnet.HRNetMultiTask'`` etc., no ``custom_imports``):
``HRNetMultiTask``, ``PeopleDataset``, ``LoadPeopleAnnotations``, ``ResizePeople``,
``RandomFlipPeople``, ``PackPeopleInputs``, ``MultiTaskMetric``.
"""
from .datasets import (LoadPeopleAnnotations, PackPeopleInputs, PeopleDataset, RandomFlipPeople,
                       ResizePeople, people_metainfo)
from .keypoints import RoIKeypointHead, topdown_boxes
from .metrics import MultiTaskMetric
from .model import HRNetMultiTask, load_single_task, task_state_dict

__all__ = [
    'HRNetMultiTask', 'LoadPeopleAnnotations', 'MultiTaskMetric', 'PackPeopleInputs',
    'PeopleDataset', 'RandomFlipPeople', 'ResizePeople', 'RoIKeypointHead', 'load_single_task',
    'people_metainfo', 'task_state_dict', 'topdown_boxes'
]
