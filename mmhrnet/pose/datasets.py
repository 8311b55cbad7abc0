"""mmpose's COCO dataset with one clear error for each kind of malformed input file."""
import json
import os.path as osp

from mmpose.datasets import CocoDataset

from mmhrnet.registry import DATASETS


@DATASETS.register_module()
class TopdownCocoDataset(CocoDataset):
    """``mmpose.datasets.CocoDataset`` that names the file and entry of malformed input.

    mmpose silently skips annotations without ``keypoints`` (so an instances or captions file
    becomes an empty dataset) and fails with a bare ``KeyError`` on a detection whose image is
    not in the annotation file. Here both are errors naming the file. Everything mmpose
    handles itself (persons without labelled keypoints or with boxes outside the image are
    skipped for training; missing or corrupt images fail naming the image) is left to it.
    """

    def _load_annotations(self):
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'annotation file not found: {self.ann_file}')
        try:
            instances, images = super()._load_annotations()
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f'annotation file {self.ann_file} is not valid JSON: {e}') from None
        except (KeyError, TypeError) as e:
            raise ValueError(f'annotation file {self.ann_file} is not in COCO format: '
                             f'missing or malformed {e}') from None
        anns = self.coco.dataset.get('annotations', [])
        if anns and not any('keypoints' in a for a in anns):
            raise ValueError(f'annotation file {self.ann_file} is not a COCO person_keypoints '
                             "file: none of its annotations has 'keypoints'")
        num = self.metainfo['num_keypoints']
        for inst in instances:
            if inst['keypoints'].shape[1] != num:
                raise ValueError(
                    f"annotation {inst['id']} in {self.ann_file} has "
                    f"{inst['keypoints'].shape[1]} keypoints; this dataset has {num}")
        return instances, images

    def _load_detection_results(self):
        if not osp.isfile(self.bbox_file):
            raise FileNotFoundError(f'detection file not found: {self.bbox_file}')
        try:
            return super()._load_detection_results()
        except KeyError:
            known = set(self.coco.getImgIds())
            with open(self.bbox_file) as f:
                unknown = sorted({d['image_id'] for d in json.load(f)} - known)
            raise ValueError(
                f'detection file {self.bbox_file} names {len(unknown)} image id(s) that are '
                f'not in {self.ann_file}, e.g. {unknown[:5]}') from None
