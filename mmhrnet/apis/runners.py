"""Per-task runners of the inferencer: each turns one BGR image into persons (or a class map)
and the upstream data samples that the visualisers draw.

A runner is one task's preprocess + forward + postprocess, as each of mmpose's inferencers is:
:class:`DetRunner` (mmdet's ``inference_detector`` on a pipeline built once, person boxes at the
score threshold, masks as COCO RLE), :class:`PoseRunner` (top-down pose on the persons' boxes,
all persons in one network call: :mod:`mmhrnet.apis.topdown`), :class:`SegRunner` (mmseg's
``inference_model``) and :class:`MultiTaskRunner` (the three from one pass of
``mmhrnet.HRNetMultiTask``: :mod:`mmhrnet.multitask.inference`).

A person is a dict: ``bbox`` (xyxy), ``bbox_score`` and, as the tasks give them, ``keypoints``
(K x [x, y]), ``keypoint_scores``, ``score`` (box x keypoint score, as mmpose's CocoMetric),
``mask`` (COCO RLE), ``track_id``.
"""
from typing import List, Optional

import numpy as np

PERSON = 'person'
# mmpose's CocoMetric rescoring: box score x mean of the keypoint scores above this.
KEYPOINT_SCORE_THR = 0.2


def as_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


def person_label(meta: dict) -> int:
    """The index of the person class of a detector's classes (0 when it has one class)."""
    classes = [str(c).lower() for c in (meta or {}).get('classes') or ()]
    if PERSON in classes:
        return classes.index(PERSON)
    if len(classes) <= 1:
        return 0
    raise ValueError(f"detection model: its classes {tuple(classes)[:5]}... have no 'person'; "
                     f'the pose model needs person boxes')


def instance_score(bbox_score: float, keypoint_scores: np.ndarray) -> float:
    valid = keypoint_scores[keypoint_scores > KEYPOINT_SCORE_THR]
    return float(bbox_score * (valid.mean() if valid.size else 0.))


def set_keypoints(person: dict, keypoints, keypoint_scores) -> None:
    """A person's ``keypoints``, ``keypoint_scores`` and ``score`` (box x keypoints)."""
    kpt_scores = np.asarray(keypoint_scores, dtype=np.float64)
    person['keypoints'] = np.asarray(keypoints, dtype=np.float64).tolist()
    person['keypoint_scores'] = kpt_scores.tolist()
    person['score'] = instance_score(person['bbox_score'], kpt_scores)


def given_persons(bboxes, bbox_thr: float) -> List[dict]:
    """Persons from given boxes: ``(N, 4)`` xyxy, or ``(N, 5)`` with scores (those below
    ``bbox_thr`` dropped)."""
    boxes = np.asarray(bboxes, dtype=np.float64)
    boxes = boxes.reshape(-1, boxes.shape[-1] if boxes.ndim == 2 else 4)
    if boxes.shape[1] not in (4, 5):
        raise ValueError(f'bboxes must be (N, 4) xyxy or (N, 5) xyxy + score, got '
                         f'{boxes.shape}')
    scores = boxes[:, 4] if boxes.shape[1] == 5 else np.ones(len(boxes))
    return [dict(bbox=b[:4].tolist(), bbox_score=float(sc))
            for b, sc in zip(boxes, scores) if sc >= bbox_thr]


def instance_persons(inst, label: Optional[int] = None, bbox_thr: float = 0.):
    """Persons (``bbox``, ``bbox_score``, ``mask`` RLE when the instances have masks) of mmdet
    instances, and their indices; with ``label``, the ones of that class at ``bbox_thr`` or
    above, else all."""
    from mmdet.structures.mask import encode_mask_results
    scores = as_numpy(inst.scores)
    keep = np.arange(len(scores))
    if label is not None:
        keep = np.flatnonzero((as_numpy(inst.labels) == label) & (scores >= bbox_thr))
    boxes = as_numpy(inst.bboxes)
    masks = as_numpy(inst.masks)[keep] if 'masks' in inst else None
    persons = []
    for j, i in enumerate(keep):
        person = dict(bbox=boxes[i].astype(float).tolist(), bbox_score=float(scores[i]))
        if masks is not None:
            rle = encode_mask_results([masks[j]])[0]
            person['mask'] = dict(size=[int(s) for s in rle['size']],
                                  counts=rle['counts'].decode('ascii'))
        persons.append(person)
    return persons, keep


def pose_sample(keypoints, keypoint_scores, boxes, box_scores, image_shape):
    """One ``PoseDataSample`` holding the persons of an image (as mmpose's
    ``merge_data_samples`` of its per-person samples), for ``PoseLocalVisualizer``."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    scores = np.asarray(keypoint_scores, dtype=np.float32)
    sample = PoseDataSample(metainfo=dict(img_shape=tuple(image_shape[:2])))
    sample.pred_instances = InstanceData(
        keypoints=np.asarray(keypoints, dtype=np.float32), keypoint_scores=scores,
        keypoints_visible=scores, bboxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        bbox_scores=np.asarray(box_scores, dtype=np.float32))
    return sample


def person_samples(persons: List[dict]) -> list:
    """One one-person ``PoseDataSample`` per person (box, and keypoints when it has them), as
    mmpose's trackers and smoothers read them."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    samples = []
    for person in persons:
        fields = dict(bboxes=np.array([person['bbox']], dtype=np.float32),
                      bbox_scores=np.array([person['bbox_score']], dtype=np.float32))
        if 'keypoints' in person:
            fields.update(keypoints=np.array([person['keypoints']], dtype=np.float32),
                          keypoint_scores=np.array([person['keypoint_scores']],
                                                   dtype=np.float32))
        sample = PoseDataSample()
        sample.pred_instances = InstanceData(**fields)
        samples.append(sample)
    return samples


