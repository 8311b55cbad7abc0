"""``type='mmhrnet.HRNet'`` builds from inside mmpose, mmseg and mmdet; ``type='HRNet'`` stays
theirs; ``mmhrnet::`` config inheritance resolves."""
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config

# A fresh interpreter, so that nothing other tests imported can make lazy registration pass.
SCRIPT = textwrap.dedent('''
    import sys
    from mmengine.registry import init_default_scope
    init_default_scope('{scope}')
    from {scope}.registry import MODELS
    assert 'mmhrnet' not in sys.modules
    ours = MODELS.build(dict(type='mmhrnet.HRNet', arch='w18'))
    theirs = MODELS.build(dict(type='HRNet', extra=ours.extra))
    print(type(ours).__module__, type(theirs).__module__)
''')


@pytest.mark.parametrize('scope', ['mmpose', 'mmseg', 'mmdet'])
def test_scoped_build_without_custom_imports(scope):
    proc = subprocess.run([sys.executable, '-c', SCRIPT.format(scope=scope)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ours, theirs = proc.stdout.split()[-2:]
    assert ours == 'mmhrnet.models.backbones.hrnet'
    assert theirs == f'{scope}.models.backbones.hrnet'


@pytest.mark.parametrize('scope, flavour, channels', [
    ('mmpose', 'hrnet_v1', (18, )),
    ('mmseg', 'hrnet_v2', (18, 36, 72, 144)),
    ('mmdet', 'hrnet_v2p', (18, 36, 72, 144)),
])
def test_config_inheritance_from_mmhrnet(tmp_path, scope, flavour, channels):
    from mmengine.registry import DefaultScope

    import mmhrnet  # noqa: F401 (tells mmengine that `mmhrnet::` is a config package)
    path = tmp_path / 'cfg.py'
    path.write_text("_base_ = 'mmhrnet::_base_/models/hrnet_backbones.py'\n"
                    f"model = dict(backbone=dict(_base_.{flavour}, arch='w18'))\n")
    cfg = Config.fromfile(str(path))
    assert osp.realpath(cfg.filename) == osp.realpath(path)
    with DefaultScope.overwrite_default_scope(scope):
        from mmengine.registry import MODELS
        model = MODELS.build(cfg.model.backbone)
    assert model.out_channels == channels


# Each task's lookup imports its own subpackage (and upstream package) only.
TASK_SCRIPT = textwrap.dedent('''
    import sys
    from mmengine.registry import init_default_scope
    init_default_scope('{scope}')
    from {scope}.registry import {registry}
    assert {registry}.get('mmhrnet.{name}') is not None
    print(' '.join(m for m in ('mmhrnet.pose', 'mmhrnet.seg', 'mmhrnet.det') if m in sys.modules))
''')


@pytest.mark.parametrize('scope, registry, name, task', [
    ('mmpose', 'DATASETS', 'TopdownCocoDataset', 'mmhrnet.pose'),
    ('mmseg', 'MODELS', 'HRNetV2Head', 'mmhrnet.seg'),
    ('mmdet', 'MODELS', 'HRFPN', 'mmhrnet.det'),
])
def test_a_task_lookup_imports_only_its_task(scope, registry, name, task):
    script = TASK_SCRIPT.format(scope=scope, registry=registry, name=name)
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == [task]


def test_lookup_from_another_scope_finds_any_task():
    from mmengine.registry import DefaultScope

    from mmhrnet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpose'):
        assert MODELS.get('HRFPN').__module__ == 'mmhrnet.det.hrfpn'
        assert MODELS.get('NoSuchModule') is None
