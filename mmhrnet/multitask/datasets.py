"""People with all three label kinds per image: boxes + masks (mmdet), keypoints per instance
(mmpose's COCO layout) and a part / person label map (mmseg), through mmdet's pipeline.

The dataset is mmdet's ``CocoDataset`` with each instance's keypoints kept and the image's part
map path added; the transforms are mmdet's, extended to move the keypoints along (and, on a
flip, to swap left / right keypoints and part labels). A label kind that an image lacks is
packed as "nothing to learn" rather than dropped, so the model masks that task's loss:

- no part map: ``gt_sem_seg`` all ``ignore_index`` (255);
- an instance without keypoints (COCO ``num_keypoints == 0``, or none annotated):
  ``keypoints_visible`` all 0, its heatmap weights 0;
- an image with no person boxes is a negative for the detector, as in mmdet.

For testing keypoints as a top-down model is tested, a ``bbox_file`` (COCO detection results,
as mmpose's) gives each test image its person boxes; the model then decodes keypoints on those
boxes (``pred_pose_instances``) besides its own detections.
"""
import os.path as osp

import mmpose
import numpy as np
import torch
from mmdet.datasets import CocoDataset
from mmdet.datasets.transforms import LoadAnnotations, PackDetInputs, RandomFlip, Resize
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmengine.structures import InstanceData
from mmpose.structures.keypoint import flip_keypoints

from mmhrnet.registry import DATASETS, TRANSFORMS
from mmhrnet.seg import rasterize_person_masks
from mmhrnet.synthetic import PART_CLASSES, PART_FLIP_PAIRS, PART_PALETTE
from mmhrnet.validation import load_detections

# mmpose's COCO keypoint metainfo (sigmas, flip indices), as installed with mmpose
COCO_POSE_METAINFO = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_',
                              'datasets', 'coco.py')
NUM_COCO_KEYPOINTS = 17


def people_metainfo(pose_metainfo=COCO_POSE_METAINFO, part_classes=PART_CLASSES,
                    part_palette=PART_PALETTE):
    """Metainfo of a people dataset: mmdet's classes, mmpose's keypoint fields, the part classes.

    Args:
        pose_metainfo (str): mmpose dataset metainfo file (``from_file`` of
            ``parse_pose_metainfo``). Defaults to mmpose's COCO one.
        part_classes (Sequence[str]): Classes of the label maps (``seg_classes`` here).
        part_palette (Sequence[tuple]): Their RGB colours.

    Returns:
        dict: ``classes=('person',)`` and ``palette`` for mmdet; ``num_keypoints``, ``sigmas``,
        ``flip_indices``, ... for mmpose; ``seg_classes`` / ``seg_palette`` for mmseg.
    """
    meta = parse_pose_metainfo(dict(from_file=pose_metainfo))
    meta.update(classes=('person', ), palette=[(220, 20, 60)],
                seg_classes=tuple(part_classes), seg_palette=[tuple(c) for c in part_palette])
    return meta


