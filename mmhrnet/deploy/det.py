"""Two-stage detectors (mmdet Faster / Mask R-CNN) and the one-pass multi-task model
(``mmhrnet.HRNetMultiTask``) exported as a few graphs, mmdet's own code running between them.

The graphs (each one ONNX file, then one file per backend and precision):

* ``model``, the image graph: backbone + neck (HRFPN) + the RPN head's convolutions ->
  ``pyramid<i>``, ``rpn_cls<i>``, ``rpn_reg<i>`` per pyramid level; the multi-task model adds
  ``branch<i>`` (the backbone's outputs, which its keypoint head samples) and ``parse0`` (the
  parsing head's logits);
* ``bbox_head``: the RoI box head (shared FCs, classifier, box regressor) on RoI features
  ``(R, C, 7, 7)`` -> class scores and box deltas;
* ``mask_head``: the mask head's convolutions and deconvolution -> mask logits;
* ``keypoint_head`` (multi-task): the keypoint head's network after its RoIAlign
  (``RoIKeypointHead.forward_head``: coordinate channels, RoI convs, the mmpose heatmap head)
  on the RoI features (and mask channel) it is given -> heatmaps.

Between them torch runs the upstream code unchanged: the RPN's decoding and NMS
(``rpn_head.predict_by_feat``), ``bbox2roi`` and mmcv's RoIAlign in mmdet's RoI extractors, the
box decoding and class-wise NMS of ``bbox_head.predict_by_feat``, mask pasting, and the keypoint
head's RoIAlign and decoding. It is the model's own ``predict`` with each exported module's
``forward`` replaced by a backend call (:func:`install`): the backbone returns a
:class:`Computed` tuple carrying the other outputs, the neck hands on the pyramid, and the RPN,
parsing, box, mask and keypoint heads return what the backend computed.

Not one graph: ONNX has ``RoiAlign`` (opset 10; ``half_pixel``, i.e. mmcv's ``aligned=True``,
from opset 16) and ``NonMaxSuppression``, but what lies between the convolutions is mmdet's
Python: the per-image, per-level top-k and score filtering of ``predict_by_feat``, the
assignment of each RoI to a pyramid level by its size in ``SingleRoIExtractor`` (a
data-dependent scatter into one output), ``batched_nms`` with its class offsets, and
``InstanceData`` bookkeeping. torch's ONNX tracer keeps only the path that Python control flow
took for the one input it traces (loops over images and levels, branches on box counts), so a
single graph needs mmdeploy-style rewrites of those functions (not done); this module keeps
mmdet's code instead.
"""
import contextlib

import numpy as np
import torch
from torch import nn

# The image graph's output groups, in their order; each becomes ``<group><i>`` outputs.
IMAGE_GROUPS = ('pyramid', 'rpn_cls', 'rpn_reg', 'branch', 'parse')
IMAGE_GRAPH = 'model'


class Computed(tuple):
    """Outputs of a backend call handed on in a module's place: the tuple is what the next
    module reads (the backbone's branches, or the pyramid levels), the rest are attributes
    (``pyramid``, ``rpn`` and ``parse``)."""

    def __new__(cls, items, **extras):
        obj = super().__new__(cls, items)
        obj.__dict__.update(extras)
        return obj


def is_multitask(model):
    """Whether ``model`` is the one-pass multi-task model (parsing and keypoint heads)."""
    return hasattr(model, 'parse_head') and hasattr(model, 'keypoint_head')


class ImageGraph(nn.Module):
    """The image graph: backbone + neck + RPN convolutions (+ the multi-task model's branches
    and parsing logits) as ``forward(inputs) -> tuple of tensors``; ``groups`` holds the number
    of outputs of each group in :data:`IMAGE_GROUPS` after a call."""

    def __init__(self, model):
        super().__init__()
        self.model, self.groups = model, None

    def forward(self, inputs):
        model = self.model
        branches = tuple(model.backbone(inputs))
        pyramid = tuple(model.neck(branches)) if model.with_neck else branches
        cls_scores, bbox_preds = model.rpn_head.forward(pyramid)
        groups = dict(pyramid=pyramid, rpn_cls=tuple(cls_scores), rpn_reg=tuple(bbox_preds))
        if is_multitask(model):
            groups.update(branch=branches, parse=(model.parse_head.forward(branches), ))
        self.groups = {g: len(groups[g]) for g in IMAGE_GROUPS if g in groups}
        return tuple(t for g in IMAGE_GROUPS if g in groups for t in groups[g])

    def output_names(self):
        return [f'{g}{i}' for g, n in self.groups.items() for i in range(n)]


