"""Top-down pose on the person boxes of one image, batched over persons.

mmpose's ``inference_topdown`` runs its test pipeline once per person (a dict through
``LoadImage``, ``GetBBoxCenterScale``, ``TopdownAffine``, ``PackPoseInputs``), then the network
twice (the crops, then their mirror images, for the flip test) and decodes each person's
heatmaps in a Python loop over keypoints. Here the same steps run on arrays of all persons:
centres, scales and affine source points for all boxes at once (the warp matrices and crops
bitwise those of ``TopdownAffine``), the data preprocessor's normalisation as one table
look-up per pixel (bitwise its arithmetic), every crop and its mirror image in one network call (on
torch, optimised torch or an exported model with a dynamic batch), mmpose's
``flip_heatmaps`` on the mirrored half, and MSRA heatmap decoding vectorised over persons and
keypoints (:mod:`mmhrnet.models.heatmaps`). The keypoints are those of
``inference_topdown`` to within float rounding (``tests/test_infer_batched.py``).

A model whose test pipeline, head or codec is of another kind runs what this module cannot
reproduce through mmpose's own code: its pipeline per person, or ``inference_topdown`` whole.
"""
from typing import Optional, Tuple

import cv2
import numpy as np
import torch

from mmhrnet.models.heatmaps import decode_msra

# The test pipeline that the array path reproduces (transform names, their arguments).
_PIPELINE = ('LoadImage', 'GetBBoxCenterScale', 'TopdownAffine', 'PackPoseInputs')
_ARGS = {'LoadImage': {'backend_args', 'imdecode_backend', 'color_type', 'ignore_empty'},
         'GetBBoxCenterScale': {'padding'},
         'TopdownAffine': {'input_size', 'use_udp'},
         'PackPoseInputs': {'meta_keys', 'pack_transformed'}}


def _name(transform: dict) -> str:
    return str(transform.get('type', '')).split('.')[-1]


def crop_settings(pipeline) -> Optional[dict]:
    """``padding``, ``input_size`` (w, h) and ``use_udp`` of a top-down test pipeline that the
    array path reproduces; None for any other pipeline."""
    if tuple(_name(t) for t in pipeline) != _PIPELINE:
        return None
    for transform in pipeline:
        if set(transform) - {'type'} - _ARGS[_name(transform)]:
            return None
    if pipeline[0].get('color_type', 'color') != 'color':
        return None
    affine = pipeline[2]
    return dict(padding=float(pipeline[1].get('padding', 1.25)),
                input_size=tuple(int(v) for v in affine['input_size']),
                use_udp=bool(affine.get('use_udp', False)))


def box_centers_scales(boxes: np.ndarray, padding: float, aspect_ratio: float):
    """Centres and scales ``(N, 2)`` of xyxy boxes as ``GetBBoxCenterScale`` then
    ``TopdownAffine`` make them (padded, then widened or heightened to ``aspect_ratio``)."""
    from mmpose.datasets.transforms import TopdownAffine
    from mmpose.structures.bbox import bbox_xyxy2cs
    center, scale = bbox_xyxy2cs(boxes, padding=padding)
    return center, TopdownAffine._fix_aspect_ratio(scale, aspect_ratio=aspect_ratio)


def warp_points(center: np.ndarray, scale: np.ndarray, size: Tuple[int, int]):
    """The three source and destination points of mmpose's ``get_warp_matrix`` (no rotation,
    no shift) for every person: ``(N, 3, 2)`` and ``(3, 2)`` float32, from which
    ``cv2.getAffineTransform`` gives bitwise its matrices."""
    w, h = size
    src = np.empty((len(center), 3, 2), np.float32)
    src[:, 0] = center
    src[:, 1, 0] = center[:, 0] + scale[:, 0] * -0.5
    src[:, 1, 1] = center[:, 1]
    direction = src[:, 0] - src[:, 1]  # mmpose's _get_3rd_point: a quarter turn of it
    src[:, 2, 0] = src[:, 1, 0] - direction[:, 1]
    src[:, 2, 1] = src[:, 1, 1] + direction[:, 0]
    dst = np.array([[w * 0.5, h * 0.5], [0., h * 0.5], [0., h * 0.5 + w * 0.5]], np.float32)
    return src, dst


