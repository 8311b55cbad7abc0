"""Deployment: export to ONNX, ONNX Runtime and OpenVINO at fp32 / bf16 / int8, and a faster
torch path.

    from mmhrnet.deploy import export_model, load_backend_model
    export_model(CONFIG, CHECKPOINT, 'work_dirs/export', backend='openvino', precision='int8')
    model = load_backend_model('work_dirs/export', backend='openvino')
    results = model.test_step(data)  # the torch model's data samples
"""
from .backend_model import BackendModel, load_backend_model
from .export import export_model, read_meta
from .optimize import fold_conv_bn, optimize_model

__all__ = [
    'BackendModel', 'export_model', 'fold_conv_bn', 'load_backend_model', 'optimize_model',
    'read_meta'
]