def split_outputs(outs, names):
    """Backend outputs in :class:`ImageGraph` order -> ``{group: [tensors]}``."""
    groups = {}
    for name, out in zip(names, outs):
        groups.setdefault(name.rstrip('0123456789'), []).append(out)
    return groups


class ImageOutputs(nn.Module):
    """In the backbone's place: runs the image graph (``net``, a module calling the backend)
    and returns the branches as a :class:`Computed` carrying the pyramid (which carries the
    RPN outputs) and the parsing logits."""

    def __init__(self, net, names):
        super().__init__()
        self.net, self.names = net, list(names)

    def forward(self, inputs):
        groups = split_outputs(self.net(inputs), self.names)
        pyramid = Computed(groups['pyramid'], rpn=(groups['rpn_cls'], groups['rpn_reg']))
        parse = groups.get('parse', [None])[0]
        return Computed(groups.get('branch', ()), pyramid=pyramid, parse=parse)


class PyramidOf(nn.Module):
    """In the neck's place: the pyramid that the image graph computed."""

    def forward(self, branches):
        return branches.pyramid


def _rpn_outputs(feats):
    return feats.rpn


def _parse_logits(branches):
    return branches.parse


class BoxGraph(nn.Module):
    """The RoI box head as a graph: RoI features -> ``(cls_score, bbox_pred)``."""

    def __init__(self, bbox_head):
        super().__init__()
        self.bbox_head = bbox_head

    def forward(self, rois):
        return tuple(self.bbox_head.forward(rois))


class MethodGraph(nn.Module):
    """One method of a module (e.g. ``RoIKeypointHead.forward_head``) as a graph on one
    tensor."""

    def __init__(self, module, method):
        super().__init__()
        self.module, self.method = module, method

    def forward(self, x):
        return getattr(self.module, self.method)(x)


def _first(args):
    return args[0]


def _call(net):
    return lambda feats: net(feats)


class RoIPart:
    """One exportable RoI computation of a model: a method of one of its modules.

    Attributes:
        name (str): The graph's name (``bbox_head``, ``mask_head``, ``keypoint_head``).
        path (str): The module's attribute path in the model.
        method (str): The method that becomes the graph (``forward``, ``forward_head``).
        graph (callable): ``module -> nn.Module`` to export (tensor in, tensor(s) out).
        pick (callable): The graph's input from the method's arguments.
        wrap (callable): ``net -> function`` taking the method's arguments: put in the
            method's place (a plain function: a module set as an attribute would be
            registered as a submodule instead of shadowing the method).
        multi (bool): Whether the graph returns a tuple.
        prefix (str): State-dict prefix of the weights the graph holds.
    """

    def __init__(self, name, path, graph, method='forward', pick=_first, wrap=_call,
                 multi=False, prefix=None):
        self.name, self.path, self.graph, self.method = name, path, graph, method
        self.pick, self.wrap, self.multi = pick, wrap, multi
        self.prefix = prefix or f'{path}.'

    def module(self, model):
        obj = model
        for attr in self.path.split('.'):
            obj = getattr(obj, attr)
        return obj


def roi_parts(model):
    """The RoI computations of ``model`` that export: the box and mask heads of an mmdet
    ``StandardRoIHead`` without a shared head, and the multi-task keypoint head's network
    (``RoIKeypointHead.forward_head``: the convolutions after its RoIAlign; the mmpose head
    of a keypoint head without that method). Others (cascade heads, shared heads) stay in
    torch."""
    from mmdet.models.roi_heads import StandardRoIHead
    parts = []
    roi_head = getattr(model, 'roi_head', None)
    if isinstance(roi_head, StandardRoIHead) and not roi_head.with_shared_head:
        parts.append(RoIPart('bbox_head', 'roi_head.bbox_head', BoxGraph, multi=True))
        if roi_head.with_mask:
            parts.append(RoIPart('mask_head', 'roi_head.mask_head', lambda m: m))
    if is_multitask(model):
        parts.append(RoIPart('keypoint_head', 'keypoint_head',
                             lambda m: MethodGraph(m, 'forward_head'), method='forward_head'))
    return parts


