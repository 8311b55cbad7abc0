"""The analysis tools run and print what they promise."""
import json
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*args, timeout=600):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_complexity_tool_pose_w32():
    out = run_tool('tools/analysis/complexity.py', 'w32', '--num-keypoints', '17')
    row = next(line for line in out.splitlines() if line.startswith('w32 + head(17)'))
    params, gmacs, published = map(float, row.split()[3:6])
    assert (params, gmacs, round(published, 1)) == (28.54, 7.65, 7.1)


def test_complexity_tool_config(tmp_path):
    cfg = tmp_path / 'backbone.py'
    cfg.write_text("model = dict(type='mmhrnet.HRNet', arch='w18_small_v1')\n"
                   "default_scope = 'mmhrnet'\n")
    out = run_tool('tools/analysis/complexity.py', cfg, '--shape', '64', '64')
    assert re.search(r'backbone\.py\s+1\.48\s', out), out


def test_benchmark_table_rows_ratios_and_chart(tmp_path):
    rows_file, chart = tmp_path / 'rows.json', tmp_path / 'chart.png'
    out = run_tool('tools/analysis/benchmark.py', '--task', 'pose', '--shape', '64', '64',
                   '--batch-sizes', '1', '--precisions', 'fp32', 'bf16', '--seconds', '0.05',
                   '--json', rows_file, '--out', chart, '--profile')
    rows = {r['path']: r for r in json.loads(rows_file.read_text())['rows']}
    assert {'upstream fp32 eager', 'mmhrnet fp32 eager', 'onnxruntime fp32',
            'openvino fp32'} <= set(rows), sorted(rows)
    assert rows['upstream fp32 eager']['ratio'] == 1.0
    for path, row in rows.items():  # same weights: every fp32 path gives the upstream output
        assert row['max_rel_diff'] < (5e-2 if 'bf16' in path else 1e-4), (path, row)
        assert row['img_s'] > 0 and row['batch'] == 1
    from mmhrnet.utils.cpu import cpu_has_bf16
    if cpu_has_bf16():  # bf16 reuses the fp32 IR that a live session maps
        assert rows['openvino bf16']['max_rel_diff'] > 1e-5
    assert 'Convolution' in rows['openvino fp32']['profile'], rows['openvino fp32']
    assert 'conv' in rows['mmhrnet fp32 eager']['profile'], rows['mmhrnet fp32 eager']
    assert re.search(r'\| pose \| 64x64 \| mmhrnet fp32 eager \| 1 \| [\d.]+ \|', out), out
    assert 'GMAC/s' in out and chart.stat().st_size > 0


# ------------------------------------------------------------ one error line, nothing left

POSE_CFG = ROOT / 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py'


def test_run_main_one_line_exit_status_and_sigterm(capsys):
    from mmhrnet.engine import run_main

    def fails():
        raise RuntimeError('first line\nsecond line')
    assert run_main(fails) == 1
    assert capsys.readouterr().err == 'error: first line second line\n'

    def disk_full():
        raise OSError(28, 'cannot write out/x.json: No space left on device')
    assert run_main(disk_full) == 1
    assert capsys.readouterr().err == 'error: cannot write out/x.json: No space left on device\n'

    # SIGTERM in a child process: signalling the test runner itself, with the native thread
    # pools of earlier tests' runtimes loaded, can crash it
    script = ('import os, signal, sys, time\n'
              'from mmhrnet.engine import run_main\n'
              'def terminated():\n'
              '    os.kill(os.getpid(), signal.SIGTERM)\n'
              '    time.sleep(5)\n'
              '    raise AssertionError("SIGTERM did not stop the run")\n'
              'sys.exit(run_main(terminated))\n')
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert proc.stderr.splitlines()[-1].startswith('interrupted'), proc.stderr[-2000:]
    assert run_main(lambda: None) == 0 and run_main(lambda: 3) == 3


@pytest.mark.parametrize('key, closest', [
    ('model.test_cfg.flip_tset', 'model.test_cfg.flip_test'),
    ('train_cgf.max_epochs', 'train_cfg'),
    ('model.backbone.with_cpp', 'model.backbone.with_cp'),  # a parameter of mmhrnet.HRNet
    ('default_hooks.checkpoint.max_keep_ckptss', 'default_hooks.checkpoint.max_keep_ckpts'),
])
def test_misspelt_cfg_option_names_the_closest_key(key, closest):
    from mmhrnet.utils.build import load_config
    from mmhrnet.validation import ConfigOptionError
    with pytest.raises(ConfigOptionError) as info:
        load_config(str(POSE_CFG), {key: 1})
    assert str(info.value).startswith(f'--cfg-options {key}: {POSE_CFG} has no key')
    assert str(info.value).endswith(f"closest valid key: '{closest}'")


