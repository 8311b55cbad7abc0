"""Keypoints of every person box from the shared whole-image features: RoIAlign of HRNet
features (a backbone branch, all four branches as V2's concatenation, or a pyramid level) into
mmpose's heatmap head, targets and decoding by mmpose's codec, mmpose's loss.

The box of each person becomes a top-down crop, as mmpose's ``GetBBoxCenterScale`` +
``TopdownAffine`` make it (padding 1.25, widened or heightened to the codec's aspect ratio),
but taken from the features instead of the image: RoIAlign samples the crop on the heatmap
grid, so heatmap pixel ``(u, v)`` is the centre of bin ``(u, v)`` of the crop. In training the
crop is jittered (shift, scale and, as mmpose's ``RandomBBoxTransform``, rotation through
mmcv's ``RoIAlignRotated``).

What tells the head which person a crop is for, where neighbours overlap it: the person's own
mask as an extra input channel (``mask_channel``: the ground-truth mask under the same jitter
in training, the Mask R-CNN head's mask at test) and the crop's coordinates
(``coord_channels``); ``roi_convs`` gives the head a receptive field over the whole crop.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.ops import RoIAlign, RoIAlignRotated
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import KEYPOINT_CODECS
from mmpose.registry import MODELS as MMPOSE_MODELS
from torch import nn

from mmhrnet.models.heatmaps import decode_msra
from mmhrnet.registry import MODELS

# COCO's keypoint order after a horizontal flip (mmpose's coco metainfo)
COCO_FLIP_INDICES = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
# Where the mask channel comes from at test: the Mask R-CNN head (what a user gets), or, to
# measure what the head loses to that mask, the ground-truth mask of the box's best-matching
# person, or the box itself filled (no shape).
MASK_SOURCES = ('predicted', 'parsed', 'ground_truth', 'box')
# test_cfg.flip_test: none, the mirrored input's features (True, 'image'), the crop's features
# mirrored ('features')
FLIP_TESTS = (False, True, 'image', 'features')


def topdown_boxes(bboxes, aspect_ratio, padding=1.25):
    """Boxes ``(N, 4)`` xyxy grown as mmpose's top-down crops: scaled by ``padding`` about their
    centre, then the short side lengthened to ``aspect_ratio`` (w / h)."""
    centre = (bboxes[:, :2] + bboxes[:, 2:]) / 2
    wh = (bboxes[:, 2:] - bboxes[:, :2]).clamp(min=1) * padding
    w, h = wh.unbind(1)
    wh = torch.stack([torch.maximum(w, h * aspect_ratio), torch.maximum(h, w / aspect_ratio)], 1)
    return torch.cat([centre - wh / 2, centre + wh / 2], 1)


@MODELS.register_module()
class SpatialSoftmaxLoss(nn.Module):
    """Mask R-CNN's keypoint loss: cross-entropy of each heatmap (logits, softmax over its
    pixels) against the pixel of its keypoint, here the peak of mmpose's Gaussian target.

    Same call as mmpose's ``KeypointMSELoss``: ``(output, target, target_weights)``; keypoints
    of weight 0 (unlabelled, or outside the heatmap) add nothing. A head trained with it is
    decoded on the softmax of its heatmaps (:class:`RoIKeypointHead` does so).

    Args:
        loss_weight (float): Factor of the loss. Defaults to 1.
    """

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, output, target, target_weights):
        n, k = output.shape[:2]
        logits, target = output.flatten(2), target.flatten(2)
        weights = target_weights.reshape(n, k) * (target.amax(2) > 0)
        ce = F.cross_entropy(logits.reshape(n * k, -1), target.argmax(2).reshape(-1),
                             reduction='none').reshape(n, k)
        return self.loss_weight * (ce * weights).sum() / weights.sum().clamp(min=1)


class RoIConvs(nn.Sequential):
    """A 3x3 stride-2 conv, then ``num_convs`` dilated 3x3 convs at half the RoI size (BN,
    ReLU): with dilations 1, 2, 4, 8 each output sees the whole crop. The heatmap head then
    upsamples back (its ``deconv_out_channels``)."""

    def __init__(self, in_channels, channels=64, num_convs=4, dilations=(1, 2, 4, 8),
                 norm_cfg=dict(type='BN')):
        if len(dilations) != num_convs:
            raise ValueError(f'roi_convs: {num_convs} convs but dilations {tuple(dilations)}')
        layers = [ConvModule(in_channels, channels, 3, stride=2, padding=1, norm_cfg=norm_cfg)]
        layers += [ConvModule(channels, channels, 3, padding=d, dilation=d, norm_cfg=norm_cfg)
                   for d in dilations]
        super().__init__(*layers)
        self.out_channels = channels


class RoIKeypointHead(BaseModule):
    """Heatmap keypoints for person boxes from RoI-aligned whole-image features.

    Args:
        in_channels (int | Sequence[int]): Channels of each feature map read (``in_index``
            of the ``source`` outputs); filled in by ``HRNetMultiTask``.
        head (dict): mmpose head, e.g. ``dict(type='HeatmapHead', deconv_out_channels=None,
            out_channels=17, loss=dict(type='KeypointMSELoss', use_target_weight=True))``
            (V1's 1x1 head: the state dict of an mmpose top-down model's ``head`` loads).
            Its output must be ``codec.heatmap_size``. ``loss=dict(type=
            'mmhrnet.SpatialSoftmaxLoss')`` trains Mask R-CNN's way.
        codec (dict): mmpose codec (``MSRAHeatmap``: targets and decoding); its
            ``input_size`` sets the crop's aspect ratio, its ``heatmap_size`` the RoI grid.
        decoder (dict, optional): Codec for decoding only, as mmpose heads' ``decoder``
            (e.g. the same codec with ``unbiased=True``: DARK). Defaults to ``codec``.
        source (str): ``'backbone'`` (HRNet's branches) or ``'neck'`` (HRFPN's levels).
        in_index (int | Sequence[int]): Output(s) of ``source`` to read; several are each
            RoI-aligned at their own stride and concatenated (``(0, 1, 2, 3)`` of the backbone:
            V2's 15C representation of the crop). Defaults to 0 (1/4, V1).
        stride (int | Sequence[int]): Stride of each; filled in by ``HRNetMultiTask``.
        mask_channel (bool): Add the person's mask, aligned like the features, as a channel.
        soft_masks (bool): Where the mask channel gets the Mask R-CNN head's masks (at test,
            and in training with ``train_cfg.mask_source='predicted'``), give its
            probabilities (0..1) instead of its binary masks. Defaults to False.
        coord_channels (bool): Add the crop's x and y (-1..1) as two channels.
        roi_convs (dict, optional): :class:`RoIConvs` arguments (``channels``,
            ``num_convs``, ``dilations``) between the RoI features and ``head``.
        flip_indices (Sequence[int]): Keypoint order after a flip, for the flip test.
            Defaults to COCO's.
        bbox_padding (float): Crop = box grown by this factor, as mmpose's 1.25.
        sampling_ratio (int): RoIAlign samples per bin side. Defaults to 2.
        train_cfg (dict): Jitter of ground-truth boxes in training: ``shift`` (fraction of the
            crop size, uniform), ``scale`` (range), ``rotate`` (degrees, normal with this
            sigma clipped at 2 sigma, applied with probability ``rotate_prob``, as mmpose's
            ``RandomBBoxTransform``); ``max_rois`` per batch; ``mask_source``: the mask
            channel's masks, the person's ground-truth mask or ``'predicted'``, the Mask R-CNN
            head's mask of the person's box (what the head gets at test; ``masks_of`` of
            :meth:`loss`). Defaults to shift 0.1, scale (0.8, 1.2), no rotation, 64 RoIs,
            ground-truth masks.
        test_cfg (dict): ``score_thr`` and ``max_per_img`` of the detections that get
            keypoints (defaults 0.05 and 10); ``flip_test``: also run the head on the
            mirror image of each crop and average (default False): ``True`` / ``'image'``
            crops the features of the mirrored input (:data:`FLIP_TESTS`; one more backbone
            pass, as a top-down flip test is one more pass per person), ``'features'``
            mirrors the crop's features instead (no second backbone pass, but HRNet's
            features of a mirrored image are not its features mirrored: measured worse than
            no flip test, docs/multitask.md); ``mask_source``: the mask channel's
            masks at test (:data:`MASK_SOURCES`): ``'predicted'`` (default), the Mask R-CNN
            head's mask; ``'parsed'``, that mask (grown by ``mask_grow`` pixels, default 0)
            where the parsing head sees a person part; ``'ground_truth'`` and ``'box'`` are
            for measuring.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self, in_channels, head, codec, decoder=None, source='backbone', in_index=0,
                 stride=4, mask_channel=False, soft_masks=False, coord_channels=False,
                 roi_convs=None,
                 flip_indices=COCO_FLIP_INDICES, bbox_padding=1.25, sampling_ratio=2,
                 train_cfg=None, test_cfg=None, init_cfg=None):
        super().__init__(init_cfg)
        self.source = source
        self.in_index = tuple(in_index) if isinstance(in_index, (list, tuple)) else (in_index, )
        channels = _per_input(in_channels, self.in_index, 'in_channels')
        strides = _per_input(stride, self.in_index, 'stride')
        self.mask_channel, self.coord_channels = mask_channel, coord_channels
        self.soft_masks = soft_masks
        roi_channels = sum(channels) + int(mask_channel) + 2 * int(coord_channels)
        self.roi_convs = RoIConvs(roi_channels, **roi_convs) if roi_convs else None
        head_in = self.roi_convs.out_channels if self.roi_convs else roi_channels
        # mmpose's scope, so that the head's own parts (loss='KeypointMSELoss') are mmpose's
        # whatever the config's default scope (mmdet for the multi-task model)
        with DefaultScope.overwrite_default_scope('mmpose'):
            self.codec = KEYPOINT_CODECS.build(codec)
            self.decoder = KEYPOINT_CODECS.build(decoder) if decoder else self.codec
            self.head = MMPOSE_MODELS.build(dict(head, in_channels=head_in))
        if tuple(self.decoder.heatmap_size) != tuple(self.codec.heatmap_size):
            raise ValueError(f'decoder heatmap_size {self.decoder.heatmap_size} differs from the '
                             f"codec's {self.codec.heatmap_size}")
        if len(flip_indices) != self.head.out_channels:
            raise ValueError(f'flip_indices has {len(flip_indices)} entries for '
                             f'{self.head.out_channels} keypoints')
        self.flip_indices = list(flip_indices)
        self.heatmap_size = tuple(int(s) for s in self.codec.heatmap_size)  # (w, h)
        input_w, input_h = self.codec.input_size
        self.aspect_ratio = input_w / input_h
        self.bbox_padding = bbox_padding
        out = self.heatmap_size[::-1]
        # torchvision's kernel (mmcv's option): mmcv's outputs and gradients bit for bit,
        # 2-3x faster on CPU
        self.roi_align = nn.ModuleList(
            RoIAlign(out, 1.0 / s, sampling_ratio=sampling_ratio, aligned=True,
                     use_torchvision=True) for s in strides)
        self.roi_align_rotated = nn.ModuleList(
            RoIAlignRotated(out, 1.0 / s, sampling_ratio=sampling_ratio, aligned=True)
            for s in strides)
        self.mask_align = RoIAlign(out, 1.0, sampling_ratio=sampling_ratio, aligned=True,
                                   use_torchvision=True)
        self.mask_align_rotated = RoIAlignRotated(out, 1.0, sampling_ratio=sampling_ratio,
                                                  aligned=True)
        self.train_cfg = dict(dict(shift=0.1, scale=(0.8, 1.2), rotate=0., rotate_prob=0.6,
                                   max_rois=64, mask_source='ground_truth'),
                              **(train_cfg or {}))
        if self.train_cfg['mask_source'] not in ('ground_truth', 'predicted'):
            raise ValueError(f"RoIKeypointHead train_cfg.mask_source "
                             f"{self.train_cfg['mask_source']!r} must be 'ground_truth' or "
                             "'predicted'")
        self.test_cfg = dict(dict(score_thr=0.05, max_per_img=10, flip_test=False,
                                  mask_source='predicted'), **(test_cfg or {}))
        if self.test_cfg['flip_test'] not in FLIP_TESTS:
            raise ValueError(f"RoIKeypointHead test_cfg.flip_test {self.test_cfg['flip_test']!r} "
                             f'must be one of {FLIP_TESTS}')
        if self.test_cfg['mask_source'] not in MASK_SOURCES:
            raise ValueError(f"RoIKeypointHead test_cfg.mask_source "
                             f"{self.test_cfg['mask_source']!r} must be one of {MASK_SOURCES}")
        self.spatial_softmax = isinstance(self.head.loss_module, SpatialSoftmaxLoss)

    # ------------------------------------------------------------------ geometry
    # A crop is ``(R, 6)``: image index, centre x, y, width, height (pixel-corner coordinates
    # of the network input) and angle (radians; mmcv's ``RoIAlignRotated``, counterclockwise).

    def roi_inputs(self, feats, crops, masks=None):
        """The head's input ``(R, C, h, w)`` before the coordinate channels: each feature map
        sampled on the crop's heatmap grid, then the person's mask (``masks``: ``(R, H, W)``
        in input pixels, one per crop) sampled the same way."""
        rotated = bool((crops[:, 5] != 0).any())
        rois = crops if rotated else _xyxy_rois(crops)
        ops = self.roi_align_rotated if rotated else self.roi_align
        parts = [op(feats[i], rois) for op, i in zip(ops, self.in_index)]
        if self.mask_channel:
            if masks is None:
                raise ValueError('RoIKeypointHead(mask_channel=True) needs each person\'s mask')
            own = torch.cat([torch.arange(len(rois), dtype=rois.dtype,
                                          device=rois.device)[:, None], rois[:, 1:]], 1)
            op = self.mask_align_rotated if rotated else self.mask_align
            parts.append(op(masks[:, None].to(parts[0].dtype), own))
        return torch.cat(parts, 1)

    def forward_head(self, x):
        """Heatmaps ``(R, K, h, w)`` from :meth:`roi_inputs` (coordinates added here)."""
        if self.coord_channels:
            x = torch.cat([x, _coords(x)], 1)
        if self.roi_convs is not None:
            x = self.roi_convs(x)
        heatmaps = self.head.forward([x])
        if tuple(heatmaps.shape[-2:]) != self.heatmap_size[::-1]:
            raise ValueError(f'RoIKeypointHead: the head outputs {tuple(heatmaps.shape[-2:])} '
                             f'heatmaps, the codec expects {self.heatmap_size[::-1]} (h, w)')
        return heatmaps

    def forward(self, feats, crops, masks=None):
        """Heatmaps ``(R, K, h, w)`` of the crops ``(R, 6)`` (or ``(R, 5)``: image index and
        xyxy, unrotated)."""
        return self.forward_head(self.roi_inputs(feats, _as_crops(crops), masks))

    def _to_heatmap(self, keypoints, crops):
        """Pixel-index keypoints ``(R, K, 2)`` to the codec's input frame of each crop."""
        crops = _as_crops(crops)
        d = keypoints + 0.5 - crops[:, None, 1:3]
        cos, sin = crops[:, None, 5].cos(), crops[:, None, 5].sin()
        local = torch.stack([cos * d[..., 0] - sin * d[..., 1],
                             sin * d[..., 0] + cos * d[..., 1]], -1)
        grid = keypoints.new_tensor(self.heatmap_size)
        heatmap_xy = (local / crops[:, None, 3:5] + 0.5) * grid - 0.5
        return heatmap_xy * keypoints.new_tensor(self.codec.scale_factor)

    def _from_heatmap(self, keypoints, crops):
        """Inverse of :meth:`_to_heatmap` (with the decoder's scale)."""
        crops = _as_crops(crops)
        grid = keypoints.new_tensor(self.heatmap_size)
        heatmap_xy = keypoints / keypoints.new_tensor(self.decoder.scale_factor)
        local = ((heatmap_xy + 0.5) / grid - 0.5) * crops[:, None, 3:5]
        cos, sin = crops[:, None, 5].cos(), crops[:, None, 5].sin()
        d = torch.stack([cos * local[..., 0] + sin * local[..., 1],
                         -sin * local[..., 0] + cos * local[..., 1]], -1)
        return crops[:, None, 1:3] + d - 0.5

    # ------------------------------------------------------------------ training

    def loss(self, feats, batch_data_samples, masks_of=None):
        """Heatmap loss over ground-truth people that have at least one labelled keypoint.

        Args:
            masks_of (callable, optional): ``masks_of(boxes)`` -> ``(N, H, W)`` masks of each
                image's boxes (input pixels): the mask channel's masks with
                ``train_cfg.mask_source='predicted'``.

        Returns:
            dict: ``loss_kpt``; exactly 0 (with a graph, so every rank still reduces the
            head's gradients) when no person of the batch has keypoints.
        """
        predicted = self.mask_channel and self.train_cfg['mask_source'] == 'predicted'
        if predicted and masks_of is None:
            raise ValueError("RoIKeypointHead train_cfg.mask_source='predicted' needs masks_of")
        crops, keypoints, visible, masks = [], [], [], []
        boxes_of = [None] * len(batch_data_samples)  # per image: the persons to mask
        for i, sample in enumerate(batch_data_samples):
            gt = sample.gt_instances
            if 'keypoints_visible' not in gt or len(gt) == 0:
                continue
            keep = gt.keypoints_visible.sum(1) > 0
            if keep.any():
                boxes = gt.bboxes[keep]
                boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
                crops.append(self._jitter(boxes, i))
                keypoints.append(gt.keypoints[keep])
                visible.append(gt.keypoints_visible[keep])
                if predicted:
                    boxes_of[i] = boxes
                elif self.mask_channel:
                    masks.append(_gt_masks(sample, keep, boxes.device))
        if predicted and crops:
            empty = crops[0].new_zeros((0, 4))
            with torch.no_grad():
                masks = masks_of([empty if b is None else b for b in boxes_of])
            masks = [m.float() for m, b in zip(masks, boxes_of) if b is not None]
        if not crops:
            zero = sum(p.sum() for p in self.parameters()) * 0.
            return dict(loss_kpt=zero)
        crops, keypoints, visible = torch.cat(crops), torch.cat(keypoints), torch.cat(visible)
        masks = _cat_padded(masks) if masks else None
        if len(crops) > self.train_cfg['max_rois']:
            pick = torch.randperm(len(crops), device=crops.device)[:self.train_cfg['max_rois']]
            crops, keypoints, visible = crops[pick], keypoints[pick], visible[pick]
            masks = masks[pick] if masks is not None else None
        heatmaps = self.forward(feats, crops, masks)
        in_frame = self._to_heatmap(keypoints, crops).detach().cpu().numpy()
        targets, weights = [], []
        for kpts, vis in zip(in_frame, visible.cpu().numpy()):
            encoded = self.codec.encode(kpts[None], vis[None])
            targets.append(encoded['heatmaps'])
            weights.append(encoded['keypoint_weights'][0])
        targets = heatmaps.new_tensor(np.stack(targets))
        weights = heatmaps.new_tensor(np.stack(weights))
        return dict(loss_kpt=self.head.loss_module(heatmaps, targets, weights))

    def _jitter(self, boxes, index):
        """Training crops ``(N, 6)`` of image ``index``: the top-down crop of each box,
        shifted, scaled and rotated at random (``train_cfg``)."""
        crops = _as_crops(topdown_boxes(boxes, self.aspect_ratio, self.bbox_padding), index)
        if not self.training:
            return crops
        cfg, n = self.train_cfg, len(crops)
        lo, hi = cfg['scale']
        scale = torch.empty(n, 1, device=crops.device).uniform_(lo, hi)
        shift = torch.empty(n, 2, device=crops.device).uniform_(-1, 1) * cfg['shift']
        crops[:, 1:3] += shift * crops[:, 3:5]
        crops[:, 3:5] *= scale
        if cfg['rotate']:
            angle = (torch.randn(n, device=crops.device) * cfg['rotate']).clamp(
                -2 * cfg['rotate'], 2 * cfg['rotate'])
            angle[torch.rand(n, device=crops.device) >= cfg['rotate_prob']] = 0
            crops[:, 5] = angle * math.pi / 180
        return crops

    # ------------------------------------------------------------------ inference

    @property
    def flips_image(self):
        """Whether the flip test needs the features of the mirrored input."""
        return self.test_cfg['flip_test'] in (True, 'image')

    def predict_heatmaps(self, feats, crops, masks=None, mirror=None):
        """Heatmaps ``(R, K, h, w)`` to decode: the softmax of a spatial-softmax head's, and
        with ``test_cfg.flip_test`` the mean with the mirrored crop's (flipped back, left and
        right swapped).

        Args:
            mirror (tuple, optional): ``(feats, width)``: the features of the horizontally
                mirrored input, and its width (pixels), for ``flip_test='image'``.
        """
        crops = _as_crops(crops)
        x = self.roi_inputs(feats, crops, masks)
        if not self.test_cfg['flip_test']:
            return self._activate(self.forward_head(x))
        if self.flips_image:
            if mirror is None:
                raise ValueError("RoIKeypointHead flip_test=True ('image') needs the mirrored "
                                 "input's features (mirror=(feats, width))")
            mirror_feats, width = mirror
            flipped = crops.clone()  # the same crops in the mirrored input
            flipped[:, 1] = width - crops[:, 1]
            flipped[:, 5] = -crops[:, 5]
            if masks is not None:
                masks = F.pad(masks, (0, width - masks.shape[-1])).flip(-1)
            x_mirror = self.roi_inputs(mirror_feats, flipped, masks)
        else:
            x_mirror = x.flip(-1)
        # the crops and their mirror images in one call (one backend call when exported)
        heatmaps, mirrored = self._activate(self.forward_head(torch.cat([x, x_mirror]))
                                            ).split(len(x))
        return (heatmaps + flip_heatmaps(mirrored, self.flip_indices, shift_heatmap=False)) / 2

    def _activate(self, heatmaps):
        if not self.spatial_softmax:
            return heatmaps
        return heatmaps.flatten(2).softmax(2).reshape(heatmaps.shape)

    def _decode(self, heatmaps):
        """Keypoints ``(R, K, 2)`` (heatmap input pixels) and scores ``(R, K)`` of ``(R, K, h,
        w)`` heatmaps: MSRA codecs vectorised over persons (:mod:`mmhrnet.models.heatmaps`),
        any other codec one person at a time."""
        from mmpose.codecs import MSRAHeatmap
        if type(self.decoder) is MSRAHeatmap:
            return decode_msra(self.decoder, heatmaps)
        decoded = [self.decoder.decode(h) for h in heatmaps]
        return (np.concatenate([k for k, _ in decoded]),
                np.concatenate([s for _, s in decoded]))

    def predict(self, feats, results_list, batch_img_metas, select=True, masks_of=None,
                mirror=None):
        """Add ``keypoints`` ``(N, K, 2)``, ``keypoint_scores`` ``(N, K)`` and ``bbox_scores``
        to each image's detections (boxes in original-image coordinates, as mmdet's
        ``rescale=True`` leaves them); with ``select``, detections below ``score_thr`` or
        beyond ``max_per_img`` are dropped first (given boxes are all kept, as mmpose keeps
        those of a ``bbox_file``).

        Args:
            masks_of (callable, optional): ``masks_of(boxes)`` -> ``(N, H, W)`` masks in input
                pixels of each image's boxes (a list of ``(N, 4)`` in input pixels), for
                ``mask_channel``.
            mirror (tuple, optional): ``(feats, width)`` of the mirrored input, for
                ``test_cfg.flip_test='image'``.

        Returns:
            list[InstanceData]: The detections, with keypoints in original-image pixels.
        """
        cfg, out, crops, owners, boxes_in = self.test_cfg, [], [], [], []
        for i, (res, meta) in enumerate(zip(results_list, batch_img_metas)):
            if select:
                keep = torch.nonzero(res.scores >= cfg['score_thr']).flatten()
                res = res[keep[res.scores[keep].argsort(descending=True)][:cfg['max_per_img']]]
            out.append(res)
            scale = res.bboxes.new_tensor(meta.get('scale_factor', (1., 1.))).repeat(2)
            boxes_in.append(res.bboxes * scale)
            crops.append(_as_crops(topdown_boxes(boxes_in[-1], self.aspect_ratio,
                                                 self.bbox_padding), i))
            owners += [i] * len(res)
        num_kpts = self.head.out_channels
        crops = torch.cat(crops)
        if len(crops):
            masks = _cat_padded(masks_of(boxes_in)) if self.mask_channel else None
            heatmaps = self.predict_heatmaps(feats, crops, masks, mirror)
            heatmaps = heatmaps.detach().float().cpu().numpy()
            keypoints, scores = self._decode(heatmaps)
            keypoints, scores = crops.new_tensor(keypoints), crops.new_tensor(scores)
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