@contextlib.contextmanager
def recording(parts, model):
    """Record the graph inputs each part's method is called with, as ``{name: [tensor]}``
    (the method is wrapped as an instance attribute, so explicit ``.forward`` calls count)."""
    records, saved = {}, []
    for part in parts:
        module = part.module(model)
        saved.append((module, part.method, module.__dict__.get(part.method)))
        original = getattr(module, part.method)

        def wrapped(*args, _original=original, _part=part, **kwargs):
            records[_part.name].append(_part.pick(args).detach().float().clone())
            return _original(*args, **kwargs)

        setattr(module, part.method, wrapped)
        records[part.name] = []
    try:
        yield records
    finally:
        for module, method, own in saved:
            if own is None:
                delattr(module, method)
            else:
                setattr(module, method, own)


def sample_metas(inputs):
    """Data samples for network inputs ``(B, 3, H, W)`` already preprocessed (scale 1, no
    padding): what ``predict`` needs to run on calibration and example inputs."""
    from mmdet.structures import DetDataSample
    h, w = inputs.shape[2:]
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1., 1.), img_id=0)
    return [DetDataSample(metainfo=meta) for _ in range(len(inputs))]


def roi_inputs(model, images, parts):
    """The inputs each RoI graph gets when ``model.predict`` runs on ``images`` (a list of
    ``(1, 3, H, W)`` arrays or tensors): ``{name: [array (R, ...)]}`` (empty calls dropped)."""
    with torch.no_grad(), recording(parts, model) as records:
        for image in images:
            image = torch.as_tensor(np.asarray(image), dtype=torch.float32)
            model.predict(image, sample_metas(image), rescale=False)
    return {name: [r.numpy() for r in recs if len(r)] for name, recs in records.items()}


def example_roi_inputs(model, image, parts):
    """One input per RoI graph to trace with, ``{name: tensor}``: random RoI features of the
    shape the box / mask RoI extractors give, and for the keypoint head the features that the
    model's own ``predict`` hands its network for a given person box in the middle of
    ``image``."""
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(1)
    examples = {}
    roi_head = getattr(model, 'roi_head', None)
    for part in parts:
        if part.name in ('bbox_head', 'mask_head'):
            extractor = roi_head.bbox_roi_extractor if part.name == 'bbox_head' or \
                roi_head.share_roi_extractor else roi_head.mask_roi_extractor
            size = extractor.roi_layers[0].output_size
            examples[part.name] = torch.randn(3, extractor.out_channels, *size, generator=gen)
        elif part.name == 'keypoint_head':
            h, w = image.shape[2:]
            samples = sample_metas(image)
            samples[0].given_instances = InstanceData(
                bboxes=torch.tensor([[w * .25, h * .2, w * .6, h * .9]]), scores=torch.ones(1))
            with torch.no_grad(), recording([part], model) as records:
                model.predict(image, samples, rescale=False)
            examples[part.name] = torch.cat([next(r for r in records[part.name] if len(r))] * 3)
    return examples


class RoINet(nn.Module):
    """A RoI graph on a backend, as a torch module: ``(R, ...)`` features in (any R, none
    included), the module's outputs out."""

    def __init__(self, session, meta, multi):
        super().__init__()
        self.session, self.multi = session, multi
        self.out_shapes = [s[1:] for s in meta['output_shapes']]

    def forward(self, feats):
        if len(feats) == 0:  # no boxes: a backend may refuse an empty batch
            outs = [feats.new_zeros((0, *s)) for s in self.out_shapes]
        else:
            outs = [torch.from_numpy(o).to(feats.device)
                    for o in self.session(feats.detach().float().cpu().numpy())]
        return tuple(outs) if self.multi else outs[0]


def install(model, image_net, names, roi_nets):
    """Put the backends in place of the exported modules of ``model``, in place.

    Args:
        model: The mmdet two-stage detector or multi-task model built from the config.
        image_net (nn.Module): Runs the image graph: ``inputs -> tuple`` in ``names`` order.
        names (list[str]): The image graph's output names.
        roi_nets (dict): ``{graph name: RoINet}`` of the exported RoI graphs.
    """
    model.backbone = ImageOutputs(image_net, names)
    model.neck = PyramidOf()
    model.rpn_head.forward = _rpn_outputs  # an instance attribute shadows the class's forward
    if is_multitask(model):
        model.parse_head.forward = _parse_logits
    for part in roi_parts(model):
        if part.name in roi_nets:
            setattr(part.module(model), part.method, part.wrap(roi_nets[part.name]))
    return model


def exported_prefixes(model):
    """State-dict prefixes of the modules whose weights are in the graphs."""
    prefixes = ['backbone.', 'neck.', 'rpn_head.'] + [p.prefix for p in roi_parts(model)]
    if is_multitask(model):
        prefixes.append('parse_head.')
    return tuple(prefixes)
