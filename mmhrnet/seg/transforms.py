"""Label-map loading with clear errors, and COCO person masks rasterised on the fly."""
import os.path as osp

import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from xtcocotools import mask as mask_utils

from mmhrnet.registry import TRANSFORMS


def check_seg_map(seg_map, path, image_shape=None, num_classes=None, ignore_index=255,
                  image_path=None):
    """Fail with one message naming ``path`` if a label map does not fit its image or classes.

    Args:
        seg_map (np.ndarray): ``(H, W)`` labels (after any label mapping).
        path (str): Label map file, for the message.
        image_shape (tuple, optional): ``(H, W)`` of the image as loaded, before any resizing.
        num_classes (int, optional): Valid labels are ``0 .. num_classes - 1`` and
            ``ignore_index``.
        ignore_index (int): Label of pixels left out of loss and metric.
        image_path (str, optional): The image, for the message.

    Raises:
        ValueError: Size or label values do not fit.
    """
    if image_shape is not None and tuple(seg_map.shape[:2]) != tuple(image_shape[:2]):
        raise ValueError(
            f'label map {path} is {seg_map.shape[0]}x{seg_map.shape[1]} (HxW) but its image '
            f'{image_path or ""} is {image_shape[0]}x{image_shape[1]}')
    if num_classes is not None:
        values = np.unique(seg_map)
        bad = values[(values >= num_classes) & (values != ignore_index)]
        if bad.size:
            raise ValueError(
                f'label map {path} has values {bad.tolist()[:10]} outside the classes '
                f'0..{num_classes - 1} (ignore index {ignore_index})')


@TRANSFORMS.register_module()
class LoadSegAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that checks what it loaded.

    A missing label map, one whose size differs from its image's (``ori_shape``, so place it
    after ``LoadImageFromFile``) and labels outside ``0 .. num_classes - 1`` other than
    ``ignore_index`` each fail with one message naming the file. mmseg itself fails later
    (shape errors in the loss) or not at all (the IoU metric skips such labels).

    Args:
        num_classes (int, optional): Number of classes; None skips the value check.
        ignore_index (int): Ignored label. Defaults to 255.
        **kwargs: ``LoadAnnotations`` arguments.
    """

    def __init__(self, num_classes=None, ignore_index=255, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _load_seg_map(self, results):
        path = results['seg_map_path']
        if isinstance(path, str) and '://' not in path and not osp.isfile(path):
            raise FileNotFoundError(f'label map not found: {path} (for image '
                                    f'{results.get("img_path")})')
        super()._load_seg_map(results)
        check_seg_map(results['gt_seg_map'], path, results.get('ori_shape'), self.num_classes,
                      self.ignore_index, results.get('img_path'))

    def __repr__(self):
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')


def rasterize_person_masks(anns, height, width, ignore_index=255):
    """One person / background map from COCO person annotations.

    Args:
        anns (list[dict]): COCO annotations with ``segmentation`` (polygons, RLE or
            uncompressed RLE) and ``iscrowd``.
        height (int): Image height.
        width (int): Image width.
        ignore_index (int): Label of crowd regions not covered by a single person.

    Returns:
        np.ndarray: ``(height, width)`` uint8 map, 0 background, 1 person, ``ignore_index``
        crowd.
    """
    seg = np.zeros((height, width), np.uint8)
    crowd = np.zeros((height, width), bool)
    for ann in anns:
        segm = ann['segmentation']
        if isinstance(segm, list):
            if not segm:
                continue
            rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
        elif isinstance(segm.get('counts'), list):
            rle = mask_utils.frPyObjects(segm, height, width)
        else:
            rle = segm
        m = mask_utils.decode(rle).astype(bool)
        if m.shape != (height, width):
            raise ValueError(f'annotation {ann.get("id")} of image {ann.get("image_id")} '
                             f'decodes to {m.shape}, not the image size {(height, width)}')
        if ann.get('iscrowd', 0):
            crowd |= m
        else:
            seg[m] = 1
    seg[crowd & (seg == 0)] = ignore_index
    return seg


@TRANSFORMS.register_module()
class LoadCocoPersonSeg:
    """Rasterise the COCO person annotations of ``results['person_anns']`` (from
    ``mmhrnet.CocoPersonSegDataset``) into ``gt_seg_map`` at the original image size, as
    mmseg's ``LoadAnnotations`` would load a label file.

    Args:
        ignore_index (int): Label of crowd regions. Defaults to 255.
    """

    def __init__(self, ignore_index=255):
        self.ignore_index = ignore_index

    def __call__(self, results):
        h, w = results['ori_height'], results['ori_width']
        if 'ori_shape' in results and tuple(results['ori_shape'][:2]) != (h, w):
            raise ValueError(f'image {results["img_path"]} is {results["ori_shape"][0]}x'
                             f'{results["ori_shape"][1]} but its annotation says {h}x{w}')
        results['gt_seg_map'] = rasterize_person_masks(results['person_anns'], h, w,
                                                       self.ignore_index)
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self):
        return f'{type(self).__name__}(ignore_index={self.ignore_index})'
