"""Checks and packaging of results for the COCO evaluation server, and the workflow that
tests a config and writes them."""
from .submission import (SubmissionFormatError, check_results, load_image_ids, load_results,
                         package_submission, submission_filename)
from .submit import submission_tasks, submit_coco

__all__ = [
    'SubmissionFormatError', 'check_results', 'load_image_ids',
    'load_results', 'package_submission', 'submission_filename', 'submission_tasks',
    'submit_coco'
]
