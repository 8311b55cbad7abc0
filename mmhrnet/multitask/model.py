"""One HRNet pass, three tasks: person boxes + instance masks, human parsing, keypoints.

Design (``HRNetMultiTask``): the whole image goes once through ``mmhrnet.HRNet`` (four
branches). Each task reads the representation its single-task model reads:

- detection / instance masks: HRNetV2p, i.e. ``mmhrnet.HRFPN`` on the four branches, then
  mmdet's RPN and Mask R-CNN RoI heads, unchanged (this class *is* mmdet's ``MaskRCNN``);
- parsing: HRNetV2, the 15C head (``mmhrnet.HRNetV2Head``) on the four branches, mmseg's loss;
- keypoints: HRNetV1, the 1/4 branch, RoI-aligned for each person box on the heatmap grid of
  mmpose's codec and fed to mmpose's ``HeatmapHead`` (:class:`RoIKeypointHead`).

Why top-down keypoints from RoIs rather than a bottom-up head: (1) every keypoint head input is
then exactly what the single-task top-down model's head sees, the V1 branch on the codec's
grid, so an mmpose top-down checkpoint's 1x1 head loads as it is (tested); (2) the people come
from the detector that runs anyway, so grouping costs nothing, where a bottom-up head (mmpose's
associative-embedding or DEKR heads) needs its own grouping and a 1/4 map for all 17
keypoints over the whole image; (3) its cost is per person and small: with the synthetic
config, 48x36 RoIs of the 16-channel branch through two 3x3 convs of 32 = 0.024 GMACs a
person, 7% of the W18-Small-v1 top-down pose model's 0.34 GMACs a person at 192x144, which
is what this design replaces (numbers: ``docs/multitask.md``). The price is resolution: the
crop is sampled from 1/4 features of the whole image, where the top-down model re-runs the
backbone on an upsampled crop; the comparison in ``docs/multitask.md`` measures what that
costs in AP.

Losses are the upstream ones (mmdet's RPN / box / mask losses, mmseg's cross-entropy, mmpose's
``KeypointMSELoss``), each multiplied by ``loss_weights[task]``. Labels missing for an image are
masked, not guessed (``mmhrnet.multitask.datasets``): parsing ignores pixels labelled 255
(with ``avg_non_ignore=True`` an unlabelled image adds neither loss nor weight), keypoint
heatmap weights are 0 for unlabelled keypoints and people without any are not sampled, and an
image with ``det_labelled=False`` in its metainfo is left out of the detector's losses.
"""
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from mmhrnet.det import MaskRCNN
from mmhrnet.registry import MODELS
from mmhrnet.seg import head_inputs_from
from mmhrnet.tasks import MULTITASK_PARTS

from .keypoints import RoIKeypointHead

TASKS = MULTITASK_PARTS  # 'det', 'parse', 'pose' (mmhrnet.tasks)


class _Features(tuple):
    """Pyramid levels already computed, handed to mmdet's ``loss`` in place of the images."""


