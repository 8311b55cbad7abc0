"""Checks and packaging of results for the COCO evaluation server, and the workflow that
tests a config and writes them."""
from .submission import (SubmissionFormatError, check_results, load_image_ids, load_results,
                         package_submission, submission_filename)
from .submit import SUBMISSION_TASKS, submission_tasks, submit_coco

__all__ = [
    'SUBMISSION_TASKS', 'SubmissionFormatError', 'check_results', 'load_image_ids',
    'load_results', 'package_submission', 'submission_filename', 'submission_tasks',
    'submit_coco'
]
