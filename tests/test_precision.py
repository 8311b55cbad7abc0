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
    assert precision.cpu_has_amx() in (True, False)
