"""The synthetic-people generator: metadata (``meta``), drawing (``render``) and files
(``generate``)."""
from .generate import generate_synthetic_people
from .meta import (COCO_KEYPOINTS, COCO_PERSON_CATEGORY, COCO_SKELETON, GENERATOR_VERSION,
                   KEYPOINT_PARTS, MIN_VISIBLE_AREA, PART_CLASSES, PART_FLIP_PAIRS, PART_PALETTE,
                   POLYGON_TOLERANCE, image_id)
from .render import mask_to_polygons, render_image

__all__ = ['COCO_KEYPOINTS', 'COCO_PERSON_CATEGORY', 'COCO_SKELETON', 'GENERATOR_VERSION',
           'KEYPOINT_PARTS', 'MIN_VISIBLE_AREA', 'PART_CLASSES', 'PART_FLIP_PAIRS', 'PART_PALETTE',
           'POLYGON_TOLERANCE', 'generate_synthetic_people', 'image_id', 'mask_to_polygons',
           'render_image']
