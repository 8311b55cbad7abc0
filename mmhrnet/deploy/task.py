"""What each task exports and how a backend takes its place inside the upstream model.

An exported network is the part of the model that holds the multiply-adds:

* pose (mmpose ``TopdownPoseEstimator``): backbone [+ neck] + head -> heatmaps;
* seg (mmseg ``EncoderDecoder``): backbone [+ neck] + decode head -> logits at 1/4;
* det (mmdet two-stage detectors) and multitask (``mmhrnet.HRNetMultiTask``): an image graph
  (backbone + neck + RPN convolutions, and the multi-task model's branches and parsing logits)
  and one graph per RoI head (box, mask, keypoint); mmcv's RoIAlign and mmdet's NMS run in
  torch between them (:mod:`mmhrnet.deploy.det`).

At inference the same upstream model class runs its own ``predict`` (flip test, decoding,
resizing back to the image, NMS) with the exported part swapped out: its backbone becomes a
module that calls the backend, its neck is removed (det: it hands on the pyramid), and the
heads' ``forward`` passes the backend's output through. So a backend returns exactly the
structures the torch model returns.
"""
from mmengine.registry import init_default_scope
from torch import nn

from mmhrnet.tasks import task_of  # noqa: F401 (the exporter's task of a config)
from mmhrnet.utils.build import build_model, load_config  # noqa: F401 (deploy's callers)

from . import det

# Where the weights of a det model's modules that stay in torch live in an export folder
# (none for Faster / Mask R-CNN and the multi-task model: every weight is in a graph).
TORCH_HEADS_FILE = 'torch_heads.pth'


def dataset_meta_of(cfg):
    """The test dataset's metainfo (class / keypoint names, flip indices, palette) as the model
    gets it from the Runner, without loading the annotation file."""
    init_default_scope(cfg.default_scope)
    from mmengine.registry import DATASETS
    dataset_cfg = cfg.test_dataloader.dataset
    klass = DATASETS.get(dataset_cfg.type)
    if cfg.default_scope == 'mmpose':
        from mmpose.datasets.datasets.utils import parse_pose_metainfo
        metainfo = dataset_cfg.get('metainfo') or klass.METAINFO
        return parse_pose_metainfo(metainfo)
    meta = dict(getattr(klass, 'METAINFO', {}))
    meta.update(dataset_cfg.get('metainfo') or {})
    return meta


class ExportedNet(nn.Module):
    """The exported part of a model as one ``forward(inputs) -> tensor | tuple of tensors``."""

    def __init__(self, model, task):
        super().__init__()
        self.model, self.task = model, task
        self.image_graph = det.ImageGraph(model) if task in ('det', 'multitask') else None

    def forward(self, inputs):
        if self.image_graph is not None:
            return self.image_graph(inputs)
        feats = self.model.extract_feat(inputs)
        if self.task == 'pose':
            return self.model.head.forward(feats)
        return self.model.decode_head.forward(feats)

    def output_names(self):
        """The outputs' names (after a call): ``output`` / ``output<i>``, det and multitask
        :meth:`mmhrnet.deploy.det.ImageGraph.output_names`."""
        if self.image_graph is not None:
            return self.image_graph.output_names()
        return None


def _passthrough(feats):
    return feats


def install_backend(model, task, net, names=None, roi_nets=None):
    """Put ``net`` (a module returning what :class:`ExportedNet` returns) in place of the
    exported part of ``model``, in place; the rest of the upstream model stays as it is.
    det / multitask: ``names`` are the image graph's output names and ``roi_nets`` the RoI
    graphs' modules (:func:`mmhrnet.deploy.det.install`)."""
    if task in ('det', 'multitask'):
        return det.install(model, net, names, roi_nets or {})
    model.backbone = net
    model.neck = None  # upstream extract_feat skips a None neck
    if task == 'pose':
        model.head.forward = _passthrough  # an instance attribute shadows the class's forward
    elif task == 'seg':
        model.decode_head.forward = _passthrough
    return model


def torch_heads_state(model, task):
    """The weights that stay in torch after :func:`install_backend` (det: those of heads that
    do not export); None when there are none."""
    if task not in ('det', 'multitask'):
        return None
    prefixes = det.exported_prefixes(model)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith(prefixes)}
    return state or None
