"""Export folders that a failed or repeated export never damages.

An export is built whole in a staging folder beside the export folder, then published:

1. ``deploy.json`` of the folder, if any, is marked incomplete (``"complete": false``): a kill
   during the next step leaves a folder that :func:`read_meta` refuses with one clear error,
   never files of two exports read as one;
2. every staged file is renamed into the folder (a rename replaces a file whole: a process that
   mapped the old one keeps it);
3. the new ``deploy.json`` is written under a temporary name and renamed;
4. files that the old ``deploy.json`` named and the new one does not are removed.

An export that fails before step 1 (a bad precision, calibration, a backend that differs from
torch) leaves the folder as it was. Exporting into a folder that holds the same model (same
checkpoint bytes, config and input shape) adds the new backend / precision to it; a folder that
holds another model's export is replaced as a whole. Files that no ``deploy.json`` named are
never touched.
"""
import contextlib
import hashlib
import json
import os
import os.path as osp
import shutil
import tempfile

META_FILE = 'deploy.json'
# What makes two exports the same model: they may then share a folder.
IDENTITY_KEYS = ('task', 'checkpoint_sha256', 'config_sha256', 'input_shape', 'graph_inputs')


def file_sha256(path):
    """Hex SHA-256 of a file's bytes (None for None)."""
    if path is None:
        return None
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def read_meta(out_dir):
    """``deploy.json`` of an export folder.

    Raises:
        FileNotFoundError: No ``deploy.json``: not an export folder.
        ValueError: It does not parse, or an export into the folder was interrupted.
    """
    path = osp.join(out_dir, META_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: not an export folder of '
                                'tools/deploy/export.py')
    try:
        with open(path) as f:
            meta = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f'{path} is not valid JSON ({e}): export into {out_dir} again') from None
    if not isinstance(meta, dict) or 'models' not in meta:
        raise ValueError(f'{path} is not the deploy.json of tools/deploy/export.py (no '
                         '"models"): export into the folder again')
    if meta.get('complete') is False:
        raise ValueError(f'{path}: an export into {out_dir} was interrupted while it replaced '
                         'the files; export into it again')
    return meta


def _existing_meta(out_dir):
    """The folder's ``deploy.json`` as a dict; ``{}`` when it is there but unreadable or
    incomplete (another export to replace, whose files cannot all be named); None without."""
    if not osp.isfile(osp.join(out_dir, META_FILE)):
        return None
    try:
        return read_meta(out_dir)
    except ValueError:
        return {}


def same_model(old, new):
    """Whether two ``deploy.json`` describe exports of the same model (they may share files)."""
    return bool(old) and all(old.get(k) == new.get(k) for k in IDENTITY_KEYS)


def named_files(meta):
    """Every file of the folder that ``meta`` names (an IR's ``.bin`` with its ``.xml``)."""
    names = {meta.get('config'), meta.get('torch_heads'), meta.get('onnx')}
    names.update(g.get('onnx') for g in (meta.get('graphs') or {}).values())
    for entries in (meta.get('models') or {}).values():
        for entry in entries.values():
            names.add(entry.get('file'))
            names.update((entry.get('files') or {}).values())
    names.discard(None)
    names |= {n[:-len('.xml')] + '.bin' for n in names if n.endswith('.xml')}
    return {n for n in names if isinstance(n, str) and osp.basename(n) == n}


def merge_meta(old, new, backend, precision, out_dir):
    """``new`` with the backends and precisions of ``old`` (the same model) kept beside it,
    those whose files are all in ``out_dir``."""
    merged = dict(new)
    models = {}
    for b, entries in old['models'].items():
        for p, entry in entries.items():
            if all(osp.isfile(osp.join(out_dir, n)) for n in named_files(dict(models={b: {
                    p: entry}}))):
                models.setdefault(b, {})[p] = entry
    models.setdefault(backend, {})[precision] = new['models'][backend][precision]
    for b, entries in new['models'].items():  # the onnxruntime fp32 entry every export has
        for p, entry in entries.items():
            models.setdefault(b, {}).setdefault(p, entry)
    merged['models'] = models
    merged['default_precision'] = {
        b: p for b, p in dict(old.get('default_precision') or {},
                              **new['default_precision']).items() if p in models.get(b, {})}
    return merged


def write_json(path, obj, default=None):
    """Write JSON under a temporary name and rename it over ``path``."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1, default=default)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def staging(out_dir):
    """A fresh folder beside ``out_dir`` (same file system, so its files rename into it),
    removed on exit whatever happens."""
    out_dir = osp.abspath(out_dir)
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(f'export folder {out_dir} is a file')
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.export-', dir=parent)
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(stage, out_dir, meta, backend, precision, json_default=None, logger=print):
    """Move the staged export (every file of ``stage``; ``meta`` is its ``deploy.json``) into
    ``out_dir`` as the module docstring says.

    Returns:
        dict: The ``deploy.json`` written (``meta`` with the kept backends of the same model).
    """
    old = _existing_meta(out_dir)
    if same_model(old, meta):
        meta = merge_meta(old, meta, backend, precision, out_dir)
    elif old is not None:
        logger(f'{out_dir}: replacing the export of another model there (checkpoint '
               f'{old.get("checkpoint")}, task {old.get("task")}, input '
               f'{old.get("input_shape")})')
    os.makedirs(out_dir, exist_ok=True)
    meta_path = osp.join(out_dir, META_FILE)
    if old is not None:
        write_json(meta_path, dict(old, complete=False), json_default)
    for name in sorted(os.listdir(stage)):
        os.replace(osp.join(stage, name), osp.join(out_dir, name))
    meta = dict(meta, complete=True)
    write_json(meta_path, meta, json_default)
    for name in sorted(named_files(old or {}) - named_files(meta)):
        with contextlib.suppress(FileNotFoundError):
            os.remove(osp.join(out_dir, name))
    return meta