@DATASETS.register_module()
class PeopleDataset(CocoDataset):
    """mmdet's ``CocoDataset`` of people, with keypoints per instance and a label map per image.

    Instances are filtered exactly as mmdet does (each annotation goes through
    ``CocoDataset.parse_data_info``); each kept one also carries ``keypoints`` ``(K, 2)`` and
    ``keypoints_visible`` ``(K,)`` (COCO ``v > 0``; zeros when the annotation has none). The
    image's label map is ``data_prefix['seg'] / <image stem> + seg_map_suffix`` when that file
    exists, else ``seg_map_path`` is None and the packed map is all ignored.

    Args:
        pose_metainfo (str): mmpose metainfo of the keypoints (sigmas, flip indices), e.g. its
            COCO file (the default). Merged into ``metainfo``.
        require_seg_maps (bool): Fail at start-up, naming the image, when a label map is
            missing (the synthetic people have all of them). False: missing maps are
            missing labels (masked). Defaults to False.
        bbox_file (str, optional): COCO detection results giving each image its person boxes
            (``given_bboxes`` ``(N, 4)`` xyxy, ``given_bbox_scores`` ``(N,)``), the boxes the
            keypoints are then tested on, as mmpose's ``bbox_file``. Defaults to None.
        det_bbox_thr (float): Detections of ``bbox_file`` below this score are left out, as
            mmpose's. Defaults to 0.
        **kwargs: ``CocoDataset`` arguments (``ann_file``, ``data_prefix=dict(img=...,
            seg=...)``, ``seg_map_suffix``, ``pipeline``, ...).

    Example:
        >>> ds = PeopleDataset(data_root='data/synthetic_people/',
        ...     ann_file='annotations/person_keypoints_val.json',
        ...     data_prefix=dict(img='val/', seg='parts/val/'), seg_map_suffix='.png')
        >>> ds[0]['instances'][0]['keypoints'].shape
        (17, 2)
    """
    METAINFO = people_metainfo()

    def __init__(self, *args, pose_metainfo=COCO_POSE_METAINFO, require_seg_maps=False,
                 bbox_file=None, det_bbox_thr=0.0, **kwargs):
        self.require_seg_maps = require_seg_maps
        self.bbox_file, self.det_bbox_thr = bbox_file, det_bbox_thr
        if pose_metainfo != COCO_POSE_METAINFO:
            meta = people_metainfo(pose_metainfo)
            meta.update(kwargs.pop('metainfo', None) or {})
            kwargs['metainfo'] = meta
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        data_list = super().load_data_list()
        if self.bbox_file:
            boxes = self._given_boxes({info['img_id'] for info in data_list})
            for info in data_list:
                info['given_bboxes'], info['given_bbox_scores'] = boxes.get(
                    info['img_id'], (np.zeros((0, 4), np.float32), np.zeros(0, np.float32)))
        return data_list

    def _given_boxes(self, image_ids):
        """``image id: (boxes (N, 4) xyxy, scores (N,))`` of the person detections of
        ``bbox_file`` (category 1, score >= ``det_bbox_thr``), checked first."""
        boxes = load_detections(self.bbox_file, image_ids=image_ids, ann_file=self.ann_file,
                                keep_zero=True, score_thr=self.det_bbox_thr)
        return {img_id: (rows[:, :4].astype(np.float32), rows[:, 4].astype(np.float32))
                for img_id, rows in boxes.items()}

    def parse_data_info(self, raw_data_info):
        img_info, anns = raw_data_info['raw_img_info'], raw_data_info['raw_ann_info']
        data_info = super().parse_data_info(dict(raw_img_info=img_info, raw_ann_info=[]))
        num_kpts = len(self.metainfo.get('flip_indices', range(NUM_COCO_KEYPOINTS)))
        for ann in anns:
            # mmdet's own filter, one annotation at a time, so each kept instance has its ann
            kept = super().parse_data_info(dict(raw_img_info=img_info, raw_ann_info=[ann]))
            for instance in kept['instances']:
                instance.update(_keypoints_of(ann, num_kpts, self.ann_file))
                data_info['instances'].append(instance)
        path = data_info['seg_map_path']
        if path is not None and not osp.isfile(path):
            if self.require_seg_maps:
                raise FileNotFoundError(f'label map {path} of image {data_info["img_path"]} '
                                        f'({self.ann_file}) not found')
            data_info['seg_map_path'] = None
        return data_info


def _keypoints_of(ann, num_kpts, ann_file):
    """``keypoints`` ``(K, 2)`` and ``keypoints_visible`` ``(K,)`` of one COCO annotation."""
    raw = ann.get('keypoints')
    if not raw:
        return dict(keypoints=np.zeros((num_kpts, 2), np.float32),
                    keypoints_visible=np.zeros(num_kpts, np.float32))
    if len(raw) != 3 * num_kpts:
        raise ValueError(f'{ann_file}: annotation {ann.get("id")} of image {ann["image_id"]} has '
                         f'{len(raw)} keypoint values, expected {3 * num_kpts}')
    kpts = np.asarray(raw, np.float32).reshape(num_kpts, 3)
    return dict(keypoints=kpts[:, :2], keypoints_visible=np.minimum(kpts[:, 2], 1))


@TRANSFORMS.register_module()
class LoadPeopleAnnotations(LoadAnnotations):
    """mmdet's ``LoadAnnotations`` plus ``gt_keypoints`` ``(N, K, 2)`` and
    ``gt_keypoints_visible`` ``(N, K)``; with ``with_seg``, an image without a label map gets
    one of ``ignore_index`` at its original size (its parsing loss is masked).

    Args:
        with_keypoints (bool): Load the keypoints. Defaults to True.
        seg_from_masks (bool): With ``with_seg``, make the label map from the instance
            polygons instead of a file (person 1, background 0, crowd ``ignore_index``:
            ``mmhrnet.seg.rasterize_person_masks``), for COCO. Defaults to False.
        ignore_index (int): Label of unlabelled pixels. Defaults to 255.
        **kwargs: mmdet ``LoadAnnotations`` arguments (``with_bbox``, ``with_mask``, ...).
    """

    def __init__(self, with_keypoints=True, seg_from_masks=False, ignore_index=255, **kwargs):
        super().__init__(**kwargs)
        self.with_keypoints = with_keypoints
        self.seg_from_masks = seg_from_masks
        self.ignore_index = ignore_index

    def transform(self, results):
        results = super().transform(results)
        if self.with_keypoints:
            instances = results.get('instances', [])
            k = len(instances[0]['keypoints_visible']) if instances else NUM_COCO_KEYPOINTS
            results['gt_keypoints'] = np.array(
                [i['keypoints'] for i in instances], np.float32).reshape(-1, k, 2)
            results['gt_keypoints_visible'] = np.array(
                [i['keypoints_visible'] for i in instances], np.float32).reshape(-1, k)
        if self.with_seg and self.seg_from_masks:
            anns = [dict(segmentation=i['mask'], iscrowd=i['ignore_flag'])
                    for i in results.get('instances', []) if i.get('mask')]
            results['gt_seg_map'] = rasterize_person_masks(anns, *results['ori_shape'][:2],
                                                           self.ignore_index)
            results['ignore_index'] = self.ignore_index
        if self.with_seg and 'gt_seg_map' not in results:
            results['gt_seg_map'] = np.full(results['ori_shape'][:2], self.ignore_index,
                                            np.uint8)
            results['ignore_index'] = self.ignore_index
        return results