def _per_input(value, in_index, name):
    values = list(value) if isinstance(value, (list, tuple)) else [value] * len(in_index)
    if len(values) != len(in_index):
        raise ValueError(f'RoIKeypointHead: {name} {tuple(values)} for in_index {in_index}')
    return values


def _as_crops(boxes, index=None):
    """``(R, 6)`` crops from ``(R, 4)`` xyxy (with image ``index``), ``(R, 5)`` index + xyxy,
    or ``(R, 6)`` crops (returned as they are)."""
    if boxes.shape[1] == 6:
        return boxes
    if boxes.shape[1] == 4:
        boxes = torch.cat([boxes.new_full((len(boxes), 1), index), boxes], 1)
    centre, size = (boxes[:, 1:3] + boxes[:, 3:5]) / 2, boxes[:, 3:5] - boxes[:, 1:3]
    return torch.cat([boxes[:, :1], centre, size, boxes.new_zeros((len(boxes), 1))], 1)


def _xyxy_rois(crops):
    """Unrotated ``(R, 6)`` crops as mmcv ``RoIAlign``'s ``(R, 5)`` rois."""
    half = crops[:, 3:5] / 2
    return torch.cat([crops[:, :1], crops[:, 1:3] - half, crops[:, 1:3] + half], 1)