@pytest.mark.parametrize('key', ['model.test_cfg.output_heatmaps', 'randomness.seed',
                                 'default_hooks.checkpoint.max_keep_iter_ckpts',
                                 'train_cfg.max_epochs', 'test_dataloader.dataset.bbox_file'])
def test_new_but_valid_cfg_options_are_merged(key):
    from mmhrnet.utils.build import load_config
    cfg = load_config(str(POSE_CFG), {key: 7})
    node = cfg
    for part in key.split('.'):
        node = node[part]
    assert node == 7


def _tool(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(Path(path).stem + '_tool', ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tools_fail_with_one_line_and_leave_nothing(tmp_path, monkeypatch, capsys):
    """Missing config, misspelt option, unreadable checkpoint: one `error:` line each, exit
    status 1, no traceback, no work dir, an existing output untouched (the tools' main run
    in this process as `python tools/X.py` runs them: through run_main)."""
    from mmhrnet.engine import run_main
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'garbage' * 10)
    dst = tmp_path / 'dst.pth'
    dst.write_bytes(b'earlier output')
    work = tmp_path / 'work'
    runs = {
        'train missing config': (['tools/train.py', 'nowhere.py'], 'config file not found'),
        'train misspelt option': (['tools/train.py', POSE_CFG, '--work-dir', work,
                                   '--cfg-options', 'model.test_cfg.flip_tset=True'],
                                  "closest valid key: 'model.test_cfg.flip_test'"),
        'test bad checkpoint': (['tools/test.py', POSE_CFG, bad, '--work-dir', work],
                                f'checkpoint {bad} is not a PyTorch checkpoint'),
        'convert bad file': (['tools/misc/convert_weights.py', bad, dst, '--from', 'timm'],
                             f'checkpoint {bad} is not a PyTorch checkpoint'),
    }
    for name, (args, expected) in runs.items():
        monkeypatch.setattr(sys, 'argv', [str(a) for a in args])
        status = run_main(_tool(args[0]).main)
        err = capsys.readouterr().err
        errors = [ln for ln in err.splitlines() if ln.startswith('error:')]
        assert status == 1 and len(errors) == 1 and expected in errors[0], (name, err[-2000:])
        assert 'Traceback' not in err, name
        assert not work.exists(), f'{name} left {work}'
    assert dst.read_bytes() == b'earlier output'


def test_isolation_restores_the_scope_and_reseeds():
    import random

    import torch
    from conftest import isolation
    from mmengine.registry import DefaultScope, init_default_scope
    before = DefaultScope.get_current_instance()
    with isolation(seed=3):
        init_default_scope('mmseg')
        assert DefaultScope.get_current_instance().scope_name == 'mmseg'
        draws = (random.random(), torch.rand(1).item())
    assert DefaultScope.get_current_instance() is before
    with isolation(seed=3):
        assert (random.random(), torch.rand(1).item()) == draws


def test_deploy_max_rel_diff_refuses_a_dropped_output():
    import torch

    from mmhrnet.utils.fidelity import max_rel_diff
    refs = (torch.ones(2, 3), torch.ones(4))
    assert max_rel_diff(refs, [torch.ones(2, 3) * 1.5, torch.ones(4)]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match='1 outputs, the reference has 2'):
        max_rel_diff(refs, [torch.ones(2, 3)])


def test_config_file_takes_a_users_file_or_names_an_installed_config(tmp_path):
    from mmhrnet.utils.build import config_file
    own = tmp_path / 'my_pose.py'
    own.write_text("_base_ = ['mmhrnet::pose/hrnet_w32_coco.py']\n")
    assert config_file(str(own)) == str(own)
    installed = config_file('pose/hrnet_w32_coco.py')
    assert installed != 'pose/hrnet_w32_coco.py' and osp.isfile(installed)
    assert config_file('mmhrnet::pose/hrnet_w32_coco.py') == installed


def test_default_scope_sets_and_restores_the_scope_without_sleeping(monkeypatch):
    import time

    from mmengine.registry import DefaultScope, init_default_scope

    from mmhrnet.utils.build import default_scope

    def current():
        return DefaultScope.get_current_instance().scope_name

    init_default_scope('mmpose')
    monkeypatch.setattr(time, 'sleep', lambda s: pytest.fail('slept'))
    before = dict(DefaultScope._instance_dict)
    with default_scope('mmdet'):
        assert current() == 'mmdet'
        with default_scope('mmseg'):
            assert current() == 'mmseg'
        with default_scope('mmdet'):  # already current: nothing made
            assert len(DefaultScope._instance_dict) == len(before) + 1
        assert current() == 'mmdet'
    assert current() == 'mmpose'
    assert dict(DefaultScope._instance_dict) == before
    with pytest.raises(KeyError), default_scope('mmseg'):
        raise KeyError('an error inside the block restores the scope too')
    assert current() == 'mmpose'
