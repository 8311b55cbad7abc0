"""Segmentation datasets beside mmseg's: the project's synthetic people (human parsing and
person / background) and COCO person masks (person / background).

mmseg's own Cityscapes, PASCAL-Context and LIP datasets are used as they are.
"""
import os.path as osp

from mmseg.datasets import BaseSegDataset

from mmhrnet.registry import DATASETS
from mmhrnet.synthetic import PART_CLASSES, PART_FLIP_PAIRS, PART_PALETTE
from mmhrnet.validation import NamedImageErrors, check_coco, load_json

PERSON_CLASSES = ('background', 'person')
PERSON_PALETTE = ((0, 0, 0), (220, 20, 60))
# Every body part of the synthetic part maps is "person".
PARTS_TO_PERSON = {i: 1 for i in range(1, len(PART_CLASSES))}


@DATASETS.register_module()
class SyntheticPartsDataset(NamedImageErrors, BaseSegDataset):
    """Human parsing on the synthetic people (``mmhrnet.synthetic``): 11
    classes, background, head, torso and left / right upper / lower arms and legs.

    Layout: ``<root>/{train,val}/*.jpg`` and ``<root>/parts/{train,val}/*.png``; use
    ``data_prefix=dict(img_path='train', seg_map_path='parts/train')``. Classes have sides:
    flip with ``RandomFlip(swap_seg_labels=FLIP_PAIRS)`` and test flips with
    ``mmhrnet.SwapLabelsSegTTAModel``. An image without its label map fails at start-up,
    naming both.

    Example:
        >>> ds = SyntheticPartsDataset(data_root='data/synthetic_people', data_prefix=dict(
        ...     img_path='val', seg_map_path='parts/val'))
        >>> len(ds), ds.metainfo['classes'][3]
        (200, 'left_upper_arm')
    """
    METAINFO = dict(classes=PART_CLASSES, palette=[list(c) for c in PART_PALETTE])
    FLIP_PAIRS = PART_FLIP_PAIRS

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self):
        img_dir = self.data_prefix.get('img_path')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'image folder not found: {img_dir} (make the data with python '
                'tools/misc/make_synthetic_people.py --out data/synthetic_people)')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(f'no {self.img_suffix} images in {img_dir}')
        for info in data_list:
            if 'seg_map_path' in info and not osp.isfile(info['seg_map_path']):
                raise FileNotFoundError(f'label map {info["seg_map_path"]} of image '
                                        f'{info["img_path"]} not found')
        return data_list


@DATASETS.register_module()
class SyntheticPersonSegDataset(SyntheticPartsDataset):
    """Person / background on the synthetic people: the part maps with every part as
    "person" (same layout and arguments as :class:`SyntheticPartsDataset`)."""
    METAINFO = dict(classes=PERSON_CLASSES, palette=[list(c) for c in PERSON_PALETTE])
    FLIP_PAIRS = ()

    def load_data_list(self):
        data_list = super().load_data_list()
        for info in data_list:  # applied by LoadAnnotations
            info['label_map'] = PARTS_TO_PERSON
        return data_list


@DATASETS.register_module()
class CocoPersonSegDataset(NamedImageErrors, BaseSegDataset):
    """Person / background maps from COCO instance annotations, rasterised on the fly by
    ``mmhrnet.LoadCocoPersonSeg`` (use it where mmseg's pipelines say ``LoadAnnotations``):
    the union of the person masks is 1, crowd regions outside them are ignored (255).

    Args:
        ann_file (str): COCO json with ``person`` annotations carrying ``segmentation``
            (polygons or RLE), e.g. ``annotations/instances_val2017.json`` or
            ``person_keypoints_val2017.json``.
        data_prefix (dict): ``img_path``: the image folder.
        **kwargs: ``BaseSegDataset`` arguments.

    Example:
        >>> ds = CocoPersonSegDataset(ann_file='../shared/data/coco_tiny/test_coco.json',
        ...     data_prefix=dict(img_path='../shared/data/coco_tiny'))
        >>> len(ds)
        4
    """
    METAINFO = dict(classes=PERSON_CLASSES, palette=[list(c) for c in PERSON_PALETTE])

    def load_data_list(self):
        coco = load_json(self.ann_file, 'COCO annotation file')
        check_coco(coco, self.ann_file, need_bbox=False, need_segmentation=True)
        person_ids = {c['id'] for c in coco['categories'] if c.get('name') == 'person'}
        if not person_ids:
            raise KeyError(f'{self.ann_file} has no "person" category')
        anns = {}
        for ann in coco['annotations']:
            if ann['category_id'] in person_ids and 'segmentation' in ann:  # crowds may lack it
                anns.setdefault(ann['image_id'], []).append(
                    dict(id=ann.get('id'), image_id=ann['image_id'],
                         segmentation=ann['segmentation'], iscrowd=ann.get('iscrowd', 0)))
        img_dir = self.data_prefix.get('img_path', '')
        data_list = []
        for img in sorted(coco['images'], key=lambda x: x['id']):
            path = osp.join(img_dir, img['file_name'])
            if not osp.isfile(path):
                raise FileNotFoundError(f'image {path} of {self.ann_file} not found')
            data_list.append(dict(
                img_path=path, seg_map_path=None, img_id=img['id'],
                ori_height=img['height'], ori_width=img['width'],
                person_anns=anns.get(img['id'], []), label_map=None,
                reduce_zero_label=False, seg_fields=[]))
        return data_list
