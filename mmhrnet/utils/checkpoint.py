"""Checkpoints, in one place: reading, checking against a model, loading, finding, writing.

- :func:`read_checkpoint`: a file (CPU, ``weights_only``), refused with one
  :class:`CheckpointError` naming it when it is missing, truncated, not a checkpoint, changed
  after it was saved (the SHA-256 digest :class:`~mmhrnet.engine.SafeCheckpointHook` stores
  in its ``meta``) or holds NaN / inf weights.
- :func:`state_dict_of`, :func:`strip_prefix`, :data:`CLS_HEAD_PREFIXES`: the weights of a
  checkpoint, DataParallel's ``module.`` (or a model's ``backbone.``) removed, and the keys of
  HRNet's ImageNet classification head, which no pose / seg / det model has.
- :func:`compare_keys` / :func:`check_fit`: the fit report (missing, unexpected, mis-shaped
  keys) and the one error a checkpoint that does not fit gives; :func:`load_state_strict` and
  :func:`load_checkpoint_strict` load only after it passed.
- :func:`find_checkpoint`: the newest usable checkpoint of a work dir (for resuming, or its best).
- :func:`atomic_write`: a file that is always either its old content or the complete new one.

torch >= 2.6 loads with ``weights_only=True``; mmengine 0.10.7 calls ``torch.load`` without it,
so the safe unpickler refuses what Runner checkpoints carry beside tensors: numpy arrays in
``dataset_meta`` and mmengine's ``HistoryBuffer`` in the message hub (which pickles its
statistics methods through ``getattr``). Rather than turning the protection off,
:func:`allow_mmengine_checkpoints` allow-lists exactly those types, and maps ``getattr`` to a
version that only resolves the statistics methods of ``HistoryBuffer``.
"""
import glob
import hashlib
import os
import os.path as osp
import pickle
import re
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

DIGEST_KEY = 'mmhrnet_sha256'  # in a checkpoint's meta: digest of all its tensors
# Keys of HRNet's ImageNet classification head (HRNet-C), which no pose / seg / det model has.
CLS_HEAD_PREFIXES = ('incre_modules.', 'downsamp_modules.', 'final_layer.', 'classifier.')
_MAX_LISTED_KEYS = 3


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and the problem."""


def _tensors(obj, prefix=''):
    """``(name, tensor)`` of every tensor in nested dicts / lists, in a fixed order."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key in sorted(obj, key=str):
            yield from _tensors(obj[key], f'{prefix}.{key}' if prefix else str(key))
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _tensors(item, f'{prefix}.{i}' if prefix else str(i))


def checkpoint_digest(checkpoint):
    """SHA-256 over the names, dtypes, shapes and bytes of every tensor of a checkpoint (the
    weights, the optimizer state, the random states in ``meta``...)."""
    sha = hashlib.sha256()
    for name, tensor in _tensors(checkpoint):
        t = tensor.detach().cpu().contiguous().reshape(-1)
        sha.update(f'{name}|{t.dtype}|{tuple(tensor.shape)}|'.encode())
        sha.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b'')
    return sha.hexdigest()


def first_non_finite(state):
    """The name of the first floating-point tensor of ``state`` holding NaN or inf, or None."""
    for name, tensor in _tensors(state):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return name
    return None


def checkpoint_problem(checkpoint):
    """Why a loaded checkpoint's weights cannot be trusted (digest mismatch, NaN / inf), or
    None."""
    if not isinstance(checkpoint, dict):
        return None
    meta = checkpoint.get('meta')
    saved = meta.get(DIGEST_KEY) if isinstance(meta, dict) else None
    if saved is not None and saved != checkpoint_digest(checkpoint):
        return ('corrupt: its weights do not match the SHA-256 digest saved with them (bytes '
                'changed after it was written)')
    bad = first_non_finite(checkpoint.get('state_dict', checkpoint))
    if bad is not None:
        return f'corrupt or from a diverged run: {bad} holds NaN or inf'
    return None


