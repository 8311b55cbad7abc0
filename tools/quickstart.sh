#!/usr/bin/env bash
# Sets up .venv if needed (tools/setup_env.sh), then prints the backbone summary: every preset's
# parameters and multiply-adds, and the pose models next to their published numbers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/tools/setup_env.sh"
cd "$root"
py=.venv/bin/python
echo '== HRNet presets (backbone, four outputs) =='
$py tools/analysis/complexity.py all --shape 256 192
echo
echo '== Pose HRNet (V1 + 1x1 head to 17 keypoints); published: W32 28.54M / 7.1 GFLOPs, W48 63.60M / 14.6 =='
for arch in w32 w48; do
    $py tools/analysis/complexity.py "$arch" --shape 256 192 --num-keypoints 17 | tail -n 1
done
