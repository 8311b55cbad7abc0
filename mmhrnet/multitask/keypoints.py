"""Keypoints of every person box from the shared whole-image features: RoIAlign of one HRNet
branch (the V1 representation: the 1/4 one) into mmpose's heatmap head, targets and decoding by
mmpose's codec, mmpose's loss.

The box of each person becomes a top-down crop, as mmpose's ``GetBBoxCenterScale`` +
``TopdownAffine`` make it (padding 1.25, widened or heightened to the codec's aspect ratio, no
rotation), but taken from the features instead of the image: RoIAlign samples the crop on the
heatmap grid, so heatmap pixel ``(u, v)`` is the centre of bin ``(u, v)`` of the box.
"""
import numpy as np
import torch
from mmcv.ops import RoIAlign
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from mmpose.registry import KEYPOINT_CODECS
from mmpose.registry import MODELS as MMPOSE_MODELS


def topdown_boxes(bboxes, aspect_ratio, padding=1.25):
    """Boxes ``(N, 4)`` xyxy grown as mmpose's top-down crops: scaled by ``padding`` about their
    centre, then the short side lengthened to ``aspect_ratio`` (w / h)."""
    centre = (bboxes[:, :2] + bboxes[:, 2:]) / 2
    wh = (bboxes[:, 2:] - bboxes[:, :2]).clamp(min=1) * padding
    w, h = wh.unbind(1)
    wh = torch.stack([torch.maximum(w, h * aspect_ratio), torch.maximum(h, w / aspect_ratio)], 1)
    return torch.cat([centre - wh / 2, centre + wh / 2], 1)


