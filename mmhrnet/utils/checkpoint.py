"""Let torch >= 2.6 load mmengine checkpoints with ``weights_only=True`` still in force.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``, so under torch 2.14 the safe
unpickler refuses what Runner checkpoints carry beside tensors: numpy arrays in
``dataset_meta`` and mmengine's ``HistoryBuffer`` in the message hub (which pickles its
statistics methods through ``getattr``). Rather than turning the protection off, this
allow-lists exactly those types, and maps ``getattr`` to a version that only resolves the
statistics methods of ``HistoryBuffer``.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _history_buffer_getattr(obj, name):
    """``getattr`` restricted to the statistics methods a HistoryBuffer pickles."""
    if obj is HistoryBuffer and name in ('min', 'max', 'mean', 'current',
                                         *HistoryBuffer._statistics_methods):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}), which is not allowed')


def allow_mmengine_checkpoints():
    """Allow-list the non-tensor types of mmengine checkpoints for ``weights_only`` loading."""
    multiarray = np.core.multiarray
    dtype_classes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')]
    torch.serialization.add_safe_globals([
        np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar, *dtype_classes,
        HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
    ])


def atomic_write(path, data):
    """Write ``data`` (bytes or str) to ``path`` so that ``path`` is always either its old
    content or the complete new one: a temporary file in the same folder, fsynced, renamed over
    ``path``, then the folder fsynced so the rename itself survives a power cut."""
    import os
    import tempfile
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.',
                               suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)  # mkstemp makes the file 0600: give it what open() would
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
