"""Inference for users: pose, detection and segmentation on images, folders, videos, webcams.

    >>> from mmhrnet.apis import HRNetInferencer
    >>> inferencer = HRNetInferencer(pose=(POSE_CONFIG, POSE_CKPT), det=(DET_CONFIG, DET_CKPT))
    >>> for result in inferencer('video.mp4', every=2):
    ...     result['persons']   # boxes, keypoints, masks, track ids of one frame

Split by stage as mmpose's inferencers are: inputs (``sources``), model loading (``models``),
one runner per task (``runners``; batched top-down pose in ``topdown``), visualisation
(``visualization``) and writing (``outputs``); ``run`` reads, computes and writes in
overlapping threads (``overlap``). ``tools/infer.py`` is the command line of
:func:`infer_to_dir`.
"""
from .inferencer import HRNetInferencer
from .models import BACKENDS, ModelLoadError, load_task_config, load_task_model
from .outputs import ResultWriter, to_coco_results
from .run import infer_to_dir
from .runners import DetRunner, MultiTaskRunner, PoseRunner, SegRunner
from .sources import Frame, InferenceInputError, iter_frames
from .topdown import TopdownPose
from .tracking import KeypointSmoother, OneEuroFilter, PoseTracker
from .visualization import ResultVisualizer

__all__ = [
    'HRNetInferencer', 'BACKENDS', 'ModelLoadError', 'load_task_config', 'load_task_model',
    'ResultWriter', 'infer_to_dir', 'to_coco_results', 'Frame', 'InferenceInputError',
    'iter_frames', 'KeypointSmoother', 'OneEuroFilter', 'PoseTracker', 'DetRunner',
    'MultiTaskRunner', 'PoseRunner', 'SegRunner', 'TopdownPose', 'ResultVisualizer'
]
