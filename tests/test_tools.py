"""The analysis tools run and print what they promise."""
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


def test_benchmark_prints_both_implementations_and_ratio():
    out = run_tool('tools/analysis/benchmark.py', '--arch', 'w18_small_v1', '--shape', '64',
                   '64', '--batch-sizes', '2', '--iters', '1', '--precisions', 'fp32')
    rows = [line.split() for line in out.splitlines() if line.startswith(('mmpose', 'mmhrnet'))]
    assert [r[:3] for r in rows] == [['mmpose', 'fp32', '2'], ['mmhrnet', 'fp32', '2']]
    assert float(rows[1][-1]) < 1e-5  # same weights, same outputs
    assert re.search(r'fp32\s+batch\s+2: speed [\d.]+x, peak memory [\d.]+x', out), out
