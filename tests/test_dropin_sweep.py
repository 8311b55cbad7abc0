"""The drop-in contract: every HRNet config that the installed mmpose, mmseg and mmdet ship
works with ``type='mmhrnet.HRNet'`` plus the one change of ``DROP_IN_CHANGES``.

Configs are discovered from the packages' ``.mim/configs`` (each candidate loaded, its backbone
type read), so a new upstream release is covered without editing this file. Per config: the
whole model built both ways, the upstream model's randomised state dict loaded strictly into
ours and back, and the outputs that a pipeline reads (``_forward``: pose and seg head outputs;
``extract_feat``: detection pyramid) equal to 1e-5 on one small input. Configs whose models
differ only in what holds no weights and does not enter that forward (schedules, codecs,
losses: ``model_key``) share one build.
"""
import pytest

from mmhrnet.utils.fidelity import (
    DROP_IN_CHANGES,
    discover_hrnet_configs,
    drop_in_model_cfg,
    model_key,
    sweep_config,
)

FOUND = {package: discover_hrnet_configs(package) for package in DROP_IN_CHANGES}
CASES = [(package, rel, cfg, reason) for package, found in FOUND.items()
         for rel, cfg, reason in found]
_RESULTS = {}  # model_key -> sweep_config result, or the error it raised


@pytest.mark.parametrize('package', list(DROP_IN_CHANGES))
def test_discovery_finds_the_shipped_hrnet_configs(package):
    found = FOUND[package]
    assert found, f'no HRNet config found in the installed {package}'
    loaded = [cfg for _, cfg, reason in found if reason is None]
    swapped = drop_in_model_cfg(loaded[0], package)['backbone']
    assert swapped['type'] == 'mmhrnet.HRNet' and DROP_IN_CHANGES[package].items() <= \
        swapped.items()


@pytest.mark.parametrize('package, rel, model_cfg, reason', CASES,
                         ids=[f'{p}/{r}' for p, r, _, _ in CASES])
def test_shipped_config_is_a_drop_in(package, rel, model_cfg, reason):
    if reason is not None:
        pytest.skip(reason)
    key = model_key(model_cfg)
    if key not in _RESULTS:
        try:
            _RESULTS[key] = sweep_config(model_cfg, package)
        except Exception as e:  # shared by the configs with this model, reported by each
            _RESULTS[key] = e
    res = _RESULTS[key]
    if isinstance(res, Exception):
        raise AssertionError(f'{package} {rel}: {type(res).__name__}: {res}') from res
    assert res['outputs'] > 0
    assert res['max_rel_diff'] < 1e-5, f"{package} {rel}: max rel diff {res['max_rel_diff']}"
