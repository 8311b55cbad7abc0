"""HRNetInferencer: pose, detection and segmentation on images, folders, videos and webcams.

The inferencer is split by stage, as mmpose's inferencers are: inputs
(:mod:`~mmhrnet.apis.sources`), model loading (:mod:`~mmhrnet.apis.models`), one runner per
task (:mod:`~mmhrnet.apis.runners`: the detector's person boxes go to the top-down pose
model, the whole image is the box when there is no detector; a multi-task model
``mmhrnet.HRNetMultiTask`` is one more runner giving all three from one pass),
visualisation (:mod:`~mmhrnet.apis.visualization`, the upstream visualisers) and writing
(:mod:`~mmhrnet.apis.outputs`, run by :func:`~mmhrnet.apis.run.infer_to_dir`). This class
ties them together: persons keep their identity across video frames, their keypoints can be
smoothed, and each frame gives one plain result.
"""
from typing import Dict, Iterator, List, Optional

from mmhrnet.utils.cpu import torch_threads

from .models import TASKS, load_task_model
from .runners import (DetRunner, MultiTaskRunner, PoseRunner, SegRunner, given_persons,
                      person_samples)
from .sources import Frame, iter_frames
from .tracking import KeypointSmoother, PoseTracker
from .visualization import ResultVisualizer


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
        threads: CPU threads per task: an int for every task, or a dict (e.g. ``{'det': 2,
            'pose': 1}``); a task's exported backend runs on them, and torch while that task
            runs (its model, or RoIAlign / NMS / decoding around an exported one). None:
            torch's number of threads everywhere, but one for torch around an exported pose
            model (its work there is cropping, flipping and decoding small tensors, which
            waking more threads slows: +10% img/s at 1 person, the same at 16, on 2 cores;
            docs/deploy.md). The tasks run one after another, so each may have every core.

    Example:
        >>> inferencer = HRNetInferencer(pose=('configs/pose/hrnet_w32_coco.py', 'w32.pth'))
        >>> result = next(inferencer('demo.jpg'))
        >>> result['persons'][0]['keypoints']     # 17 [x, y] in image pixels
    """

    def __init__(self, pose=None, det=None, seg=None, backend='torch', device: str = 'cpu',
                 bbox_thr: float = 0.3, kpt_thr: float = 0.3, track: Optional[str] = 'oks',
                 track_thr: float = 0.3, smooth=None, optimize: bool = False, multitask=None,
                 threads=None):
        specs = dict(pose=pose, det=det, seg=seg, multitask=multitask)
        if all(spec is None for spec in specs.values()):
            raise ValueError('HRNetInferencer needs at least one of pose=, det=, seg=, '
                             'multitask= ((config, checkpoint) each)')
        if multitask is not None and any(specs[t] is not None for t in ('pose', 'det', 'seg')):
            raise ValueError('multitask= gives pose, detection and segmentation from one model: '
                             'pass it without pose= / det= / seg=')
        backends = backend if isinstance(backend, dict) else dict.fromkeys(TASKS, backend)
        self.threads = threads if isinstance(threads, dict) else dict.fromkeys(TASKS, threads)
        unknown = sorted(set(self.threads) - set(TASKS))
        if unknown or not all(n is None or int(n) >= 1 for n in self.threads.values()):
            raise ValueError(f'threads={threads!r}: give an int >= 1 or a dict of {TASKS} '
                             'to ints >= 1')
        self.models: Dict[str, object] = {
            task: load_task_model(task, spec, backends.get(task, 'torch'), device,
                                  self.threads.get(task))
            for task, spec in specs.items() if spec is not None}
        self.backends = {task: backends.get(task, 'torch') for task in self.models}
        if optimize:  # BN folded into the convs, NHWC weights: same outputs (1e-5), faster
            from mmhrnet.deploy import optimize_model
            for task, model in self.models.items():
                if self.backends[task] == 'torch':
                    optimize_model(model)
        self.bbox_thr, self.kpt_thr = bbox_thr, kpt_thr
        self.runners = self._runners()
        sigmas = self.task_meta('pose').get('sigmas') if 'pose' in self.tasks else None
        # without keypoints only the boxes can be matched
        method = track if 'pose' in self.tasks else 'iou'
        self.tracker = PoseTracker(method, track_thr, sigmas) if track else None
        self.smooth = ({} if smooth is True else dict(smooth)) if smooth else None
        if self.smooth is not None and self.tracker is None:
            raise ValueError('smooth= needs track= (keypoints are smoothed per person id)')
        self.smoother: Optional[KeypointSmoother] = None
        self._video = None
        self.visualizer = ResultVisualizer(self.task_meta, bbox_thr, kpt_thr)

    def _runners(self) -> dict:
        """One runner per model, in the order they run (detector before pose)."""
        runners = {}
        for task in ('multitask', 'det', 'pose', 'seg'):
            model = self.models.get(task)
            if model is None:
                continue
            if task in ('multitask', 'det'):
                runner = (MultiTaskRunner if task == 'multitask' else DetRunner)(
                    model, self.bbox_thr)
            else:
                runner = (PoseRunner if task == 'pose' else SegRunner)(model)
            runners[task] = runner
        return runners

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
            return self.runners['multitask'].task_meta(task)
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
        runners, threads = self.runners, self.threads.get
        if 'multitask' in runners:
            with torch_threads(threads('multitask')):
                persons = runners['multitask'](image, result, bboxes)
        else:
            if bboxes is not None:
                persons = given_persons(bboxes, self.bbox_thr)
            elif 'det' in runners:
                with torch_threads(threads('det')):
                    persons = runners['det'](image, result)
            elif 'pose' in runners:  # no detector: the whole image is the person's box
                persons = [dict(bbox=[0., 0., float(w), float(h)], bbox_score=1.0)]
            else:
                persons = []
            if 'pose' in runners:
                around = 1 if self.backends['pose'] != 'torch' else None
                with torch_threads(threads('pose') or around):
                    runners['pose'](image, persons, result)
        if self.tracker is not None and frame.video and persons:
            samples = person_samples(persons)  # boxes, and keypoints with a pose model
            ids = self.tracker.update(samples)
            if self.smoother is not None and 'pose' in self.tasks:
                self.smoother.update(samples)
                for person, sample in zip(persons, samples):
                    person['keypoints'] = sample.pred_instances.keypoints[0].tolist()
            for person, track_id in zip(persons, ids):
                person['track_id'] = int(track_id)
        result['persons'] = persons
        if 'seg' in runners:
            with torch_threads(threads('seg')):
                runners['seg'](image, result)
        return result

    # ------------------------------------------------------------------ drawing

    def visualize(self, image, result: dict):
        """Draws a result on its BGR image: class map, then boxes and masks, then skeletons
        and track ids. Returns a BGR image of the same size."""
        return self.visualizer.draw(image, result, smoothed=self.smoother is not None)