def crop_persons(image: np.ndarray, center: np.ndarray, scale: np.ndarray,
                 size: Tuple[int, int], use_udp: bool = False) -> np.ndarray:
    """The ``(N, h, w, 3)`` crops that ``TopdownAffine`` makes of ``image`` (bitwise)."""
    w, h = size
    crops = np.empty((len(center), h, w) + image.shape[2:], image.dtype)
    if use_udp:
        from mmpose.structures.bbox import get_udp_warp_matrix
        mats = [get_udp_warp_matrix(c, s, 0., output_size=(w, h))
                for c, s in zip(center, scale)]
    else:
        src, dst = warp_points(center, scale, size)
        mats = [cv2.getAffineTransform(s, dst) for s in src]
    for crop, mat in zip(crops, mats):  # one C call per crop: OpenCV warps one image at a time
        cv2.warpAffine(image, mat, (w, h), dst=crop, flags=cv2.INTER_LINEAR)
    return crops


def normalizer(preprocessor) -> Optional[Tuple[Tuple[int, np.ndarray], ...]]:
    """What a plain mmengine ``ImgDataPreprocessor`` does to uint8 BGR pixels, as look-up
    tables: per network input channel, the image channel it reads and its 256 float32
    entries, bitwise the preprocessor's ``(float(v) - mean) / std``; None for a preprocessor
    that does anything else (padding, batch augments, other classes)."""
    from mmengine.model import ImgDataPreprocessor
    from mmpose.models.data_preprocessors import PoseDataPreprocessor
    if (type(preprocessor) not in (ImgDataPreprocessor, PoseDataPreprocessor)
            or getattr(preprocessor, 'batch_augments', None)
            or preprocessor.pad_size_divisor != 1 or not preprocessor._enable_normalize
            or preprocessor.mean.numel() != 3 or preprocessor.mean.device.type != 'cpu'):
        return None
    values = torch.arange(256, dtype=torch.float32).view(1, 1, 1, 256)
    table = ((values - preprocessor.mean) / preprocessor.std).view(3, 256).numpy()
    swap = bool(preprocessor._channel_conversion)  # input channel k is image channel 2 - k
    return tuple((2 - k if swap else k, np.ascontiguousarray(table[k])) for k in range(3))


def normalize_crops(crops: np.ndarray, norm: Tuple[Tuple[int, np.ndarray], ...],
                    flip: bool) -> torch.Tensor:
    """``(N, h, w, 3)`` uint8 crops through :func:`normalizer`'s tables, as the preprocessor
    gives them (``(N, 3, h, w)`` float32), followed by their mirror images when ``flip`` (the
    network's flip-test batch): one table look-up per pixel instead of casts and arithmetic,
    written plane by plane into the channel-first batch (OpenCV calls, no strided copies)."""
    n, h, w, _ = crops.shape
    out = np.empty((2 * n if flip else n, 3, h, w), np.float32)
    for i in range(n):
        planes = cv2.split(crops[i])
        for k, (source, table) in enumerate(norm):
            cv2.LUT(planes[source], table, dst=out[i, k])
            if flip:
                cv2.flip(out[i, k], 1, dst=out[n + i, k])
    return torch.from_numpy(out)


