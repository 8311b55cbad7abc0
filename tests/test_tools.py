"""The analysis tools run and print what they promise."""
import json
import re
import subprocess
import sys
from pathlib import Path

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
    from mmhrnet.deploy.backend.openvino import cpu_capabilities
    if 'BF16' in cpu_capabilities():  # bf16 reuses the fp32 IR that a live session maps
        assert rows['openvino bf16']['max_rel_diff'] > 1e-5
    assert 'Convolution' in rows['openvino fp32']['profile'], rows['openvino fp32']
    assert 'conv' in rows['mmhrnet fp32 eager']['profile'], rows['mmhrnet fp32 eager']
    assert re.search(r'\| pose \| 64x64 \| mmhrnet fp32 eager \| 1 \| [\d.]+ \|', out), out
    assert 'GFLOP/s' in out and chart.stat().st_size > 0
