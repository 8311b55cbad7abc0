"""mmdet's COCO dataset with one clear error for each kind of malformed input file."""
from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO

from mmhrnet.registry import DATASETS
from mmhrnet.validation import (MalformedInputError, NamedImageErrors, check_coco, load_json,
                                log_zero_boxes)


class _CheckedCOCO(COCO):
    """mmdet's COCO API that checks the file (``mmhrnet.validation``) before indexing it."""

    def __init__(self, annotation_file=None):
        super().__init__()  # empty: pycocotools would read the file without checking it
        self.dataset = load_json(annotation_file)
        zero = check_coco(self.dataset, annotation_file)
        log_zero_boxes(zero, 'annotations', annotation_file, action='skipped (as mmdet does)')
        self.createIndex()
        self.img_ann_map, self.cat_img_map = self.imgToAnns, self.catToImgs


@DATASETS.register_module()
class CheckedCocoDataset(NamedImageErrors, CocoDataset):
    """``mmdet.datasets.CocoDataset`` that checks its annotation file at start-up.

    mmdet fails on a malformed file with a bare ``KeyError`` / ``TypeError`` from inside its
    parser, or silently drops what it cannot use (annotations of unknown images), and reports
    a corrupt image as missing. Here each is one error naming the file and the annotation or
    image; zero-size boxes are skipped as mmdet does, with one warning line giving their count.
    Use it where a config says ``type='CocoDataset'``.
    """
    COCOAPI = _CheckedCOCO

    def load_data_list(self):
        try:
            return super().load_data_list()
        except (MalformedInputError, FileNotFoundError):
            raise
        except Exception as e:  # the file passed the checks; still name it
            raise MalformedInputError(f'annotation file {self.ann_file}: '
                                      f'{type(e).__name__}: {e}') from e
