"""mmpose's COCO dataset with one clear error for each kind of malformed input file."""
from mmpose.datasets import CocoDataset

from mmhrnet.registry import DATASETS
from mmhrnet.validation import (MalformedInputError, NamedImageErrors, check_coco,
                                check_detections, load_json, log_zero_boxes)


@DATASETS.register_module()
class TopdownCocoDataset(NamedImageErrors, CocoDataset):
    """``mmpose.datasets.CocoDataset`` that checks its files at start-up (``mmhrnet.validation``).

    mmpose silently drops annotations without ``bbox`` or ``keypoints``, fails with a bare
    numpy reshape error on a wrong number of keypoints, with a ``KeyError`` on a detection
    without ``score``, and calls a corrupt image missing. Here each is one error naming the
    file and the annotation, detection or image. Zero-size boxes are errors for annotations
    (mmpose would crop nothing) and kept with one warning line for detections (as mmpose does).
    """

    def _load_annotations(self):
        num = self.metainfo['num_keypoints']
        try:
            instances, images = super()._load_annotations()
        except Exception as e:  # find the cause in the file, else name the file
            check_coco(load_json(self.ann_file), self.ann_file, num, zero_boxes=False)
            raise MalformedInputError(f'annotation file {self.ann_file}: '
                                      f'{type(e).__name__}: {e}') from e
        anns = self.coco.dataset.get('annotations', [])
        if anns and not any('keypoints' in a for a in anns):
            raise MalformedInputError(f'annotation file {self.ann_file} is not a COCO '
                                      "person_keypoints file: none of its annotations has "
                                      "'keypoints'")
        check_coco(self.coco.dataset, self.ann_file, num, zero_boxes=False)
        return instances, images

    def _load_detection_results(self):
        dets = load_json(self.bbox_file, 'detection file')
        try:
            data_list = super()._load_detection_results()
            image_ids = set(self.coco.getImgIds())
        except Exception as e:  # find the cause in the files, else name them
            data = load_json(self.ann_file)
            images = data.get('images', []) if isinstance(data, dict) else []
            image_ids = {img.get('id') for img in images if isinstance(img, dict)}
            check_detections(dets, self.bbox_file, image_ids, self.ann_file)
            raise MalformedInputError(f'detection file {self.bbox_file} (with {self.ann_file}):'
                                      f' {type(e).__name__}: {e}') from e
        zero = check_detections(dets, self.bbox_file, image_ids, self.ann_file)
        log_zero_boxes(zero, 'detections', self.bbox_file, action='kept (as mmpose does)')
        return data_list
