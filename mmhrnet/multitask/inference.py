"""The multi-task model at inference: one pass on one image, split into the three tasks'
upstream data samples, which the single-task visualisers draw and the inferencer reads
(``mmhrnet.apis.HRNetInferencer(multitask=...)``)."""
import numpy as np
import torch


def task_meta(dataset_meta: dict, task: str) -> dict:
    """The metainfo that ``task``'s results are read and drawn with: the people dataset's
    parsing classes and palette for ``'seg'``, the whole metainfo (person class, keypoint
    names, sigmas, skeleton) for ``'det'`` and ``'pose'``."""
    meta = dataset_meta or {}
    if task == 'seg':
        return dict(classes=meta.get('seg_classes'), palette=meta.get('seg_palette'))
    return meta


def predict_people(model, pipeline, image: np.ndarray, boxes=None, scores=None) -> dict:
    """One pass of an ``mmhrnet.HRNetMultiTask`` (torch, or a backend model of one) on a BGR
    image.

    Args:
        model: The model; call inside its registry scope (mmdet's transforms).
        pipeline: Its mmdet test pipeline reading a BGR array (``LoadImageFromNDArray``).
        boxes: Person boxes ``(N, 4)`` xyxy in image pixels whose keypoints to decode instead
            of those of its own detections (None: its detections').
        scores: Their scores ``(N, )`` (default 1).

    Returns:
        dict: ``det`` (``DetDataSample``: its boxes, scores, labels and masks), ``keypoints``
        (``InstanceData`` with ``keypoints``, ``keypoint_scores``, ``bboxes``, ``scores``:
        its detections, or the given boxes in their order) and ``seg`` (``SegDataSample``
        with the parsing map as ``pred_sem_seg``).
    """
    from mmdet.structures import DetDataSample
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    inputs = dict(img=image, img_id=0)
    if boxes is not None:
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        scores = np.ones(len(boxes), np.float32) if scores is None else \
            np.asarray(scores, dtype=np.float32).reshape(-1)
        inputs.update(given_bboxes=boxes, given_bbox_scores=scores)
    data = pipeline(inputs)
    with torch.no_grad():
        sample = model.test_step(dict(inputs=[data['inputs']],
                                      data_samples=[data['data_samples']]))[0]
    det = DetDataSample(metainfo=sample.metainfo)  # boxes and masks only: the parsing map
    det.pred_instances = sample.pred_instances  # is the seg sample's
    keypoints = sample.pred_instances if boxes is None else sample.pred_pose_instances
    seg = SegDataSample(pred_sem_seg=PixelData(data=sample.pred_sem_seg.sem_seg))
    return dict(det=det, keypoints=keypoints, seg=seg)