@MODELS.register_module()
class HRNetMultiTask(MaskRCNN):
    """mmdet's Mask R-CNN on HRNetV2p with a parsing head and a keypoint head on the same pass.

    Args:
        parse_head (dict): mmseg decode head on the backbone's outputs (``in_channels`` from
            the backbone), e.g. ``dict(type='mmhrnet.HRNetV2Head', num_classes=11)``.
        keypoint_head (dict): :class:`RoIKeypointHead` arguments (``in_channels`` from the
            backbone output it reads).
        loss_weights (dict): Factor of each task's losses: ``det``, ``parse``, ``pose``.
            Defaults to 1 each.
        **kwargs: ``mmhrnet.MaskRCNN`` arguments (``backbone``, ``neck``, ``rpn_head``,
            ``roi_head``, ``train_cfg``, ``test_cfg``, ``data_preprocessor``).
    """

    def __init__(self, *, parse_head, keypoint_head, loss_weights=None, **kwargs):
        super().__init__(**kwargs)
        with DefaultScope.overwrite_default_scope('mmseg'):  # its loss etc. are mmseg's
            self.parse_head = MODELS.build(head_inputs_from(parse_head, self.backbone))
        self.keypoint_head = RoIKeypointHead(**self._keypoint_inputs(keypoint_head))
        if self.keypoint_head.mask_channel and not self.roi_head.with_mask:
            raise ValueError('keypoint_head mask_channel=True reads the persons\' masks at test '
                             'time from the mask head, and roi_head has none')
        unknown = set(loss_weights or {}) - set(TASKS)
        if unknown:
            raise KeyError(f'loss_weights: unknown tasks {sorted(unknown)}, expected {TASKS}')
        self.loss_weights = {t: float((loss_weights or {}).get(t, 1.0)) for t in TASKS}

    def _keypoint_inputs(self, keypoint_head):
        """The keypoint head's arguments with ``in_channels`` and ``stride`` of the outputs it
        reads (``source``: the backbone's branches or the neck's levels), as those declare
        them; given ones must match."""
        cfg = dict(keypoint_head)
        source = cfg.get('source', 'backbone')
        if source not in ('backbone', 'neck'):
            raise ValueError(f"keypoint_head source must be 'backbone' or 'neck', got {source!r}")
        module = getattr(self, source)
        index = cfg.get('in_index', 0)
        index = list(index) if isinstance(index, (list, tuple)) else [index]
        declared = module.out_channels
        declared = [declared] * len(module.strides) if isinstance(declared, int) else declared
        channels = [declared[i] for i in index]
        given = cfg.setdefault('in_channels', channels)
        given = list(given) if isinstance(given, (list, tuple)) else [given] * len(index)
        if given != channels:
            raise ValueError(f'keypoint_head in_channels {tuple(given)} do not match the '
                             f'out_channels {tuple(declared)} that {type(module).__name__} '
                             f'declares (at in_index {tuple(index)})')
        cfg.setdefault('stride', [module.strides[i] for i in index])
        return cfg

    def _keypoint_feats(self, branches, pyramid):
        return pyramid if self.keypoint_head.source == 'neck' else branches

    def _masks_at_input(self, pyramid, metas, samples=None, parse_logits=None):
        """``masks_of`` for the keypoint head: the Mask R-CNN head's masks of given boxes
        (input pixels), pasted at the input size; with the keypoint head's
        ``test_cfg.mask_source`` ``'parsed'`` those masks (grown by ``test_cfg.mask_grow``
        pixels) where the parsing map has a person part, ``'ground_truth'`` the mask of each
        box's best-matching ground-truth person of ``samples`` (IoU, none below 0.1: empty),
        ``'box'`` the box filled."""
        cfg = self.keypoint_head.test_cfg
        source = cfg['mask_source']
        if source in ('ground_truth', 'box'):
            return lambda boxes: [_reference_masks(b, m, s, source) for b, m, s in
                                  zip(boxes, metas, samples or [None] * len(metas))]
        predicted = self._predicted_masks(pyramid, metas)
        if source == 'predicted':
            return predicted
        people = [self._parse_map(parse_logits[i:i + 1], meta, rescale=False)[0] != 0
                  for i, meta in enumerate(metas)]  # 0: background

        def masks_of(boxes):
            return [_grow(masks, cfg.get('mask_grow', 0)) * fg
                    for masks, fg in zip(predicted(boxes), people)]
        return masks_of

    def _predicted_masks(self, pyramid, metas):
        """``masks_of(boxes)``: the Mask R-CNN head's binary masks of each image's boxes
        (input pixels), pasted at the input size; with the keypoint head's ``soft_masks``,
        its probabilities (mmdet's ``mask_thr_binary < 0``: 0..255, here 0..1)."""
        soft = self.keypoint_head.soft_masks

        def masks_of(boxes):
            results = [InstanceData(bboxes=b, labels=b.new_zeros(len(b), dtype=torch.long))
                       for b in boxes]
            input_metas = [dict(m, scale_factor=(1., 1.), ori_shape=m['img_shape'][:2])
                           for m in metas]
            cfg = self.roi_head.test_cfg
            threshold = cfg.mask_thr_binary
            cfg.mask_thr_binary = -1 if soft else threshold
            try:
                results = self.roi_head.predict_mask(pyramid, input_metas, results,
                                                     rescale=False)
            finally:
                cfg.mask_thr_binary = threshold
            return [r.masks.float() / 255 if soft else r.masks for r in results]
        return masks_of

    def extract_feat(self, batch_inputs):
        if isinstance(batch_inputs, _Features):
            return tuple(batch_inputs)
        return super().extract_feat(batch_inputs)

    def _features(self, batch_inputs):
        branches = self.backbone(batch_inputs)
        return branches, self.neck(branches)

    def loss(self, batch_inputs, batch_data_samples):
        branches, pyramid = self._features(batch_inputs)
        losses = {}
        labelled = [i for i, s in enumerate(batch_data_samples)
                    if s.metainfo.get('det_labelled', True)]
        if labelled:
            if len(labelled) < len(batch_data_samples):
                pyramid_det = _Features(level[labelled] for level in pyramid)
                samples = [batch_data_samples[i] for i in labelled]
            else:
                pyramid_det, samples = _Features(pyramid), batch_data_samples
            losses.update(self._weighted(super().loss(pyramid_det, samples), 'det'))
        losses.update(self._weighted(self._parse_loss(branches, batch_data_samples), 'parse'))
        kpt_feats = self._keypoint_feats(branches, pyramid)
        head = self.keypoint_head
        masks_of = None  # the mask head's masks as the mask channel, as at test (no grad)
        if head.mask_channel and head.train_cfg['mask_source'] == 'predicted':
            masks_of = self._predicted_masks(pyramid, [s.metainfo for s in batch_data_samples])
        losses.update(self._weighted(head.loss(kpt_feats, batch_data_samples, masks_of),
                                     'pose'))
        return losses

    def _weighted(self, losses, task):
        w = self.loss_weights[task]
        return {k: (_scale(v, w) if 'loss' in k else v) for k, v in losses.items()}

    def _parse_loss(self, branches, batch_data_samples):
        seg_samples = []
        for sample in batch_data_samples:
            # mmdet packs (and its preprocessor pads with 255) the map as gt_sem_seg.sem_seg
            seg = sample.gt_sem_seg.sem_seg if 'gt_sem_seg' in sample else None
            if seg is None:
                raise KeyError(f'image {sample.metainfo.get("img_path")} has no gt_sem_seg: '
                               'load it with mmhrnet.LoadPeopleAnnotations(with_seg=True)')
            seg_samples.append(SegDataSample(gt_sem_seg=PixelData(data=seg.long()),
                                             metainfo=sample.metainfo))
        losses = self.parse_head.loss(branches, seg_samples, self.train_cfg)
        return {('loss_parse' if k == 'loss_ce' else f'parse_{k}'): v for k, v in losses.items()}

    def predict(self, batch_inputs, batch_data_samples, rescale=True):
        """Boxes, masks, keypoints and a parsing map for each image.

        Returns:
            list[DetDataSample]: ``pred_instances`` (``bboxes``, ``scores``, ``labels``,
            ``masks``, ``keypoints``, ``keypoint_scores``, ``bbox_scores``; original-image
            coordinates with ``rescale``) and ``pred_sem_seg.sem_seg`` ``(1, H, W)`` labels.
            Samples with ``given_instances`` (person boxes ``bboxes`` in original-image
            coordinates, and ``scores``; from a dataset's ``bbox_file``) also get
            ``pred_pose_instances``: keypoints decoded on those boxes, in original pixels.
        """
        branches, pyramid = self._features(batch_inputs)
        rpn = self.rpn_head.predict(pyramid, batch_data_samples, rescale=False)
        results = self.roi_head.predict(pyramid, rpn, batch_data_samples, rescale=rescale)
        metas = [s.metainfo for s in batch_data_samples]
        given = [s.get('given_instances') for s in batch_data_samples]
        det_metas = metas if rescale else [dict(m, scale_factor=(1., 1.)) for m in metas]
        kpt_feats = self._keypoint_feats(branches, pyramid)
        logits = self.parse_head.forward(branches)
        masks_of = self._masks_at_input(pyramid, metas, batch_data_samples, logits)
        mirror = None
        if self.keypoint_head.flips_image:  # the flip test on the mirrored input's features
            mirror = (self._keypoint_feats(*self._features(batch_inputs.flip(-1))),
                      batch_inputs.shape[-1])
        results = self.keypoint_head.predict(kpt_feats, results, det_metas, masks_of=masks_of,
                                             mirror=mirror)
        if any(g is not None for g in given):
            if any(g is None for g in given):
                raise ValueError('given_instances: some images of the batch have given person '
                                 'boxes and some none; give all (an empty set for none)')
            pose = self.keypoint_head.predict(  # given boxes are in original-image pixels
                kpt_feats, [g.clone() for g in given], metas, select=False, masks_of=masks_of,
                mirror=mirror)
            for sample, res in zip(batch_data_samples, pose):
                sample.pred_pose_instances = res
        batch_data_samples = self.add_pred_to_datasample(batch_data_samples, results)
        for i, sample in enumerate(batch_data_samples):
            sample.pred_sem_seg = PixelData(
                sem_seg=self._parse_map(logits[i:i + 1], sample.metainfo, rescale))
        return batch_data_samples

    def _parse_map(self, logits, meta, rescale):
        """Labels ``(1, H, W)`` of one image: logits to the padded input, padding cut off, then
        to the original size (mmseg's order: resize logits, argmax last)."""
        align = self.parse_head.align_corners
        logits = F.interpolate(logits, size=meta['batch_input_shape'], mode='bilinear',
                               align_corners=align)
        h, w = meta['img_shape'][:2]
        logits = logits[..., :h, :w]
        if rescale:
            logits = F.interpolate(logits, size=meta['ori_shape'][:2], mode='bilinear',
                                   align_corners=align)
        # max's indices: argmax's (the first largest), a third of its time over channels on CPU
        return logits.max(1)[1]

    def _forward(self, batch_inputs, batch_data_samples=None):
        """``tensor`` mode: mmdet's raw RPN / RoI outputs plus the parsing logits (keypoints
        need detections first, so this mode has none)."""
        branches, pyramid = self._features(batch_inputs)
        det = super()._forward(_Features(pyramid), batch_data_samples)
        return det + (self.parse_head.forward(branches), )