class TaskRunner:
    """One task's model and the registry scope it runs in (mmdet's and mmseg's inference
    functions build their pipelines in whatever scope is current, and each model sets its
    own)."""

    task = ''

    def __init__(self, model):
        self.model = model

    def scope(self):
        from ..utils.build import default_scope
        return default_scope(self.model.cfg.default_scope)

    def ndarray_pipeline(self):
        """The model's mmdet test pipeline on a BGR array, built once (mmdet's
        ``inference_detector`` builds it per image)."""
        if getattr(self, '_pipeline', None) is None:
            from mmcv.transforms import Compose
            from mmdet.utils import get_test_pipeline_cfg
            pipeline = get_test_pipeline_cfg(self.model.cfg.copy())
            pipeline[0].type = 'mmdet.LoadImageFromNDArray'
            self._pipeline = Compose(pipeline)
        return self._pipeline


class DetRunner(TaskRunner):
    """Person boxes (and masks) of an mmdet detector, at ``bbox_thr`` or above."""

    task = 'det'

    def __init__(self, model, bbox_thr: float):
        super().__init__(model)
        self.bbox_thr = bbox_thr
        self.label = person_label(getattr(model, 'dataset_meta', None) or {})

    def __call__(self, image: np.ndarray, result: dict) -> List[dict]:
        from mmdet.apis import inference_detector
        with self.scope():
            sample = inference_detector(self.model, image, self.ndarray_pipeline())
        result['samples']['det'] = sample
        return instance_persons(sample.pred_instances, self.label, self.bbox_thr)[0]


class PoseRunner(TaskRunner):
    """Keypoints of a top-down pose model for the persons' boxes, set on the persons; all
    persons and their mirror images in one network call."""

    task = 'pose'

    def __init__(self, model):
        from .topdown import TopdownPose
        super().__init__(model)
        self.topdown = TopdownPose(model)

    def __call__(self, image: np.ndarray, persons: List[dict], result: dict) -> None:
        if not persons:
            return
        boxes = np.array([p['bbox'] for p in persons], dtype=np.float32)
        keypoints, scores = self.topdown(image, boxes)  # sets the scope where it needs one
        for person, kpts, kpt_scores in zip(persons, keypoints, scores):
            set_keypoints(person, kpts, kpt_scores)
        result['samples']['pose'] = pose_sample(
            keypoints, scores, boxes, [p['bbox_score'] for p in persons], image.shape)


class SegRunner(TaskRunner):
    """The class map of an mmseg segmentor (``class_map``, ``classes``)."""

    task = 'seg'

    def __call__(self, image: np.ndarray, result: dict) -> None:
        from mmseg.apis import inference_model
        with self.scope():
            sample = inference_model(self.model, image)
        result['samples']['seg'] = sample
        result['class_map'] = as_numpy(sample.pred_sem_seg.data)[0].astype(np.int32)
        result['classes'] = tuple((self.model.dataset_meta or {}).get('classes') or ())


class MultiTaskRunner(TaskRunner):
    """Persons (boxes, masks, keypoints) and the parsing map from one pass of a multi-task
    model; with given boxes, keypoints for those instead of its detections."""

    task = 'multitask'

    def __init__(self, model, bbox_thr: float):
        super().__init__(model)
        self.bbox_thr = bbox_thr
        self.label = person_label(self.task_meta('det'))

    def task_meta(self, task: str) -> dict:
        from mmhrnet.multitask.inference import task_meta
        return task_meta(getattr(self.model, 'dataset_meta', None), task)

    def __call__(self, image: np.ndarray, result: dict, bboxes=None) -> List[dict]:
        from mmhrnet.multitask.inference import predict_people
        boxes = scores = None
        if bboxes is not None:
            given = given_persons(bboxes, self.bbox_thr)
            boxes = np.array([p['bbox'] for p in given], dtype=np.float32).reshape(-1, 4)
            scores = np.array([p['bbox_score'] for p in given], dtype=np.float32)
        with self.scope():
            out = predict_people(self.model, self.ndarray_pipeline(), image, boxes, scores)
        result['samples']['det'] = out['det']
        inst = out['keypoints']
        persons, keep = instance_persons(inst, self.label if bboxes is None else None,
                                         self.bbox_thr)
        keypoints, kpt_scores = as_numpy(inst.keypoints), as_numpy(inst.keypoint_scores)
        for person, i in zip(persons, keep):
            set_keypoints(person, keypoints[i], kpt_scores[i])
        if persons:
            result['samples']['pose'] = pose_sample(
                keypoints[keep], kpt_scores[keep], [p['bbox'] for p in persons],
                [p['bbox_score'] for p in persons], image.shape)
        result['samples']['seg'] = out['seg']
        result['class_map'] = as_numpy(out['seg'].pred_sem_seg.data)[0].astype(np.int32)
        result['classes'] = tuple(self.task_meta('seg').get('classes') or ())
        return persons
