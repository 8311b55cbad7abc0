"""Inference backends: each converts an ONNX file for a precision and runs it on numpy arrays.

A backend module provides ``check(precision)`` (raises where it cannot run it here),
``convert(onnx_file, out_dir, precision, calib_inputs) -> file name`` (relative to ``out_dir``,
named after the ONNX file's stem) and ``Session(path, precision, threads)``, whose
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


def check_precision(precision, backend=None):
    """Raise for an unknown precision, or (with ``backend``) one it cannot run on this CPU."""
    if precision not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}; expected one of {PRECISIONS}')
    if backend is not None:
        get_backend(backend).check(precision)