def _scale(loss, weight):
    if isinstance(loss, (list, tuple)):
        return type(loss)(x * weight for x in loss)
    return loss * weight


def task_state_dict(state_dict, task):
    """Keys of a single-task checkpoint renamed to the matching parts of ``HRNetMultiTask``.

    Args:
        state_dict (dict): ``state_dict`` (or ``checkpoint['state_dict']``) of an mmpose
            ``TopdownPoseEstimator``, mmseg ``EncoderDecoder`` or mmdet ``MaskRCNN`` /
            ``FasterRCNN``.
        task (str): ``'pose'`` (``head.*`` -> ``keypoint_head.head.*``), ``'parse'``
            (``decode_head.*`` -> ``parse_head.*``; an ``auxiliary_head`` is dropped) or
            ``'det'`` (keys unchanged). ``backbone.*`` stays in all three.

    Returns:
        dict: The renamed state dict, to load with ``strict=False``.
    """
    prefix = dict(pose=('head.', 'keypoint_head.head.'), parse=('decode_head.', 'parse_head.'),
                  det=None)
    if task not in prefix:
        raise KeyError(f'task must be one of {sorted(prefix)}, got {task!r}')
    if prefix[task] is None:
        return dict(state_dict)
    old, new = prefix[task]
    out = {}
    for key, value in state_dict.items():
        if key.startswith('backbone.'):
            out[key] = value
        elif key.startswith(old):
            out[new + key[len(old):]] = value
    return out


