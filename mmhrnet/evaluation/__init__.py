"""Checks and packaging of results for the COCO evaluation server."""
from .submission import (SubmissionFormatError, check_results, load_image_ids, load_results,
                         package_submission, submission_filename)

__all__ = [
    'SubmissionFormatError', 'check_results', 'load_image_ids', 'load_results',
    'package_submission', 'submission_filename'
]
