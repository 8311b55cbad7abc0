"""Inference backends: each converts an ONNX file for a precision and runs it on numpy arrays.

A backend module provides ``convert(onnx_file, out_dir, precision, calib_inputs) -> file name``
(relative to ``out_dir``) and ``Session(path, precision, threads)``, whose
``__call__(inputs: np.ndarray) -> list[np.ndarray]`` runs one batch.
"""
from importlib import import_module

BACKENDS = ('onnxruntime', 'openvino')
PRECISIONS = ('fp32', 'bf16', 'int8')


def get_backend(name):
    """The backend module called ``name`` (``'onnxruntime'`` or ``'openvino'``)."""
    if name not in BACKENDS:
        raise ValueError(f'unknown backend {name!r}; expected one of {BACKENDS}')
    return import_module(f'{__name__}.{name}')


def check_precision(precision):
    if precision not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}; expected one of {PRECISIONS}')
