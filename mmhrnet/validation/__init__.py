"""Checks of user input (annotation and detection files, images, configs) that every task
shares: one error naming the file and the item. Imports no task package."""
from .coco import (MalformedInputError, check_coco, check_detections, load_detections, load_json,
                   log_zero_boxes)
from .config import (ConfigOptionError, UnregisteredTypeError, check_cfg_options,
                     explain_config_errors, explain_unregistered)
from .images import NamedImageErrors, explain_image_error, image_problem, truncation_problem

__all__ = [
    'ConfigOptionError', 'MalformedInputError', 'NamedImageErrors', 'UnregisteredTypeError',
    'check_cfg_options', 'check_coco',
    'check_detections', 'load_detections', 'explain_config_errors', 'explain_image_error',
    'explain_unregistered',
    'image_problem', 'load_json', 'log_zero_boxes', 'truncation_problem'
]