class TopdownPose:
    """Keypoints of the persons of one image from a top-down heatmap model, all persons (and
    their mirror images) in one network call.

    Args:
        model: An mmpose top-down model (torch, optimised torch) or a
            :class:`~mmhrnet.deploy.BackendModel` of one.
    """

    def __init__(self, model):
        from mmpose.codecs import MSRAHeatmap
        from mmpose.models.heads import HeatmapHead
        self.model = model
        self.net = getattr(model, 'model', model)  # the upstream estimator of a BackendModel
        self.test_cfg = dict(getattr(self.net, 'test_cfg', None) or {})
        self.settings = crop_settings(model.cfg.test_dataloader.dataset.pipeline)
        self.norm = normalizer(model.data_preprocessor)  # None: the preprocessor's own call
        head = getattr(self.net, 'head', None)
        # what the batched forward reproduces: a heatmap head decoded by its codec, flipped
        # (if at all) as heatmaps, every keypoint kept
        self.batched = (isinstance(head, HeatmapHead) and getattr(head, 'decoder', None)
                        is not None and not self.test_cfg.get('output_keypoint_indices')
                        and self.test_cfg.get('flip_mode', 'heatmap') == 'heatmap')
        self.vectorised_decode = self.batched and type(head.decoder) is MSRAHeatmap
        meta = getattr(model, 'dataset_meta', None) or {}
        self.flip_indices = meta.get('flip_indices')
        self.flip = bool(self.test_cfg.get('flip_test', False))
        if self.batched and self.flip and self.flip_indices is None:
            self.batched = False  # mmpose's head reads them from the samples: let it fail

    def __call__(self, image: np.ndarray, boxes: np.ndarray):
        """Keypoints ``(N, K, 2)`` (image pixels, float32) and scores ``(N, K)`` for the xyxy
        ``boxes`` ``(N, 4)`` (N > 0) of a BGR image. Needs no registry scope: the paths that
        build mmpose transforms set the model's own."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        if not self.batched:
            return self._upstream(image, boxes)
        if self.settings is not None:
            size = self.settings['input_size']
            center, scale = box_centers_scales(boxes, self.settings['padding'],
                                               size[0] / size[1])
            crops = crop_persons(image, center, scale, size, self.settings['use_udp'])
            if self.norm is not None and crops.dtype == np.uint8:
                inputs = normalize_crops(crops, self.norm, self.flip)  # mirrored half too
            else:
                inputs = torch.from_numpy(crops).permute(0, 3, 1, 2)
                inputs = self.model.data_preprocessor(dict(inputs=inputs, data_samples=[]))[
                    'inputs'].contiguous()
        else:
            inputs, center, scale, size = self._pipeline_inputs(image, boxes)
        heatmaps = self._heatmaps(inputs, len(boxes))
        if self.vectorised_decode:
            keypoints, scores = decode_msra(self.net.head.decoder, heatmaps)
        else:
            keypoints, scores = (np.concatenate(a) for a in zip(
                *[self.net.head.decoder.decode(h) for h in heatmaps]))
        # TopdownPoseEstimator.add_pred_to_datasample, for all persons
        keypoints[..., :2] = (keypoints[..., :2] / np.array(size) * scale[:, None]
                              + center[:, None] - 0.5 * scale[:, None])
        return keypoints, scores

    def _heatmaps(self, inputs: torch.Tensor, n: int) -> np.ndarray:
        """The head's heatmaps of the ``n`` persons' ``inputs`` (flip test: their mirror
        images appended unless ``inputs`` holds them already; that half's heatmaps flipped
        back and averaged in), one network call."""
        from mmpose.models.utils.tta import flip_heatmaps
        if self.flip and len(inputs) == n:
            inputs = torch.cat([inputs, inputs.flip(-1)])
        with torch.no_grad():
            heatmaps = self.net.head.forward(self.net.extract_feat(inputs))
            if self.flip:
                mirrored = flip_heatmaps(heatmaps[n:], flip_mode='heatmap',
                                         flip_indices=self.flip_indices,
                                         shift_heatmap=self.test_cfg.get('shift_heatmap',
                                                                         False))
                heatmaps = (heatmaps[:n] + mirrored) * 0.5
        return heatmaps.detach().cpu().numpy()

    def _pipeline_inputs(self, image, boxes):
        """The model's own test pipeline per person, then its data preprocessor."""
        from mmcv.transforms import Compose
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope
        with DefaultScope.overwrite_default_scope(self.model.cfg.default_scope):
            pipeline = Compose(self.model.cfg.test_dataloader.dataset.pipeline)
        meta = getattr(self.model, 'dataset_meta', None) or {}
        data = [pipeline(dict(img=image, bbox=box[None], bbox_score=np.ones(1, np.float32),
                              **meta)) for box in boxes]
        batch = self.model.data_preprocessor(pseudo_collate(data))
        metas = [s.metainfo for s in batch['data_samples']]
        center = np.stack([m['input_center'] for m in metas])
        scale = np.stack([m['input_scale'] for m in metas])
        return batch['inputs'], center, scale, metas[0]['input_size']

    def _upstream(self, image, boxes):
        """mmpose's ``inference_topdown``, whole, for the models the batched path does not
        reproduce."""
        from mmengine.registry import DefaultScope
        from mmpose.apis import inference_topdown
        with DefaultScope.overwrite_default_scope(self.model.cfg.default_scope):
            samples = inference_topdown(self.model, image, boxes, bbox_format='xyxy')
        return (np.concatenate([s.pred_instances.keypoints for s in samples]),
                np.concatenate([s.pred_instances.keypoint_scores for s in samples]))
