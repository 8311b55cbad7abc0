"""Person identities across video frames and temporal smoothing of their keypoints.

Matching is mmpose's greedy tracking (``mmpose.apis._track_by_oks`` / ``_track_by_iou``, as
its video demos use it): each person of a frame takes the id of the best-matching person of
the previous frame above a threshold, or a new id. mmpose 1.x has no keypoint filter (0.x's
``OneEuroFilter`` / ``Smoother`` were not carried over), so the One Euro filter (Casiez et
al., CHI 2012) is written here: an adaptive low-pass filter that smooths slow motion
strongly and fast motion little, per track and per coordinate.
"""
import math
from typing import Dict, List, Optional

import numpy as np

TRACK_METHODS = ('oks', 'iou')


class PoseTracker:
    """Gives every person :class:`~mmpose.structures.PoseDataSample` of a frame a track id.

    Args:
        method: ``'oks'`` (keypoint similarity, mmpose's default for pose) or ``'iou'``
            (boxes).
        thr: Minimum OKS / IoU to keep an identity (mmpose's demos: 0.3).
        sigmas: Per-keypoint OKS sigmas (the dataset's); None: COCO's.
    """

    def __init__(self, method: str = 'oks', thr: float = 0.3, sigmas=None):
        if method not in TRACK_METHODS:
            raise ValueError(f'track method {method!r} must be one of {TRACK_METHODS}')
        self.method, self.thr, self.sigmas = method, thr, sigmas
        self.reset()

    def reset(self):
        """Forgets all identities (call between videos)."""
        self._last: List = []
        self.next_id = 0

    def update(self, samples: List) -> List[int]:
        """Sets ``sample.track_id`` on each one-person sample and returns the ids."""
        from mmpose.apis import _track_by_iou, _track_by_oks
        last = list(self._last)
        ids = []
        for sample in samples:
            inst = sample.pred_instances
            if 'areas' not in inst:  # OKS needs the object scale; mmpose's demos use box area
                box = np.asarray(inst.bboxes, dtype=np.float64).reshape(-1, 4)
                inst.areas = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
            if self.method == 'oks':
                track_id, last, _ = _track_by_oks(sample, last, self.thr, self.sigmas)
            else:
                track_id, last, _ = _track_by_iou(sample, last, self.thr)
            if track_id == -1:
                track_id, self.next_id = self.next_id, self.next_id + 1
            sample.track_id = track_id
            ids.append(track_id)
        self._last = list(samples)
        return ids


class OneEuroFilter:
    """The One Euro filter on an array of values (e.g. ``(K, 2)`` keypoints).

    Args:
        min_cutoff: Cut-off frequency (Hz) at rest: lower smooths more.
        beta: Speed coefficient: higher follows fast motion with less lag.
        d_cutoff: Cut-off frequency of the speed estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: Optional[np.ndarray] = None
        self._dx: Optional[np.ndarray] = None

    @staticmethod
    def _alpha(cutoff, dt):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, dt: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None:
            self._x, self._dx = x, np.zeros_like(x)
            return x.copy()
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * (x - self._x) / dt + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        return self._x.copy()


class KeypointSmoother:
    """One :class:`OneEuroFilter` per track id over the keypoints of tracked samples.

    Args:
        fps: Frame rate of the kept frames (the video's fps / ``every``).
        **filter_args: ``min_cutoff``, ``beta``, ``d_cutoff`` of the filters.
    """

    def __init__(self, fps: float = 30., **filter_args):
        self.dt = 1.0 / max(fps, 1e-6)
        self.filter_args = filter_args
        self._filters: Dict[int, OneEuroFilter] = {}

    def reset(self):
        self._filters = {}

    def update(self, samples: List) -> None:
        """Replaces each sample's keypoints by their filtered values (needs ``track_id``)."""
        for sample in samples:
            filt = self._filters.setdefault(sample.track_id, OneEuroFilter(**self.filter_args))
            kpts = sample.pred_instances.keypoints
            sample.pred_instances.keypoints = filt(kpts, self.dt).astype(kpts.dtype)
