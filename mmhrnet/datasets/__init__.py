from .synthetic_people import (COCO_KEYPOINTS, COCO_PERSON_CATEGORY, COCO_SKELETON,
                               GENERATOR_VERSION, KEYPOINT_PARTS, PART_CLASSES, PART_FLIP_PAIRS,
                               PART_PALETTE, generate_synthetic_people, mask_to_polygons,
                               render_image)

__all__ = ['COCO_KEYPOINTS', 'COCO_PERSON_CATEGORY', 'COCO_SKELETON', 'GENERATOR_VERSION',
           'KEYPOINT_PARTS', 'PART_CLASSES', 'PART_FLIP_PAIRS', 'PART_PALETTE',
           'generate_synthetic_people', 'mask_to_polygons', 'render_image']
