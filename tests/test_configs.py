"""Every config is listed in the model index (OpenMMLab metafiles, read by openmim), every
listed file exists, every ``_base_`` chain is at most 3 files deep, and the drop-in base config
and docs table follow ``DROP_IN_CHANGES``."""
import glob
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

import mmhrnet  # noqa: F401 (mmhrnet:: configs)
from mmhrnet.utils.fidelity import DROP_IN_CHANGES, base_files, drop_in_table

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                                         recursive=True)
                 if '_base_' not in osp.relpath(p, ROOT).split(osp.sep))
METAFILES = sorted(osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '*',
                                                                    'metafile.yml')))


def load_index():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        return yaml.safe_load(f)


def listed_models():
    models = []
    for meta in load_index()['Import']:
        with open(osp.join(ROOT, meta)) as f:
            data = yaml.safe_load(f)
        names = {c['Name'] for c in data.get('Collections', [])}
        models += [(meta, m, names) for m in data['Models']]
    return models


def test_every_metafile_is_imported_and_exists():
    imported = load_index()['Import']
    assert sorted(imported) == METAFILES
    assert all(osp.isfile(osp.join(ROOT, m)) for m in imported)


def test_every_config_is_listed_once_and_every_listed_file_exists():
    listed = [m['Config'] for _, m, _ in listed_models()]
    assert sorted(listed) == sorted(set(listed)), 'a config is listed twice'
    assert sorted(set(CONFIGS) - set(listed)) == [], 'configs missing from the model index'
    assert [c for c in listed if not osp.isfile(osp.join(ROOT, c))] == []


def test_metafile_entries_follow_the_openmmlab_schema():
    names = []
    for meta, model, collections in listed_models():
        where = f"{meta}: {model.get('Name')}"
        assert {'Name', 'In Collection', 'Config', 'Metadata'} <= model.keys(), where
        assert model['In Collection'] in collections, where
        # Where no number exists yet, Source says so and Results may be left out.
        assert model['Metadata'].get('Source'), f'{where}: no Source for its numbers'
        for result in model.get('Results', []):
            assert {'Task', 'Dataset', 'Metrics'} <= result.keys(), where
            assert all(isinstance(v, (int, float)) for v in result['Metrics'].values()), where
        assert str(model.get('Weights', 'https://')).startswith('https://'), where
        names.append((model['Name'], meta))
    seen = {}
    for name, meta in names:
        seen.setdefault(name, []).append(meta)
    twice = {n: m for n, m in seen.items() if len(m) > 1}
    assert not twice, f'model names must be unique (mim search): {twice}'


def chain_depth(path, seen=()):
    """Files in the longest ``_base_`` chain from ``path``, itself included."""
    if path in seen:
        raise AssertionError(f'_base_ cycle through {path}')
    bases = base_files(path)
    missing = [b for b in bases if not osp.isfile(b)]
    assert not missing, f'{path}: _base_ files not found: {missing}'
    return 1 + max((chain_depth(b, seen + (path, )) for b in bases), default=0)


@pytest.mark.parametrize('path', CONFIGS)
def test_config_chains_at_most_3_deep(path):
    assert chain_depth(osp.join(ROOT, path)) <= 3


def test_base_config_follows_the_drop_in_rule():
    base = Config.fromfile(osp.join(ROOT, 'configs/_base_/models/hrnet_backbones.py'))
    for name, package in (('hrnet_v1', 'mmpose'), ('hrnet_v2', 'mmseg'), ('hrnet_v2p', 'mmdet')):
        flavour = base[name]
        assert flavour['type'] == 'mmhrnet.HRNet'
        assert DROP_IN_CHANGES[package].items() <= dict(flavour).items(), name


def test_docs_table_is_rendered_from_the_drop_in_rule():
    with open(osp.join(ROOT, 'docs', 'drop_in.md')) as f:
        assert drop_in_table() in f.read()