def read_checkpoint(path, verify=True):
    """Load a checkpoint file (CPU, ``weights_only`` with mmengine's types allowed).

    Args:
        path (str): The file.
        verify (bool): Also check the saved digest and that the weights are finite.

    Raises:
        CheckpointError: missing, truncated, not a checkpoint, refused by ``weights_only``,
            or (``verify``) with weights that do not match their digest or are not finite.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path} does not exist')
    if osp.getsize(path) == 0:
        raise CheckpointError(f'checkpoint {path} is empty (0 bytes)')
    with open(path, 'rb') as f:
        head = f.read(4)
    if head == b'PK\x03\x04':  # torch's zip format: its directory is at the end
        import zipfile
        if not zipfile.is_zipfile(path):
            raise CheckpointError(f'checkpoint {path} is truncated or corrupt (its zip '
                                  'directory is missing)')
    elif not head.startswith(b'\x80'):  # nor a legacy (pickle) torch file
        raise CheckpointError(f'checkpoint {path} is not a PyTorch checkpoint (or corrupt)')
    try:
        checkpoint = _load_checkpoint(path, map_location='cpu', logger='silent')
    except Exception as e:  # any failure to read is the file's
        raise CheckpointError(f'checkpoint {path} is {_read_failure(e)}') from None
    if verify:
        problem = checkpoint_problem(checkpoint)
        if problem is not None:
            raise CheckpointError(f'checkpoint {path} is {problem}')
    return checkpoint


def _read_failure(error):
    text = str(error)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()] or ['']
    if 'global' in text.lower() and 'weights_only' in text.lower():
        # weights_only's refusal names the global that would run on its last lines
        line = next((ln for ln in lines if 'global' in ln.lower() and 'GLOBAL' in ln), None)
        line = line or next(ln for ln in lines if 'global' in ln.lower())
        return f'refused by weights_only loading ({line[:160]})'
    if 'zip archive' in text or 'PytorchStreamReader' in text or isinstance(error, EOFError):
        why = re.search(r'(?:zip archive|PytorchStreamReader[^:]*): ([^.]+)', text)
        return f'truncated or corrupt ({why.group(1) if why else type(error).__name__})'
    if 'Unsupported operand' in text or 'invalid load key' in text or \
            'magic number' in text.lower() or isinstance(error, KeyError):
        return 'not a PyTorch checkpoint (or corrupt)'
    return f'unreadable ({type(error).__name__}: {lines[0][:160]})'


class CheckpointFitError(CheckpointError, RuntimeError):
    """A readable checkpoint whose weights are not those of the model it is loaded into."""


def state_dict_of(checkpoint, source='the checkpoint'):
    """The weights of a loaded checkpoint: its ``state_dict`` (or ``model``) entry, or the dict
    itself when it is a bare state dict.

    Raises:
        CheckpointError: no state dict of tensors in it (``source``: what the message names).
    """
    state = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not state or \
            not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f'{source} holds no state dict of tensors (nor one under '
                              "'state_dict' or 'model')")
    return state


def strip_prefix(state, prefix='module.', only=False):
    """``state`` with ``prefix`` removed from its keys (DataParallel's ``module.`` by default).

    Args:
        state (dict): A state dict.
        prefix (str): The prefix to remove.
        only (bool): Keep only the keys that have the prefix (a submodule's weights).

    Returns:
        OrderedDict: The renamed state dict (with the ``_metadata`` torch keeps for BN versions).
    """
    n = len(prefix)
    out = OrderedDict((k[n:] if k.startswith(prefix) else k, v) for k, v in state.items()
                      if not only or k.startswith(prefix))
    metadata = getattr(state, '_metadata', None)
    if metadata is not None:
        out._metadata = OrderedDict((k[n:] if k.startswith(prefix) else k, v)
                                    for k, v in metadata.items())
    return out


def compare_keys(own, state):
    """The fit report of a state dict against a model's.

    Args:
        own (dict): The model's ``state_dict()``.
        state (dict): The weights to load.

    Returns:
        dict: ``missing`` (model keys the weights lack), ``unexpected`` (keys the model lacks)
        and ``mismatched`` (``key (checkpoint shape) vs model (model shape)``), in the model's
        order (missing) or the checkpoint's.
    """
    # BN's step counter is used by no eval and absent from older checkpoints: not missing (as
    # mmengine's strict load)
    return dict(
        missing=[k for k in own if k not in state and 'num_batches_tracked' not in k],
        unexpected=[k for k in state if k not in own],
        mismatched=[f'{k} {tuple(v.shape)} vs model {tuple(own[k].shape)}'
                    for k, v in state.items()
                    if k in own and tuple(v.shape) != tuple(own[k].shape)])


def describe_fit(report, allow_missing=False):
    """One line of a :func:`compare_keys` report (``''`` when the weights fit)."""
    names = dict(missing='missing keys', unexpected='unexpected keys',
                 mismatched='shape mismatches')
    return '; '.join(
        f'{len(report[what])} {name} (e.g. {", ".join(report[what][:_MAX_LISTED_KEYS])})'
        for what, name in names.items()
        if report[what] and not (allow_missing and what == 'missing'))


def check_fit(own, state, source, target, allow_missing=False):
    """Raise one error when ``state`` does not fit a model whose state dict is ``own``.

    Args:
        own (dict): The model's ``state_dict()``.
        state (dict): The weights to load.
        source (str): The checkpoint, for the message.
        target (str): The model (its config, ``'this HRNet backbone'`` ...), for the message.
        allow_missing (bool): Model keys the weights lack are fine (a partial load).

    Raises:
        CheckpointFitError: missing (unless allowed), unexpected or mis-shaped keys, all
            counted and a few named.
    """
    problems = describe_fit(compare_keys(own, state), allow_missing)
    if problems:
        raise CheckpointFitError(f'checkpoint {source} is not a checkpoint of {target}: '
                                 f'{problems}')


def load_state_strict(model, state, source, target, allow_missing=False):
    """Load ``state`` into ``model`` after :func:`check_fit` passed (``allow_missing``: the
    model keys it lacks keep their values)."""
    check_fit(model.state_dict(), state, source, target, allow_missing)
    model.load_state_dict(state, strict=False)  # checked above, stricter than torch's check


def load_checkpoint_strict(model, filename, target='the model of this config'):
    """Load ``filename`` into ``model`` (unwrapped from DDP / TTA wrappers where needed), failing
    with the file name and the offending keys on any missing, unexpected or mis-shaped key, and
    on a checkpoint that is truncated, corrupt or holds NaN / inf (:func:`read_checkpoint`).

    Returns:
        dict: The checkpoint read (its ``meta`` holds ``dataset_meta``...).
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    checkpoint = read_checkpoint(filename)  # truncated, corrupt, NaN: one error naming it
    from .build import unwrap_model
    state = strip_prefix(state_dict_of(checkpoint, f'checkpoint {filename}'))
    load_state_strict(unwrap_model(model), state, filename, target)
    return checkpoint


def _checkpoint_step(path):
    m = re.search(r'(\d+)\.pth$', path)
    return int(m.group(1)) if m else -1


def inspect_checkpoint(path):
    """Load ``path`` and say why it cannot be resumed from.

    Returns:
        tuple: ``(meta, None)`` for a training checkpoint, else ``(None, reason)``: missing,
        unreadable (truncated, not a checkpoint, refused by ``weights_only``), corrupt (bytes
        changed after it was saved: its digest does not match, or NaN / inf weights) or
        without training state.
    """
    if not osp.isfile(path):
        return None, 'missing'
    try:
        ckpt = read_checkpoint(path)
    except CheckpointError as e:
        return None, str(e).split(f'{path} is ', 1)[-1]
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt or 'meta' not in ckpt:
        return None, 'not a training checkpoint (no state_dict / meta)'
    return ckpt['meta'], None


def find_checkpoint(work_dir, best=False):
    """The newest checkpoint in ``work_dir`` that can be resumed from (``best``: its newest
    loadable ``best_*.pth`` first).

    Tries the folder's ``epoch_*.pth`` and ``iter_*.pth`` files and the one ``last_checkpoint``
    names, newest first (best checkpoints are not resumed from: they are no later step).

    Returns:
        tuple: ``(path or None, its meta or None, [(skipped path, reason), ...])``.
    """
    named = None
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
        # A copied or moved work dir keeps the old folder's path in its pointer: the file of
        # that name in this work dir is the one meant.
        here = osp.join(work_dir, osp.basename(named)) if named else None
        if here and (osp.isfile(here) or not osp.isabs(named)):
            named = here
    files = glob.glob(osp.join(work_dir, 'epoch_*.pth')) + glob.glob(
        osp.join(work_dir, 'iter_*.pth'))
    if named and osp.isfile(named):
        files.append(named)
    # Saves are atomic, so a file newer than the one the pointer names is complete (the kill
    # came before the pointer was updated): newest first, a pointer to a lost file before all.
    candidates = [named] if named and not osp.isfile(named) else []
    candidates += sorted(set(files), key=lambda p: (os.path.getmtime(p), _checkpoint_step(p)),
                         reverse=True)
    if best:
        candidates = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')),
                            key=os.path.getmtime, reverse=True) + candidates
    skipped, seen = [], set()
    for path in candidates:
        key = osp.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        meta, problem = inspect_checkpoint(path)
        if problem is None:
            return path, meta, skipped
        skipped.append((path, problem))
    return None, None, skipped


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
