"""Run an export folder on a backend with the upstream model's own test-time code around it."""
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from . import det
from .backend import check_precision, get_backend
from .folder import read_meta
from .task import build_model, dataset_meta_of, install_backend, task_of


class BackendNet(nn.Module):
    """The exported network on a backend, as a torch module: tensors in, tensors out.

    A static batch of B runs a longer batch in steps of B (the last one padded); a static
    input size refuses another one with an error naming both.
    """

    def __init__(self, session, meta, where):
        super().__init__()
        self.session, self.where = session, where
        batch, _, height, width = meta['input_shape']
        self.batch = batch
        self.size = None if height is None else (height, width)
        self.many = len(meta['output_names']) > 1

    def forward(self, inputs):
        x = inputs.detach().float().cpu().numpy()
        if self.size is not None and tuple(x.shape[2:]) != self.size:
            raise ValueError(f'{self.where} was exported for inputs of {self.size[0]}x'
                             f'{self.size[1]}, not {x.shape[2]}x{x.shape[3]}: export again '
                             'with --shape H W, or without it for seg / det (dynamic size)')
        step = self.batch or len(x)
        outs = []
        for start in range(0, len(x), step):
            chunk = x[start:start + step]
            if len(chunk) < step:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], step - len(chunk), 0)])
            outs.append([o[:len(x) - start] for o in self.session(chunk)])
        outs = [torch.from_numpy(np.concatenate(o)).to(inputs.device) for o in zip(*outs)]
        return tuple(outs) if self.many else outs[0]


class BackendModel(nn.Module):
    """An exported model on a backend, used like the torch model at test time.

    Attributes:
        cfg (Config): The exported model's config (``config.py`` of the export folder).
        meta (dict): ``deploy.json`` of the export folder.
        model (nn.Module): The upstream model (mmpose / mmseg / mmdet class) whose exported
            part runs on the backend; ``test_step`` is its own.
        backend (str), precision (str): What runs.
    """

    def __init__(self, export_dir, backend='onnxruntime', precision=None, device='cpu',
                 threads=None):
        super().__init__()
        if torch.device(device).type != 'cpu':
            raise ValueError(f'device {device!r}: the exported backends run on the CPU only')
        self.meta = read_meta(export_dir)
        self.backend = backend
        models = self.meta['models'].get(backend)
        if not models:
            raise ValueError(f'{export_dir} holds no {backend} model (it has '
                             f'{sorted(self.meta["models"])}): export with --backend {backend}')
        self.precision = precision or self.meta['default_precision'][backend]
        check_precision(self.precision)
        if self.precision not in models:
            raise ValueError(f'{export_dir} holds no {backend} {self.precision} model (it has '
                             f'{sorted(models)}): export with --precision {self.precision}')
        self.cfg = Config.fromfile(osp.join(export_dir, self.meta['config']))
        task = task_of(self.cfg)
        if task in ('det', 'multitask') and 'graphs' not in self.meta:
            raise ValueError(f'{export_dir} holds a det export of an earlier version (the '
                             'pyramid only): export the checkpoint into it again')
        entry = models[self.precision]
        files = entry.get('files') or {det.IMAGE_GRAPH: entry['file']}
        threads = threads or torch.get_num_threads()

        def session(graph):
            return get_backend(backend).Session(osp.join(export_dir, files[graph]),
                                                self.precision, threads)

        path = osp.join(export_dir, files[det.IMAGE_GRAPH])
        model = build_model(self.cfg)
        graphs = self.meta.get('graphs') or {}
        roi_nets = {name: det.RoINet(session(name), graphs[name],
                                     len(graphs[name]['output_names']) > 1)
                    for name in files if name != det.IMAGE_GRAPH}
        install_backend(model, task, BackendNet(session(det.IMAGE_GRAPH), self.meta, path),
                        self.meta['output_names'], roi_nets)
        if self.meta.get('torch_heads'):
            heads = osp.join(export_dir, self.meta['torch_heads'])
            state = torch.load(heads, map_location='cpu', weights_only=True)
            missing, unexpected = model.load_state_dict(state, strict=False)
            missing = [k for k in missing if not k.startswith(det.exported_prefixes(model))]
            if unexpected or missing:
                raise ValueError(f'{heads} does not fit the model of {self.meta["config"]} '
                                 f'(unexpected keys {unexpected[:3]}, missing {missing[:3]})')
        model.dataset_meta = dataset_meta_of(self.cfg)
        self.task, self.model = task, model.eval()

    @property
    def data_preprocessor(self):
        return self.model.data_preprocessor

    @property
    def dataset_meta(self):
        return self.model.dataset_meta

    def test_step(self, data):
        """The upstream model's ``test_step``: ``data`` as the test pipeline and collate make
        it (``dict(inputs=[...], data_samples=[...])``); returns its list of data samples."""
        with torch.no_grad():
            return self.model.test_step(data)

    val_step = test_step

    def forward(self, inputs, data_samples=None, mode='predict'):
        return self.model(inputs, data_samples, mode=mode)


def load_backend_model(export_dir, backend='onnxruntime', device='cpu', precision=None,
                       threads=None):
    """Load an export folder of ``tools/deploy/export.py`` on ``backend``.

    Args:
        export_dir (str): The folder.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        device (str): ``'cpu'`` (the only one the exported backends run on here).
        precision (str | None): ``'fp32'``, ``'bf16'`` or ``'int8'``; None: the precision last
            exported for this backend (fp32 for onnxruntime when only OpenVINO was asked for).
        threads (int | None): Backend threads; None: torch's number of threads.

    Returns:
        BackendModel: ``.cfg``, ``.meta``, ``.data_preprocessor`` and ``.test_step(data)``
        returning the same data samples as the torch model (PoseDataSample with keypoints in
        image space after mmpose's decoding and the config's flip test; SegDataSample with
        ``pred_sem_seg``; DetDataSample with ``pred_instances``, and for the multi-task model
        its keypoints and ``pred_sem_seg``: mmdet's RoIAlign and NMS in torch between the
        graphs).
    """
    return BackendModel(export_dir, backend, precision, device, threads)