def load_single_task(model, checkpoint, task):
    """Load a single-task checkpoint's backbone and head into ``model`` (an
    :class:`HRNetMultiTask`); keys the multi-task model lacks or shapes that differ fail
    (:func:`mmhrnet.utils.checkpoint.check_fit`).

    Args:
        model (HRNetMultiTask): The model.
        checkpoint (str | dict): Checkpoint file or its loaded dict / state dict.
        task (str): ``'pose'``, ``'parse'`` or ``'det'``.

    Returns:
        list[str]: The model keys that were loaded.
    """
    from mmhrnet.utils.checkpoint import load_state_strict, read_checkpoint, state_dict_of
    source = checkpoint if isinstance(checkpoint, str) else f'the {task} checkpoint given'
    if isinstance(checkpoint, str):
        checkpoint = read_checkpoint(checkpoint)
    state = task_state_dict(state_dict_of(checkpoint, source), task)
    load_state_strict(model, state, source, type(model).__name__, allow_missing=True)
    return sorted(state)


def _grow(masks, pixels):
    """Masks ``(N, H, W)`` (binary or soft) grown by ``pixels`` (a square max filter)."""
    if not pixels or not len(masks):
        return masks
    size = 2 * int(pixels) + 1
    grown = F.max_pool2d(masks[:, None].float(), size, 1, int(pixels))[:, 0]
    return grown > 0 if masks.dtype == torch.bool else grown.to(masks.dtype)


def _reference_masks(boxes, meta, sample, source):
    """Masks ``(N, H, W)`` at the input size for the keypoint head's measuring sources
    (``RoIKeypointHead`` ``test_cfg.mask_source``): the boxes filled, or the ground-truth mask
    of the best-overlapping person of ``sample``."""
    from mmdet.structures.bbox import bbox_overlaps
    h, w = meta['img_shape'][:2]
    masks = boxes.new_zeros((len(boxes), h, w))
    if source == 'box':
        for mask, (x1, y1, x2, y2) in zip(masks, boxes.round().long().tolist()):
            mask[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = 1
        return masks
    gt = sample.gt_instances if sample is not None and 'gt_instances' in sample else None
    if gt is None or 'masks' not in gt:
        raise KeyError(f'image {meta.get("img_path")}: mask_source=\'ground_truth\' needs the '
                       'ground-truth masks in the test pipeline (LoadPeopleAnnotations'
                       '(with_mask=True))')
    if len(gt) and len(boxes):
        gt_boxes = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes
        iou = bbox_overlaps(boxes, gt_boxes.to(boxes))
        best, index = iou.max(1)
        gt_masks = gt.masks.to_tensor(torch.float32, boxes.device)
        for i in range(len(boxes)):
            if best[i] >= 0.1:
                mask = gt_masks[index[i]]
                masks[i, :mask.shape[0], :mask.shape[1]] = mask[:h, :w]
    return masks

