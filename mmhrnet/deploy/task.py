"""What each task exports and how a backend takes its place inside the upstream model.

An exported network is the part of the model that holds the multiply-adds:

* pose (mmpose ``TopdownPoseEstimator``): backbone [+ neck] + head -> heatmaps;
* seg (mmseg ``EncoderDecoder``): backbone [+ neck] + decode head -> logits at 1/4;
* det (mmdet two-stage detectors): backbone + neck -> the pyramid; the RPN and RoI heads (mmcv's
  RoIAlign, NMS) stay in torch.

At inference the same upstream model class runs its own ``predict`` (flip test, decoding,
resizing back to the image, NMS) with the exported part swapped out: its backbone becomes a
module that calls the backend, its neck is removed, and for pose and seg the head's
``forward`` passes the backend's output through. So a backend returns exactly the structures
the torch model returns.
"""
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from mmhrnet.utils import fidelity

# config ``default_scope`` -> task
TASKS = {'mmpose': 'pose', 'mmseg': 'seg', 'mmdet': 'det'}
# Where the weights of the torch-side heads of a det model live in an export folder.
TORCH_HEADS_FILE = 'torch_heads.pth'


def task_of(cfg):
    """The task (``'pose'``, ``'seg'`` or ``'det'``) of a config, from its ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        raise ValueError(f'cannot export a model of default_scope {scope!r}: expected one of '
                         f'{sorted(TASKS)} (pose, seg, det)')
    return TASKS[scope]


def load_config(config, cfg_options=None):
    """A :class:`mmengine.Config` from a file (or a Config), with ``--cfg-options`` merged."""
    import mmhrnet  # noqa: F401 (registers `mmhrnet::` config bases)
    cfg = config if isinstance(config, Config) else Config.fromfile(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_model(cfg, checkpoint=None):
    """Build the config's model in eval mode and load ``checkpoint`` strictly (None: as built)."""
    from mmhrnet.engine import build_config_model, load_checkpoint_strict
    model = build_config_model(cfg)
    if checkpoint is not None:
        load_checkpoint_strict(model, str(checkpoint))
    return model.eval()


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

    def forward(self, inputs):
        feats = self.model.extract_feat(inputs)
        if self.task == 'pose':
            return self.model.head.forward(feats)
        if self.task == 'seg':
            return self.model.decode_head.forward(feats)
        return tuple(feats)


def _passthrough(feats):
    return feats


def install_backend(model, task, net):
    """Put ``net`` (a module returning what :class:`ExportedNet` returns) in place of the
    exported part of ``model``, in place; the rest of the upstream model stays as it is."""
    model.backbone = net
    model.neck = None  # upstream extract_feat skips a None neck
    if task == 'pose':
        model.head.forward = _passthrough  # an instance attribute shadows the class's forward
    elif task == 'seg':
        model.decode_head.forward = _passthrough
    return model


def torch_heads_state(model, task):
    """The weights that stay in torch after :func:`install_backend` (det: RPN and RoI heads)."""
    if task != 'det':
        return None
    return {k: v for k, v in model.state_dict().items()
            if not k.startswith(('backbone.', 'neck.'))}


def outputs_as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out, )


def max_rel_diff(outs, refs):
    """Largest absolute difference over the largest reference magnitude, over all outputs."""
    worst = 0.0
    outs, refs = outputs_as_tuple(outs), outputs_as_tuple(refs)
    if len(outs) != len(refs):  # zip would stop at the shorter: a dropped output would pass
        raise ValueError(f'{len(outs)} outputs, the reference has {len(refs)}')
    for out, ref in zip(outs, refs):
        out, ref = torch.as_tensor(out).float(), torch.as_tensor(ref).float()
        if out.shape != ref.shape:
            raise ValueError(f'output shape {tuple(out.shape)} differs from the reference '
                             f'{tuple(ref.shape)}')
        worst = max(worst, fidelity.max_rel_diff(ref, out))
    return worst
