"""Calibration inputs for post-training quantisation, through the config's test pipeline (no
augmentation) and the model's data preprocessor, from one of two sources:

* the config's own training set (the default): ``num`` evenly spaced samples;
* the user's images (``images``: a folder, a video or one image file, read by
  :mod:`mmhrnet.apis.sources`): ``num`` evenly spaced images or frames. Seg and det take the
  whole images; pose takes person crops, their boxes from a detector (``det``), from a COCO
  detection results file (``bbox_file``, by image id as ``tools/infer.py --bbox-file``), or
  else the whole image as one box (as mmpose's ``inference_topdown`` without boxes).

    >>> inputs = calibration_inputs(cfg, model.data_preprocessor, 32, images='my_photos/')
    >>> inputs[0].shape
    (1, 3, 256, 192)
"""
import copy
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

# Person boxes below this score are not calibrated on (the inferencer's default, mmpose's demos).
BBOX_THR = 0.3


def calibration_inputs(cfg, data_preprocessor, num, shape=None, images=None, det=None,
                       bbox_file=None):
    """``num`` network inputs (``(1, 3, H, W)`` float32 arrays), resized to ``shape`` (H, W)
    where given (a static export).

    Args:
        cfg (Config): The model's config (its test pipeline and, by default, training set).
        data_preprocessor (nn.Module): The model's data preprocessor.
        num (int): How many inputs (pose: person crops; seg, det: images).
        shape (tuple[int, int] | None): Resize every input to this (H, W).
        images (str | None): A folder of images, a video or an image file to calibrate on
            instead of the training set.
        det (tuple | None): Pose with ``images``: the person detector's ``(config,
            checkpoint)`` (torch); its person boxes at score ``BBOX_THR`` or above are the
            crops.
        bbox_file (str | None): Pose with ``images``: COCO detection results giving the crops
            (those at score ``BBOX_THR`` or above).

    Raises:
        FileNotFoundError: Without ``images``, naming the training set's annotation file when
            it cannot be read (and the option that gives images instead).
        InferenceInputError: ``images`` that do not exist, hold no image, or in which the
            detector / the bbox file finds no person.
    """
    if num <= 0:
        raise ValueError(f'--calib must be a positive number of images, got {num}')
    init_default_scope(cfg.default_scope)
    if images is None:
        if det is not None or bbox_file is not None:
            raise ValueError('calibration: a detector or a bbox file picks person crops in '
                             '--calib-images; give the images too')
        samples = _training_samples(cfg, num)
    else:
        samples = _image_samples(cfg, num, images, det, bbox_file)
    inputs = []
    with torch.no_grad():
        for sample in samples:
            batch = data_preprocessor(pseudo_collate([sample]), False)['inputs']
            if shape is not None and tuple(batch.shape[2:]) != tuple(shape):
                batch = F.interpolate(batch, size=tuple(shape), mode='bilinear',
                                      align_corners=False)
            inputs.append(batch.float().numpy())
    return inputs


def _evenly(items, num):
    """At most ``num`` evenly spaced items of a list, first and last included."""
    if len(items) <= num:
        return list(items)
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, num).round()]


def _training_samples(cfg, num):
    from mmengine.registry import DATASETS
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.pipeline = cfg.test_dataloader.dataset.pipeline
    dataset_cfg.pop('indices', None)
    where = f'{dataset_cfg.get("data_root", "")}{dataset_cfg.get("ann_file", "")}'
    try:
        dataset = DATASETS.build(dataset_cfg)
    except (FileNotFoundError, OSError) as e:
        raise FileNotFoundError(
            f'calibration reads the config\'s training set ({where}) when no images are '
            f'given, and it cannot be read: {e}. Calibrate on your own images instead: '
            f'--calib-images DIR_OR_VIDEO (export_model(..., calib_images=...))') from None
    if len(dataset) == 0:
        raise ValueError(f'calibration: the training set {where} is empty; give your own '
                         f'images with --calib-images DIR_OR_VIDEO')
    return [dataset[i] for i in _evenly(range(len(dataset)), num)]


