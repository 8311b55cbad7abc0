#!/usr/bin/env bash
# The out-of-the-box run: set up .venv (tools/setup_env.sh), generate the synthetic people,
# train the small HRNetV1 pose config on them (about 10 minutes on 2 CPU cores), test the
# best checkpoint with detector boxes and flip test, and save a picture of its predictions.
# Extra arguments go to tools/train.py (e.g. --cfg-options train_cfg.max_epochs=2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/tools/setup_env.sh"
cd "$root"
py=.venv/bin/python
config=configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py
# Every run gets a new numbered folder (earlier runs are kept); `latest` links to the newest.
runs=work_dirs/quickstart
mkdir -p "$runs"
n=1
while [[ -e "$runs/run_$n" ]]; do n=$((n + 1)); done
work="$runs/run_$n"
mkdir "$work"
ln -sfn "run_$n" "$runs/latest"

$py tools/misc/make_synthetic_people.py --out data/synthetic_people
# --amp auto: a few-step probe trains in bf16 where that is faster on this CPU (AMX), else fp32;
# measured on this config, bf16 keeps the AP (docs/deploy.md: 3 runs each, 0.723-0.764 vs
# 0.726-0.764). An --amp of your own, later on the line, wins.
$py tools/train.py "$config" --work-dir "$work" --amp auto "$@"
ckpt=$(ls "$work"/best_coco_AP_epoch_*.pth | tail -n 1)
$py tools/test.py "$config" "$ckpt" --work-dir "$work/test" --show-dir vis --interval 25 \
    2>&1 | tee "$work/test.log"
$py tools/analysis/montage.py "$(ls -d "$work"/test/*/vis | tail -n 1)" "$work/predictions.png"
echo
echo "held-out AP by epoch:" $(grep -ho 'Epoch(val) \[[0-9]*\].*coco/AP: [0-9.]*' "$work"/*/*.log \
    | sed 's/Epoch(val) \[\([0-9]*\)\].*coco\/AP: \([0-9.]*\)/\1:\2/')
echo "synthetic people, held-out split, detector boxes + flip test:"
grep -o 'coco/AP: [0-9.]*' "$work/test.log" | tail -n 1
echo "checkpoint: $ckpt"
echo "picture of predictions: $work/predictions.png"

# Inference for users (tools/infer.py, docs/inference.md): the checkpoint just trained on four
# held-out images, with the synthetic detector's person boxes; one JSON + one picture each.
$py tools/infer.py $(ls data/synthetic_people/val/*.jpg | head -n 4) --pose "$config" "$ckpt" \
    --bbox-file data/synthetic_people/person_detection_results/detections_val.json \
    --out-dir "$work/infer"
echo "pictures of tools/infer.py: $work/infer/vis/ (COCO-format results: $work/infer/predictions/)"