class RoIKeypointHead(BaseModule):
    """Heatmap keypoints for person boxes from RoI-aligned whole-image features.

    Args:
        in_channels (int): Channels of the feature map read (``in_index`` of the backbone's
            outputs); filled in from the backbone by ``HRNetMultiTask``.
        head (dict): mmpose head, e.g. ``dict(type='HeatmapHead', deconv_out_channels=None,
            out_channels=17, loss=dict(type='KeypointMSELoss', use_target_weight=True))``
            (V1's 1x1 head: the state dict of an mmpose top-down model's ``head`` loads).
            Its output must be ``codec.heatmap_size``.
        codec (dict): mmpose codec (``MSRAHeatmap``: targets and decoding); its
            ``input_size`` sets the crop's aspect ratio, its ``heatmap_size`` the RoI grid.
        decoder (dict, optional): Codec for decoding only, as mmpose heads' ``decoder``
            (e.g. the same codec with ``unbiased=True``: DARK). Defaults to ``codec``.
        in_index (int): Backbone output to read. Defaults to 0 (1/4, highest resolution).
        stride (int): Stride of that output. Defaults to 4.
        bbox_padding (float): Crop = box grown by this factor, as mmpose's 1.25.
        sampling_ratio (int): RoIAlign samples per bin side. Defaults to 2.
        train_cfg (dict): ``shift`` (fraction of the crop size, uniform) and ``scale`` (range)
            of the random jitter of ground-truth boxes in training, in the spirit of mmpose's
            ``RandomBBoxTransform``; ``max_rois`` per batch. Defaults to shift 0.1, scale
            (0.8, 1.2), 64 RoIs.
        test_cfg (dict): ``score_thr`` and ``max_per_img`` of the detections that get
            keypoints. Defaults to 0.05 and 10.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self, in_channels, head, codec, decoder=None, in_index=0, stride=4,
                 bbox_padding=1.25, sampling_ratio=2, train_cfg=None, test_cfg=None,
                 init_cfg=None):
        super().__init__(init_cfg)
        # mmpose's scope, so that the head's own parts (loss='KeypointMSELoss') are mmpose's
        # whatever the config's default scope (mmdet for the multi-task model)
        with DefaultScope.overwrite_default_scope('mmpose'):
            self.codec = KEYPOINT_CODECS.build(codec)
            self.decoder = KEYPOINT_CODECS.build(decoder) if decoder else self.codec
            self.head = MMPOSE_MODELS.build(dict(head, in_channels=in_channels))
        if tuple(self.decoder.heatmap_size) != tuple(self.codec.heatmap_size):
            raise ValueError(f'decoder heatmap_size {self.decoder.heatmap_size} differs from the '
                             f"codec's {self.codec.heatmap_size}")
        self.heatmap_size = tuple(int(s) for s in self.codec.heatmap_size)  # (w, h)
        input_w, input_h = self.codec.input_size
        self.aspect_ratio = input_w / input_h
        self.in_index, self.stride, self.bbox_padding = in_index, stride, bbox_padding
        self.roi_align = RoIAlign(self.heatmap_size[::-1], spatial_scale=1.0 / stride,
                                  sampling_ratio=sampling_ratio, aligned=True)
        self.train_cfg = dict(dict(shift=0.1, scale=(0.8, 1.2), max_rois=64), **(train_cfg or {}))
        self.test_cfg = dict(dict(score_thr=0.05, max_per_img=10), **(test_cfg or {}))

    def forward(self, feats, crops):
        """Heatmaps ``(R, K, h, w)`` of the crops ``(R, 5)`` (batch index, x1, y1, x2, y2 in
        pixel-corner coordinates of the network input)."""
        rois = self.roi_align(feats[self.in_index], crops)
        heatmaps = self.head.forward([rois])
        if tuple(heatmaps.shape[-2:]) != self.heatmap_size[::-1]:
            raise ValueError(f'RoIKeypointHead: the head outputs {tuple(heatmaps.shape[-2:])} '
                             f'heatmaps, the codec expects {self.heatmap_size[::-1]} (h, w)')
        return heatmaps

    def _to_heatmap(self, keypoints, crops):
        """Pixel-index keypoints ``(R, K, 2)`` to the codec's input frame of each crop."""
        size = crops[:, None, 3:5] - crops[:, None, 1:3]
        grid = keypoints.new_tensor(self.heatmap_size)
        heatmap_xy = (keypoints + 0.5 - crops[:, None, 1:3]) / size * grid - 0.5
        return heatmap_xy * keypoints.new_tensor(self.codec.scale_factor)

    def _from_heatmap(self, keypoints, crops):
        """Inverse of :meth:`_to_heatmap`."""
        size = crops[:, None, 3:5] - crops[:, None, 1:3]
        grid = keypoints.new_tensor(self.heatmap_size)
        heatmap_xy = keypoints / keypoints.new_tensor(self.decoder.scale_factor)
        return crops[:, None, 1:3] + (heatmap_xy + 0.5) / grid * size - 0.5

    def loss(self, feats, batch_data_samples):
        """Heatmap loss over ground-truth people that have at least one labelled keypoint.

        Returns:
            dict: ``loss_kpt``; exactly 0 (with a graph, so every rank still reduces the
            head's gradients) when no person of the batch has keypoints.
        """
        crops, keypoints, visible = [], [], []
        for i, sample in enumerate(batch_data_samples):
            gt = sample.gt_instances
            if 'keypoints_visible' not in gt or len(gt) == 0:
                continue
            keep = gt.keypoints_visible.sum(1) > 0
            if keep.any():
                boxes = gt.bboxes[keep]
                boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
                crops.append(torch.cat([boxes.new_full((len(boxes), 1), i),
                                        self._jitter(boxes)], 1))
                keypoints.append(gt.keypoints[keep])
                visible.append(gt.keypoints_visible[keep])
        if not crops:
            zero = sum(p.sum() for p in self.head.parameters()) * 0.
            return dict(loss_kpt=zero)
        crops, keypoints, visible = torch.cat(crops), torch.cat(keypoints), torch.cat(visible)
        if len(crops) > self.train_cfg['max_rois']:
            pick = torch.randperm(len(crops), device=crops.device)[:self.train_cfg['max_rois']]
            crops, keypoints, visible = crops[pick], keypoints[pick], visible[pick]
        heatmaps = self.forward(feats, crops)
        in_frame = self._to_heatmap(keypoints, crops).detach().cpu().numpy()
        targets, weights = [], []
        for kpts, vis in zip(in_frame, visible.cpu().numpy()):
            encoded = self.codec.encode(kpts[None], vis[None])
            targets.append(encoded['heatmaps'])
            weights.append(encoded['keypoint_weights'][0])
        targets = heatmaps.new_tensor(np.stack(targets))
        weights = heatmaps.new_tensor(np.stack(weights))
        return dict(loss_kpt=self.head.loss_module(heatmaps, targets, weights))

    def _jitter(self, boxes):
        crops = topdown_boxes(boxes, self.aspect_ratio, self.bbox_padding)
        if not self.training:
            return crops
        centre, size = (crops[:, :2] + crops[:, 2:]) / 2, crops[:, 2:] - crops[:, :2]
        lo, hi = self.train_cfg['scale']
        scale = torch.empty(len(crops), 1, device=crops.device).uniform_(lo, hi)
        shift = torch.empty_like(centre).uniform_(-1, 1) * self.train_cfg['shift'] * size
        centre, size = centre + shift, size * scale
        return torch.cat([centre - size / 2, centre + size / 2], 1)

    def predict(self, feats, results_list, batch_img_metas, select=True):
        """Add ``keypoints`` ``(N, K, 2)``, ``keypoint_scores`` ``(N, K)`` and ``bbox_scores``
        to each image's detections (boxes in original-image coordinates, as mmdet's
        ``rescale=True`` leaves them); with ``select``, detections below ``score_thr`` or
        beyond ``max_per_img`` are dropped first (given boxes are all kept, as mmpose keeps
        those of a ``bbox_file``).

        Returns:
            list[InstanceData]: The detections, with keypoints in original-image pixels.
        """
        cfg, out, crops, owners = self.test_cfg, [], [], []
        for i, (res, meta) in enumerate(zip(results_list, batch_img_metas)):
            if select:
                keep = torch.nonzero(res.scores >= cfg['score_thr']).flatten()
                res = res[keep[res.scores[keep].argsort(descending=True)][:cfg['max_per_img']]]
            out.append(res)
            scale = res.bboxes.new_tensor(meta.get('scale_factor', (1., 1.))).repeat(2)
            boxes = topdown_boxes(res.bboxes * scale, self.aspect_ratio, self.bbox_padding)
            crops.append(torch.cat([boxes.new_full((len(boxes), 1), i), boxes], 1))
            owners += [i] * len(res)
        num_kpts = self.head.out_channels
        crops = torch.cat(crops)
        if len(crops):
            heatmaps = self.forward(feats, crops).detach().float().cpu().numpy()
            decoded = [self.decoder.decode(h) for h in heatmaps]
            keypoints = crops.new_tensor(np.concatenate([k for k, _ in decoded]))
            scores = crops.new_tensor(np.concatenate([s for _, s in decoded]))
            keypoints = self._from_heatmap(keypoints, crops)
        else:
            keypoints, scores = crops.new_zeros((0, num_kpts, 2)), crops.new_zeros((0, num_kpts))
        owners = torch.tensor(owners, dtype=torch.long)
        for i, (res, meta) in enumerate(zip(out, batch_img_metas)):
            mine = owners == i
            scale = keypoints.new_tensor(meta.get('scale_factor', (1., 1.)))
            res.keypoints = (keypoints[mine] + 0.5) / scale - 0.5
            res.keypoint_scores = scores[mine]
            res.bbox_scores = res.scores
        return out