def _coords(x):
    """``(R, 2, h, w)``: x and y of each bin centre, -1 .. 1 across the crop."""
    r, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, dtype=x.dtype, device=x.device)
    xs = torch.linspace(-1, 1, w, dtype=x.dtype, device=x.device)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing='xy'))
    return grid[None].expand(r, -1, -1, -1)


def _gt_masks(sample, keep, device):
    """The ground-truth masks ``(N, H, W)`` of the kept persons of a packed sample."""
    gt = sample.gt_instances
    if 'masks' not in gt:
        raise KeyError(f'image {sample.metainfo.get("img_path")} has no instance masks: '
                       'RoIKeypointHead(mask_channel=True) trains on the persons\' masks '
                       '(LoadPeopleAnnotations(with_mask=True))')
    masks = gt.masks
    masks = masks.to_tensor(torch.float32, device) if hasattr(masks, 'to_tensor') else masks
    return masks[keep.to(masks.device)].float()


def _cat_padded(masks):
    """Concatenate ``(N_i, H_i, W_i)`` mask stacks, zero-padded at the bottom / right."""
    h = max(m.shape[-2] for m in masks)
    w = max(m.shape[-1] for m in masks)
    return torch.cat([F.pad(m.float(), (0, w - m.shape[-1], 0, h - m.shape[-2]))
                      for m in masks])
