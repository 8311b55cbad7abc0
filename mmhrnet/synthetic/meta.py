"""What the synthetic people are: keypoint, part and split metadata shared by the generator and
the datasets that read its output (no drawing code, no numpy)."""

# Bump whenever the same arguments would produce different bytes. 2: polygons keep holes and
# are simplified by up to POLYGON_TOLERANCE (images, parts, keypoints and boxes as in 1).
GENERATOR_VERSION = 2

COCO_KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
                  'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
                  'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
# 1-based keypoint pairs, exactly as in COCO's person category.
COCO_SKELETON = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7),
                 (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5),
                 (4, 6), (5, 7))
COCO_PERSON_CATEGORY = dict(supercategory='person', id=1, name='person',
                            keypoints=list(COCO_KEYPOINTS),
                            skeleton=[list(pair) for pair in COCO_SKELETON])

PART_CLASSES = ('background', 'head', 'torso', 'left_upper_arm', 'right_upper_arm',
                'left_lower_arm', 'right_lower_arm', 'left_upper_leg', 'right_upper_leg',
                'left_lower_leg', 'right_lower_leg')
# RGB, as mmseg palettes.
PART_PALETTE = ((0, 0, 0), (220, 20, 60), (255, 170, 0), (0, 200, 0), (0, 90, 255),
                (150, 255, 80), (0, 200, 255), (200, 0, 255), (255, 80, 160), (255, 235, 90),
                (120, 60, 255))
PART_FLIP_PAIRS = ((3, 4), (5, 6), (7, 8), (9, 10))

(HEAD, TORSO, L_UPPER_ARM, R_UPPER_ARM, L_LOWER_ARM, R_LOWER_ARM, L_UPPER_LEG,
 R_UPPER_LEG, L_LOWER_LEG, R_LOWER_LEG) = range(1, 11)
# The parts a keypoint may be seen on; any other label at its pixel means it is hidden.
KEYPOINT_PARTS = ((HEAD, ), (HEAD, ), (HEAD, ), (HEAD, ), (HEAD, ),
                  (TORSO, L_UPPER_ARM), (TORSO, R_UPPER_ARM),
                  (L_UPPER_ARM, L_LOWER_ARM), (R_UPPER_ARM, R_LOWER_ARM),
                  (L_LOWER_ARM, ), (R_LOWER_ARM, ),
                  (TORSO, L_UPPER_LEG), (TORSO, R_UPPER_LEG),
                  (L_UPPER_LEG, L_LOWER_LEG), (R_UPPER_LEG, R_LOWER_LEG),
                  (L_LOWER_LEG, ), (R_LOWER_LEG, ))

SPLITS = ('train', 'val')
# Disjoint image ids per split, as in COCO 2017: train 1.., val 100000001..
SPLIT_ID_BASE = dict(train=0, val=100_000_000)
SPLIT_CODE = dict(train=1, val=2)
MIN_VISIBLE_AREA = 64
# Polygons may cut corners by this many pixels: 2.4x smaller files, per-person IoU >= ~0.985.
POLYGON_TOLERANCE = 0.45
MAX_PERSONS = 4
JPEG_QUALITY = 90

def image_id(split, index):
    """COCO image id of the ``index``-th (0-based) image of ``split``."""
    return SPLIT_ID_BASE[split] + index + 1