def calibration_frames(images, num):
    """``num`` evenly spaced frames of a folder (by name), a video or one image file.

    Raises:
        InferenceInputError: Naming ``images`` when it does not exist or holds no image.
    """
    from mmhrnet.apis.sources import (Frame, InferenceInputError, count_frames, folder_images,
                                      read_image, source_kind, video_frames)
    try:
        kind = source_kind(images)
        if kind == 'folder':
            return [Frame(read_image(p), osp.splitext(osp.basename(p))[0], path=p)
                    for p in _evenly(folder_images(images), num)]
        if kind == 'video':
            total = count_frames(images) or num
            return list(video_frames(images, every=max(1, total // num), max_frames=num))
        if kind == 'image':
            return [Frame(read_image(images), osp.splitext(osp.basename(images))[0],
                          path=images)]
        raise InferenceInputError(f'{images!r} is a {kind}, not a folder, video or image file')
    except InferenceInputError as e:
        raise InferenceInputError(f'int8 calibration images (--calib-images): {e}') from None


def _test_pipeline(cfg):
    """The config's test pipeline on a BGR array in ``results['img']``: the image and
    annotation loaders are left out (the image is given, a user's image has no labels)."""
    from mmengine.dataset import Compose
    return Compose([t for t in cfg.test_dataloader.dataset.pipeline
                    if not str(t['type']).split('.')[-1].startswith('Load')])


def _person_boxes(frames, det, bbox_file):
    """Per frame, ``(N, 4)`` xyxy person boxes: the detector's, the bbox file's, or the whole
    image."""
    if det is not None:
        from mmhrnet.apis import HRNetInferencer
        detector = HRNetInferencer(det=det, track=None, bbox_thr=BBOX_THR)
        return [np.array([p['bbox'] for p in detector.predict(f)['persons']],
                         dtype=np.float32).reshape(-1, 4) for f in frames]
    if bbox_file is not None:
        from mmhrnet.apis.outputs import image_id_of
        from mmhrnet.apis.sources import load_bbox_file
        by_id = load_bbox_file(bbox_file)
        boxes = [by_id.get(image_id_of(f, i), np.zeros((0, 5))) for i, f in enumerate(frames)]
        return [b[b[:, 4] >= BBOX_THR, :4].astype(np.float32) for b in boxes]
    return [np.array([[0, 0, f.image.shape[1], f.image.shape[0]]], dtype=np.float32)
            for f in frames]


def _image_samples(cfg, num, images, det, bbox_file):
    from mmhrnet.apis.sources import InferenceInputError

    from .task import task_of
    task = task_of(cfg)
    if task != 'pose' and (det is not None or bbox_file is not None):
        raise ValueError(f'calibration: a detector or a bbox file gives person crops for a '
                         f'pose model; this is a {task} model (whole images are used)')
    frames = calibration_frames(images, num)
    pipeline = _test_pipeline(cfg)

    def info(frame, index):
        h, w = frame.image.shape[:2]
        return dict(img=frame.image, img_shape=(h, w), ori_shape=(h, w), img_id=index,
                    img_path=frame.path or frame.name)

    if task != 'pose':
        return [pipeline(info(f, i)) for i, f in enumerate(frames)]
    crops = [(i, box) for i, boxes in enumerate(_person_boxes(frames, det, bbox_file))
             for box in boxes]
    if not crops:
        source = 'the detector' if det is not None else f'the bbox file {bbox_file}'
        raise InferenceInputError(f'int8 calibration images (--calib-images) {images}: '
                                  f'{source} gives no person box in its {len(frames)} images')
    return [pipeline(dict(info(frames[i], i), bbox=box[None],
                          bbox_score=np.ones(1, dtype=np.float32)))
            for i, box in _evenly(crops, num)]
