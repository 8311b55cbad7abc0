"""Training precision by measurement: the probe picks the faster precision, says why, caches."""
import os.path as osp

import pytest
from conftest import ROOT

from mmhrnet.deploy.task import load_config
from mmhrnet.engine import precision

POSE_CFG = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-'
                    '192x144.py')


@pytest.fixture
def cfg():
    return load_config(POSE_CFG)


@pytest.mark.parametrize('fp32, bf16, choice', [(0.30, 0.15, 'bf16'), (0.30, 0.29, 'fp32'),
                                                (0.20, 0.40, 'fp32')])
def test_probe_picks_the_faster_and_says_why(monkeypatch, tmp_path, cfg, fp32, bf16, choice):
    monkeypatch.setattr(precision, 'cpu_has_bf16', lambda: True)
    monkeypatch.setattr(precision, 'measure_train_steps', lambda cfg, steps: (fp32, bf16))
    lines = []
    got, reason = precision.probe_precision(cfg, cache=str(tmp_path / 'c.json'),
                                            logger=lines.append)
    assert got == choice and lines == [reason]
    assert f'fp32 {fp32:.3f} s, bf16 autocast {bf16:.3f} s per step' in reason
    assert reason.startswith(f'precision probe: {choice} (')


def test_probe_result_cached_per_model(monkeypatch, tmp_path, cfg):
    monkeypatch.setattr(precision, 'cpu_has_bf16', lambda: True)
    monkeypatch.setattr(precision, 'measure_train_steps', lambda cfg, steps: (0.3, 0.1))
    cache = str(tmp_path / 'c.json')
    precision.probe_precision(cfg, cache=cache)

    def fail(cfg, steps):
        raise AssertionError('measured again')
    monkeypatch.setattr(precision, 'measure_train_steps', fail)
    choice, reason = precision.probe_precision(cfg, cache=cache)
    assert choice == 'bf16' and f'cached in {cache}' in reason
    other = load_config(POSE_CFG, {'train_dataloader.batch_size': 4})
    with pytest.raises(AssertionError, match='measured again'):  # another batch: not cached
        precision.probe_precision(other, cache=cache)


def test_no_bf16_units_means_fp32_without_probing(monkeypatch, tmp_path, cfg):
    monkeypatch.setattr(precision, 'cpu_has_bf16', lambda: False)
    monkeypatch.setattr(precision, 'measure_train_steps', None)  # would fail if called
    choice, reason = precision.probe_precision(cfg, cache=str(tmp_path / 'c.json'))
    assert choice == 'fp32' and 'not probed' in reason


def test_real_training_steps_are_timed(tmp_path):
    """One real step of each precision of the pose model on freshly made synthetic people."""
    from mmhrnet.synthetic import generate_synthetic_people
    data = generate_synthetic_people(str(tmp_path / 'p'), num_train=4, num_val=1,
                                     size=(96, 96), seed=2)['out_dir'] + '/'
    cfg = load_config(POSE_CFG, {'train_dataloader.dataset.data_root': data,
                                 'train_dataloader.batch_size': 2})
    if precision.cpu_has_bf16() is False:
        pytest.skip('this CPU has no bf16 units')
    fp32, bf16 = precision.measure_train_steps(cfg, steps=1)
    assert 0 < fp32 < 60 and 0 < bf16 < 60


def test_cpu_flags_read():
    flags = precision.cpu_flags()
    if flags is None:
        pytest.skip('no /proc/cpuinfo')
    assert 'fpu' in flags or 'sse2' in flags or 'neon' in flags or 'asimd' in flags
    assert 'flags' not in flags and ':' not in flags  # the line's label is not a flag


def test_cpu_features_agree_with_an_independent_reading():
    """/proc/cpuinfo parsed here with a regex (not the library's parser) and torch's own CPU
    capability must tell the same story as cpu_has_amx / cpu_has_bf16."""
    import re

    import torch
    if not osp.isfile('/proc/cpuinfo'):
        pytest.skip('no /proc/cpuinfo')
    with open('/proc/cpuinfo') as f:
        found = re.search(r'^flags\s*:(.*)$', f.read(), re.M)
    if found is None:
        pytest.skip('/proc/cpuinfo has no flags line (not x86)')
    flags = set(found.group(1).split())
    assert precision.cpu_has_amx() is ('amx_bf16' in flags)
    assert precision.cpu_has_bf16() is bool({'avx512_bf16', 'amx_bf16'} & flags)
    assert ('avx2' in flags) == ('avx2' in precision.cpu_flags())
    capability = torch.backends.cpu.get_cpu_capability()  # 'DEFAULT', 'AVX2', 'AVX512', ...
    if capability in ('DEFAULT', 'NO AVX', 'AVX2'):  # torch sees no AVX-512, so no AMX tiles
        assert precision.cpu_has_amx() is False


@pytest.mark.parametrize('line, amx, bf16', [
    ('flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile', True, True),
    ('flags\t\t: fpu sse2 avx2 avx512f avx512_bf16', False, True),
    ('flags\t\t: fpu sse2 avx2 fma', False, False),
])
def test_cpu_features_of_a_given_cpuinfo(monkeypatch, tmp_path, line, amx, bf16):
    import builtins
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(f'processor\t: 0\nmodel name\t: Test CPU\n{line}\n\n')
    real_open = builtins.open
    monkeypatch.setattr(builtins, 'open', lambda path, *a, **k: real_open(
        cpuinfo if path == '/proc/cpuinfo' else path, *a, **k))
    precision.cpu_flags.cache_clear()
    try:
        assert (precision.cpu_has_amx(), precision.cpu_has_bf16()) == (amx, bf16)
    finally:
        monkeypatch.undo()
        precision.cpu_flags.cache_clear()