@TRANSFORMS.register_module()
class ResizePeople(Resize):
    """mmdet's ``Resize`` that also scales ``gt_keypoints`` (pixel-index coordinates, as COCO
    keypoints: pixel ``i`` is centred at ``i``)."""

    def transform(self, results):
        results = super().transform(results)
        if results.get('gt_keypoints') is not None:
            scale = np.asarray(results['scale_factor'], np.float32)  # (w, h)
            results['gt_keypoints'] = (results['gt_keypoints'] + 0.5) * scale - 0.5
        return results


@TRANSFORMS.register_module()
class RandomFlipPeople(RandomFlip):
    """mmdet's ``RandomFlip`` (horizontal only) that also flips ``gt_keypoints`` and swaps left
    / right keypoints (``flip_indices`` of the keypoint metainfo) and label-map classes.

    Args:
        flip_indices (Sequence[int], optional): Keypoint order after a flip. Defaults to
            COCO's, from mmpose's metainfo.
        swap_seg_labels (Sequence[tuple[int, int]]): Label pairs to swap, as mmseg's
            ``RandomFlip``. Defaults to the synthetic parts' ``PART_FLIP_PAIRS``.
        **kwargs: ``RandomFlip`` arguments (``prob``).
    """

    def __init__(self, flip_indices=None, swap_seg_labels=PART_FLIP_PAIRS, **kwargs):
        if kwargs.get('direction', 'horizontal') != 'horizontal':
            raise ValueError('RandomFlipPeople flips horizontally only (keypoints swap sides); '
                             f'got direction={kwargs["direction"]!r}')
        super().__init__(**kwargs)
        if flip_indices is None:
            flip_indices = PeopleDataset.METAINFO['flip_indices']
        self.flip_indices = list(flip_indices)
        self.swap_seg_labels = [tuple(p) for p in swap_seg_labels]

    def _flip(self, results):
        super()._flip(results)
        if results.get('gt_keypoints') is not None:
            h, w = results['img'].shape[:2]
            results['gt_keypoints'], results['gt_keypoints_visible'] = flip_keypoints(
                results['gt_keypoints'], results['gt_keypoints_visible'], (w, h),
                self.flip_indices)
        if results.get('gt_seg_map') is not None and self.swap_seg_labels:
            seg, swapped = results['gt_seg_map'], results['gt_seg_map'].copy()
            for a, b in self.swap_seg_labels:
                swapped[seg == a], swapped[seg == b] = b, a
            results['gt_seg_map'] = swapped


@TRANSFORMS.register_module()
class PackPeopleInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` that also packs ``gt_instances.keypoints`` and
    ``gt_instances.keypoints_visible`` (split by ``gt_ignore_flags`` like the boxes)."""
    mapping_table = dict(PackDetInputs.mapping_table, gt_keypoints='keypoints',
                         gt_keypoints_visible='keypoints_visible')

    def transform(self, results):
        """Also packs ``given_bboxes`` (original-image xyxy, from a ``bbox_file``) and their
        scores as ``data_samples.given_instances``."""
        packed = super().transform(results)
        if results.get('given_bboxes') is not None:
            boxes = np.asarray(results['given_bboxes'], np.float32).reshape(-1, 4)
            scores = results.get('given_bbox_scores')
            scores = np.ones(len(boxes), np.float32) if scores is None else scores
            packed['data_samples'].given_instances = InstanceData(
                bboxes=torch.from_numpy(boxes),
                scores=torch.as_tensor(np.asarray(scores, np.float32).reshape(-1)))
        return packed
