"""HRNetInferencer: pose, detection and segmentation on images, folders, videos and webcams.

The upstream inference functions do the work (mmdet ``inference_detector``, mmpose
``inference_topdown``, mmseg ``inference_model``) and the upstream visualisers draw
(``DetLocalVisualizer``, ``PoseLocalVisualizer``, ``SegLocalVisualizer``). The glue here:
the detector's person boxes go to the top-down pose model (the whole image is the box when
there is no detector), persons keep their identity across video frames and their keypoints
can be smoothed, and each frame gives one plain result. A multi-task model
(``mmhrnet.HRNetMultiTask``) gives all three from one pass: its boxes and masks, the
keypoints it decodes for them (or for given boxes) and its parsing map.
"""
import itertools
from typing import Dict, Iterator, List, Optional

import cv2
import numpy as np

from .models import TASKS, load_task_model
from .sources import Frame, iter_frames
from .tracking import KeypointSmoother, PoseTracker

PERSON = 'person'
# mmpose's CocoMetric rescoring: box score x mean of the keypoint scores above this.
KEYPOINT_SCORE_THR = 0.2
_instance_ids = itertools.count()


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


def _person_label(meta: dict) -> int:
    classes = [str(c).lower() for c in (meta or {}).get('classes') or ()]
    if PERSON in classes:
        return classes.index(PERSON)
    if len(classes) <= 1:
        return 0
    raise ValueError(f"detection model: its classes {tuple(classes)[:5]}... have no 'person'; "
                     f'the pose model needs person boxes')


def _instance_score(bbox_score: float, keypoint_scores: np.ndarray) -> float:
    valid = keypoint_scores[keypoint_scores > KEYPOINT_SCORE_THR]
    return float(bbox_score * (valid.mean() if valid.size else 0.))


def _set_keypoints(person: dict, keypoints, keypoint_scores) -> None:
    """A person's ``keypoints``, ``keypoint_scores`` and ``score`` (box x keypoints)."""
    kpt_scores = np.asarray(keypoint_scores, dtype=np.float64)
    person['keypoints'] = np.asarray(keypoints, dtype=np.float64).tolist()
    person['keypoint_scores'] = kpt_scores.tolist()
    person['score'] = _instance_score(person['bbox_score'], kpt_scores)


