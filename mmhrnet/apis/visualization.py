"""Drawing an inferencer's result with the upstream visualisers: the class map
(``SegLocalVisualizer``), then boxes and masks (``DetLocalVisualizer``), then skeletons
(``PoseLocalVisualizer``), then track ids."""
import itertools
from typing import Callable, Dict

import cv2
import numpy as np

_instance_ids = itertools.count()  # mmengine's visualisers are registered by unique name


class ResultVisualizer:
    """Draws results on their images; one upstream visualiser per task, made on first use.

    Args:
        task_meta: ``task -> metainfo`` (classes and palette; keypoint names and skeleton).
        bbox_thr: Boxes below this score are not drawn.
        kpt_thr: Keypoints below this score are not drawn.
    """

    def __init__(self, task_meta: Callable[[str], dict], bbox_thr: float, kpt_thr: float):
        self.task_meta, self.bbox_thr, self.kpt_thr = task_meta, bbox_thr, kpt_thr
        self._visualizers: Dict[str, object] = {}

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

    def draw(self, image: np.ndarray, result: dict, smoothed: bool = False) -> np.ndarray:
        """Draws a result on its BGR image (``smoothed``: the persons' keypoints, which a
        smoother changed, instead of the pose sample's). Returns a BGR image of its size."""
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
            if smoothed:
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