class HRNetInferencer:
    """Runs any subset of pose, person detection and segmentation on images and videos.

    Args:
        pose: ``(config, checkpoint)`` of a top-down pose model (torch), or the export folder
            of one (``backend`` onnxruntime / openvino).
        det: The same for a detector (mmdet); its person boxes feed the pose model.
        seg: The same for a segmentor (mmseg); gives the class map.
        multitask: ``(config, checkpoint)`` of an ``mmhrnet.HRNetMultiTask``, or its export
            folder (``backend`` onnxruntime / openvino): boxes,
            masks, keypoints and the parsing map from one pass; pass it alone.
        backend: ``'torch'``, ``'onnxruntime'`` or ``'openvino'``; a dict maps tasks to
            backends (e.g. ``{'pose': 'openvino', 'det': 'torch'}``).
        device: ``'cpu'`` or a CUDA device.
        bbox_thr: Person boxes below this score are dropped (mmpose's demos: 0.3).
        kpt_thr: Keypoints below this score are not drawn.
        track: ``'oks'`` or ``'iou'`` matching of persons between video frames; None: no ids.
        track_thr: Minimum OKS / IoU to keep an identity.
        smooth: None, or the One Euro filter's settings for video keypoints (``True`` for the
            defaults, or a dict of ``min_cutoff``, ``beta``, ``d_cutoff``).
        optimize: Run the torch models through ``mmhrnet.deploy.optimize_model`` (BatchNorm
            folded, channels-last memory).

    Example:
        >>> inferencer = HRNetInferencer(pose=('configs/pose/hrnet_w32_coco.py', 'w32.pth'))
        >>> result = next(inferencer('demo.jpg'))
        >>> result['persons'][0]['keypoints']     # 17 [x, y] in image pixels
    """

    def __init__(self, pose=None, det=None, seg=None, backend='torch', device: str = 'cpu',
                 bbox_thr: float = 0.3, kpt_thr: float = 0.3, track: Optional[str] = 'oks',
                 track_thr: float = 0.3, smooth=None, optimize: bool = False, multitask=None):
        specs = dict(pose=pose, det=det, seg=seg, multitask=multitask)
        if all(spec is None for spec in specs.values()):
            raise ValueError('HRNetInferencer needs at least one of pose=, det=, seg=, '
                             'multitask= ((config, checkpoint) each)')
        if multitask is not None and any(specs[t] is not None for t in ('pose', 'det', 'seg')):
            raise ValueError('multitask= gives pose, detection and segmentation from one model: '
                             'pass it without pose= / det= / seg=')
        backends = backend if isinstance(backend, dict) else dict.fromkeys(TASKS, backend)
        self.models: Dict[str, object] = {
            task: load_task_model(task, spec, backends.get(task, 'torch'), device)
            for task, spec in specs.items() if spec is not None}
        self.backends = {task: backends.get(task, 'torch') for task in self.models}
        if optimize:  # BN folded into the convs, NHWC weights: same outputs (1e-5), faster
            from mmhrnet.deploy import optimize_model
            for task, model in self.models.items():
                if self.backends[task] == 'torch':
                    optimize_model(model)
        self.bbox_thr, self.kpt_thr = bbox_thr, kpt_thr
        self.person_label = _person_label(self.task_meta('det')) if 'det' in self.tasks else None
        sigmas = self.task_meta('pose').get('sigmas') if 'pose' in self.tasks else None
        # without keypoints only the boxes can be matched
        method = track if 'pose' in self.tasks else 'iou'
        self.tracker = PoseTracker(method, track_thr, sigmas) if track else None
        self.smooth = ({} if smooth is True else dict(smooth)) if smooth else None
        if self.smooth is not None and self.tracker is None:
            raise ValueError('smooth= needs track= (keypoints are smoothed per person id)')
        self.smoother: Optional[KeypointSmoother] = None
        self._video = None
        self._visualizers: Dict[str, object] = {}
        self._pipelines: Dict[str, object] = {}

    def _scope(self, task: str):
        """The task's registry scope: mmdet's and mmseg's inference functions build their
        pipelines in whatever scope is current, and the three models each set theirs."""
        from mmengine.registry import DefaultScope
        return DefaultScope.overwrite_default_scope(self.models[task].cfg.default_scope)

    @property
    def tasks(self) -> List[str]:
        """The tasks the models give (a multi-task model gives ``det``, ``pose``, ``seg``)."""
        if 'multitask' in self.models:
            return ['det', 'pose', 'seg']
        return list(self.models)

    def task_meta(self, task: str) -> dict:
        """The dataset metainfo that ``task``'s results are read and drawn with (classes and
        palette; keypoint names, sigmas and skeleton for ``pose``)."""
        if 'multitask' in self.models:
            meta = getattr(self.models['multitask'], 'dataset_meta', None) or {}
            if task == 'seg':  # the parsing classes of a people dataset
                return dict(classes=meta.get('seg_classes'), palette=meta.get('seg_palette'))
            return meta
        return getattr(self.models[task], 'dataset_meta', None) or {}

    # ------------------------------------------------------------------ running

    def __call__(self, inputs, every: int = 1, bboxes=None) -> Iterator[dict]:
        """Yields one result per image or kept video frame (see :meth:`predict`).

        Args:
            inputs: An image path or BGR array, a list of them, a folder, a video file, or a
                webcam index.
            every: Keep every ``every``-th video frame.
            bboxes: Person boxes ``(N, 4)`` xyxy (or ``(N, 5)`` with scores) for a single
                image input, instead of the detector's (or of the whole image).
        """
        for frame in iter_frames(inputs, every):
            yield self.predict(frame, bboxes=bboxes, every=every)

    def _start_video(self, frame: Frame, every: int):
        key = (frame.path, frame.source) if frame.video else None
        if key != self._video or not frame.video:
            self._video = key
            if self.tracker is not None:
                self.tracker.reset()
            if self.smooth is not None:
                self.smoother = KeypointSmoother(fps=(frame.fps or 30.) / every, **self.smooth)

    def predict(self, frame, bboxes=None, every: int = 1) -> dict:
        """Runs the models on one frame.

        Args:
            frame: A :class:`~mmhrnet.apis.sources.Frame` or a BGR array.

        Returns:
            dict: ``name``, ``path``, ``index``, ``height``, ``width``; ``persons``: a list of
            dicts with ``bbox`` (xyxy), ``bbox_score`` and, as the tasks give them,
            ``keypoints`` (K x [x, y], image pixels), ``keypoint_scores``, ``score`` (box x
            keypoint score, as mmpose's CocoMetric), ``mask`` (COCO RLE), ``track_id``;
            ``class_map`` (H x W class indices) and ``classes`` with a segmentor;
            ``samples``: the upstream data samples (``pose``, ``det``, ``seg``).
        """
        if not isinstance(frame, Frame):
            frame = next(iter_frames(frame))
        self._start_video(frame, every)
        image = frame.image
        h, w = image.shape[:2]
        result = dict(name=frame.name, path=frame.path, index=frame.index, video=frame.video,
                      height=h, width=w, persons=[], samples={})
        if 'multitask' in self.models:
            persons, track_samples = self._multitask(image, result, bboxes)
        else:
            persons = self._detect(image, result) if bboxes is None else self._given(bboxes)
            if 'det' not in self.models and bboxes is None and 'pose' in self.models:
                persons = [dict(bbox=[0., 0., float(w), float(h)], bbox_score=1.0)]
            track_samples = self._pose(image, persons, result) if 'pose' in self.models else None
        if self.tracker is not None and frame.video and persons:
            if track_samples is None:  # detection only: boxes are what can be matched
                track_samples = self._box_samples(persons)
            ids = self.tracker.update(track_samples)
            if self.smoother is not None and 'pose' in self.tasks:
                self.smoother.update(track_samples)
                for person, sample in zip(persons, track_samples):
                    person['keypoints'] = sample.pred_instances.keypoints[0].tolist()
            for person, track_id in zip(persons, ids):
                person['track_id'] = int(track_id)
        result['persons'] = persons
        if 'seg' in self.models:
            self._segment(image, result)
        return result

    def _detect(self, image: np.ndarray, result: dict) -> List[dict]:
        if 'det' not in self.models:
            return []
        from mmdet.apis import inference_detector
        with self._scope('det'):
            sample = inference_detector(self.models['det'], image, self._pipeline('det'))
        result['samples']['det'] = sample
        return self._instance_persons(sample.pred_instances)[0]

    def _pipeline(self, task: str):
        """The mmdet test pipeline of ``task``'s model on a BGR array, built once (mmdet's
        ``inference_detector`` builds it per frame)."""
        if task not in self._pipelines:
            from mmcv.transforms import Compose
            from mmdet.utils import get_test_pipeline_cfg
            pipeline = get_test_pipeline_cfg(self.models[task].cfg.copy())
            pipeline[0].type = 'mmdet.LoadImageFromNDArray'
            self._pipelines[task] = Compose(pipeline)
        return self._pipelines[task]

    def _instance_persons(self, inst, select: bool = True):
        """Persons (``bbox``, ``bbox_score``, ``mask`` RLE when the instances have masks) of
        mmdet instances, and their indices; with ``select``, person-class ones at ``bbox_thr``
        or above."""
        from mmdet.structures.mask import encode_mask_results
        scores = _numpy(inst.scores)
        keep = np.arange(len(scores))
        if select:
            labels = _numpy(inst.labels)
            keep = np.flatnonzero((labels == self.person_label) & (scores >= self.bbox_thr))
        boxes = _numpy(inst.bboxes)
        masks = _numpy(inst.masks)[keep] if 'masks' in inst else None
        persons = []
        for j, i in enumerate(keep):
            person = dict(bbox=boxes[i].astype(float).tolist(), bbox_score=float(scores[i]))
            if masks is not None:
                rle = encode_mask_results([masks[j]])[0]
                person['mask'] = dict(size=[int(s) for s in rle['size']],
                                      counts=rle['counts'].decode('ascii'))
            persons.append(person)
        return persons, keep

    def _multitask(self, image: np.ndarray, result: dict, bboxes=None):
        """One pass of the multi-task model: persons (its detections with masks and keypoints,
        or the given boxes with keypoints), its samples drawn as the three tasks' are."""
        import torch
        from mmengine.structures import InstanceData, PixelData
        from mmpose.structures import PoseDataSample, merge_data_samples
        from mmseg.structures import SegDataSample
        model = self.models['multitask']
        inputs = dict(img=image, img_id=0)
        if bboxes is not None:
            given = np.array([p['bbox'] + [p['bbox_score']] for p in self._given(bboxes)],
                             dtype=np.float32).reshape(-1, 5)
            inputs.update(given_bboxes=given[:, :4], given_bbox_scores=given[:, 4])
        with self._scope('multitask'):
            data = self._pipeline('multitask')(inputs)
            with torch.no_grad():
                sample = model.test_step(dict(inputs=[data['inputs']],
                                              data_samples=[data['data_samples']]))[0]
        from mmdet.structures import DetDataSample  # boxes and masks only: the parsing map is
        det = DetDataSample(metainfo=sample.metainfo)  # drawn by the seg visualiser
        det.pred_instances = sample.pred_instances
        result['samples']['det'] = det
        inst = sample.pred_instances if bboxes is None else sample.pred_pose_instances
        persons, indices = self._instance_persons(inst, select=bboxes is None)
        keypoints, kpt_scores = _numpy(inst.keypoints), _numpy(inst.keypoint_scores)
        samples = []
        for person, i in zip(persons, indices):
            _set_keypoints(person, keypoints[i], kpt_scores[i])
            pose = PoseDataSample(metainfo=dict(img_shape=image.shape[:2]))
            pose.pred_instances = InstanceData(
                keypoints=keypoints[i:i + 1].astype(np.float32),
                keypoint_scores=kpt_scores[i:i + 1].astype(np.float32),
                bboxes=np.array([person['bbox']], dtype=np.float32),
                bbox_scores=np.array([person['bbox_score']], dtype=np.float32))
            samples.append(pose)
        if samples:
            result['samples']['pose'] = merge_data_samples(samples)
        seg = SegDataSample(pred_sem_seg=PixelData(data=sample.pred_sem_seg.sem_seg))
        result['samples']['seg'] = seg
        result['class_map'] = _numpy(seg.pred_sem_seg.data)[0].astype(np.int32)
        result['classes'] = tuple(self.task_meta('seg').get('classes') or ())
        return persons, samples

    def _pose(self, image: np.ndarray, persons: List[dict], result: dict) -> list:
        from mmpose.apis import inference_topdown
        from mmpose.structures import merge_data_samples
        if not persons:
            return []
        boxes = np.array([p['bbox'] for p in persons], dtype=np.float32)
        with self._scope('pose'):
            samples = inference_topdown(self.models['pose'], image, boxes, bbox_format='xyxy')
        for person, sample in zip(persons, samples):
            inst = sample.pred_instances
            inst.bbox_scores = np.array([person['bbox_score']], dtype=np.float32)
            _set_keypoints(person, inst.keypoints[0], inst.keypoint_scores[0])
        result['samples']['pose'] = merge_data_samples(samples)
        return samples

    def _given(self, bboxes) -> List[dict]:
        """Persons from given boxes: ``(N, 4)`` xyxy, or ``(N, 5)`` with scores (those below
        ``bbox_thr`` dropped)."""
        boxes = np.asarray(bboxes, dtype=np.float64)
        boxes = boxes.reshape(-1, boxes.shape[-1] if boxes.ndim == 2 else 4)
        if boxes.shape[1] not in (4, 5):
            raise ValueError(f'bboxes must be (N, 4) xyxy or (N, 5) xyxy + score, got '
                             f'{boxes.shape}')
        scores = boxes[:, 4] if boxes.shape[1] == 5 else np.ones(len(boxes))
        return [dict(bbox=b[:4].tolist(), bbox_score=float(sc))
                for b, sc in zip(boxes, scores) if sc >= self.bbox_thr]

    @staticmethod
    def _box_samples(persons: List[dict]) -> list:
        from mmengine.structures import InstanceData
        from mmpose.structures import PoseDataSample
        samples = []
        for person in persons:
            sample = PoseDataSample()
            sample.pred_instances = InstanceData(
                bboxes=np.array([person['bbox']], dtype=np.float32))
            samples.append(sample)
        return samples

    def _segment(self, image: np.ndarray, result: dict):
        from mmseg.apis import inference_model
        with self._scope('seg'):
            sample = inference_model(self.models['seg'], image)
        result['samples']['seg'] = sample
        result['class_map'] = _numpy(sample.pred_sem_seg.data)[0].astype(np.int32)
        result['classes'] = tuple((self.models['seg'].dataset_meta or {}).get('classes') or ())

    # ------------------------------------------------------------------ drawing

    def _visualizer(self, task: str):
        if task not in self._visualizers:
            name = f'mmhrnet_infer_{task}_{next(_instance_ids)}'
            meta = self.task_meta(task)
            if task == 'pose':
                from mmpose.visualization import PoseLocalVisualizer
                vis = PoseLocalVisualizer(name=name)
                vis.set_dataset_meta(meta)
            elif task == 'det':
                from mmdet.visualization import DetLocalVisualizer
                vis = DetLocalVisualizer(name=name, alpha=0.5)
                vis.dataset_meta = meta
            else:
                from mmseg.visualization import SegLocalVisualizer
                vis = SegLocalVisualizer(name=name, alpha=0.5)
                vis.set_dataset_meta(meta.get('classes'), meta.get('palette'))
            self._visualizers[task] = vis
        return self._visualizers[task]

    def visualize(self, image: np.ndarray, result: dict) -> np.ndarray:
        """Draws a result on its BGR image: class map, then boxes and masks, then skeletons
        and track ids. Returns a BGR image of the same size."""
        import mmcv
        drawn = mmcv.bgr2rgb(image)
        samples = result['samples']
        size = max(image.shape[:2])
        if 'seg' in samples:
            vis = self._visualizer('seg')
            vis.add_datasample('seg', drawn, samples['seg'], draw_gt=False, with_labels=False)
            drawn = vis.get_image()
        if 'det' in samples:
            vis = self._visualizer('det')
            det = samples['det'].clone()
            det.pred_instances = det.pred_instances[det.pred_instances.scores >= self.bbox_thr]
            vis.add_datasample('det', drawn, det, draw_gt=False, pred_score_thr=self.bbox_thr)
            drawn = vis.get_image()
        if 'pose' in samples:
            vis = self._visualizer('pose')
            vis.radius, vis.line_width = max(2, size // 160), max(1, size // 320)
            if self.smoother is not None:  # draw the smoothed keypoints
                samples['pose'].pred_instances.keypoints = np.array(
                    [p['keypoints'] for p in result['persons']], dtype=np.float32)
            vis.add_datasample('pose', drawn, samples['pose'], draw_gt=False,
                               draw_bbox='det' not in samples, kpt_thr=self.kpt_thr)
            drawn = vis.get_image()
        drawn = np.ascontiguousarray(mmcv.rgb2bgr(drawn))
        scale = max(0.4, size / 900)
        for person in result['persons']:
            if 'track_id' in person:  # the visualisers have no track ids: a label per box
                x, y = (int(v) for v in person['bbox'][:2])
                cv2.putText(drawn, f'id {person["track_id"]}', (max(x, 2), max(y - 4, 10)),
                            cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 255, 255),
                            max(1, int(2 * scale)), cv2.LINE_AA)
        return drawn
