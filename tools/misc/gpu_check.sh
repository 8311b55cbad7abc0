#!/usr/bin/env bash
# First run of every task on a GPU: each task's synthetic config trained a few hundred steps with
# fp16 AMP (--amp), the exact-resume and safe-checkpoint hooks on, killed (SIGKILL) once its first
# checkpoint exists and resumed with --resume; then training steps timed against the upstream
# HRNets (tools/analysis/benchmark_train.py --device cuda --upstream).
#
#   bash tools/misc/gpu_check.sh BUNDLE OUT [all|train|bench]
#
# EPOCHS (default 2) sets the trainings' length; BENCH_STEPS / BENCH_ROUNDS / BENCH_ARGS the
# benchmark's (tools/analysis/benchmark_train.py).
# For a GPU machine whose python3 has torch and torchvision but not the OpenMMLab stack and no
# package index. BUNDLE holds what it lacks: whl/ (mmengine, mmpose, mmsegmentation, mmdet and
# their pure dependencies, for its Python), src/ (the xtcocotools source, built there against
# its numpy) and mmcv_py/ (mmcv 2.1.0's Python files without the compiled ops; the two that the
# HRNet configs train with run through torchvision, tools/misc/mmcv_ext_torchvision.py).
# Writes OUT/env.txt, OUT/train.txt (every run's log), OUT/summary.txt, OUT/bench.md.
set -u
BUNDLE=$(realpath "$1"); OUT=$(realpath "$2"); WHAT=${3:-all}; EPOCHS=${EPOCHS:-2}
PY=${PYTHON:-python3}
SITE=${SITE:-/tmp/mmhrnet_site}
WORK=${WORK:-/tmp/mmhrnet_gpu_check}
mkdir -p "$OUT" "$SITE" "$WORK"
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore

{
  $PY -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$BUNDLE"/whl/*.whl
  $PY -m pip install -q --no-index --no-deps --no-build-isolation --target "$SITE" \
    "$BUNDLE"/src/xtcocotools-*.tar.gz
  cp -r "$BUNDLE"/mmcv_py/. "$SITE"/
  cp tools/misc/mmcv_ext_torchvision.py "$SITE"/mmcv/_ext.py
  export PYTHONPATH=$SITE:$PWD
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $PY -c "import torch, numpy, mmengine, mmcv, mmpose, mmseg, mmdet, xtcocotools, mmhrnet
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn',
      torch.backends.cudnn.version(), 'numpy', numpy.__version__, 'mmengine',
      mmengine.__version__, 'mmcv', mmcv.__version__, 'mmpose', mmpose.__version__, 'mmseg',
      mmseg.__version__, 'mmdet', mmdet.__version__)"
  nproc
} > "$OUT/env.txt" 2>&1
export PYTHONPATH=$SITE:$PWD
cat "$OUT/env.txt"
[ -d data/synthetic_people ] ||
  $PY tools/misc/make_synthetic_people.py --out data/synthetic_people > /dev/null

LOADER="train_dataloader.num_workers=8 train_dataloader.persistent_workers=True ${EXTRA:-}"

# name, config, options: a few hundred steps, a checkpoint every 100
run_task() {
  local name=$1 config=$2; shift 2
  local wd=$WORK/$name
  rm -rf "$wd"
  echo "== $name: $config --amp --cfg-options $* $LOADER" >> "$OUT/train.txt"
  local start=$SECONDS
  $PY tools/train.py "$config" --amp --work-dir "$wd" --cfg-options "$@" $LOADER \
    > "$wd.first.log" 2>&1 &
  local pid=$!
  until ls "$wd"/*.pth > /dev/null 2>&1 || ! kill -0 $pid 2> /dev/null ||
    [ $((SECONDS - start)) -gt "${TRAIN_TIMEOUT:-240}" ]; do sleep 0.2; done
  kill -9 $pid 2> /dev/null; wait $pid 2> /dev/null
  local killed=$((SECONDS - start))
  timeout "${TRAIN_TIMEOUT:-240}" $PY tools/train.py "$config" --amp --work-dir "$wd" --resume \
    --cfg-options "$@" $LOADER \
    > "$wd.resumed.log" 2>&1
  local rc=$?
  cat "$wd.first.log" >> "$OUT/train.txt"
  echo "-- killed after ${killed}s; checkpoints then: $(cd "$wd" && ls *.pth | tr '\n' ' ')" \
    >> "$OUT/train.txt"
  cat "$wd.resumed.log" >> "$OUT/train.txt"
  {
    echo "== $name ($config): killed after ${killed}s, resumed run exit $rc," \
      "$((SECONDS - start))s in all"
    grep -hE 'resumed (epoch|iter)|Epoch\(val\)|Iter\(val\)|Error|^error:' "$wd.first.log" \
      "$wd.resumed.log" | cut -c1-400
    grep -hE 'Epoch\(train\)|Iter\(train\)' "$wd.first.log" | tail -n 1 | cut -c1-300
    grep -hE 'Epoch\(train\)|Iter\(train\)' "$wd.resumed.log" | sed -n '1p;$p' | cut -c1-300
  } >> "$OUT/summary.txt"
}

if [ "$WHAT" != bench ]; then
run_task pose configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py \
  train_cfg.max_epochs=$EPOCHS train_cfg.val_interval=$EPOCHS \
  default_hooks.checkpoint.interval=$EPOCHS
run_task seg configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py \
  train_cfg.max_iters=${SEG_ITERS:-$((EPOCHS * 150))} \
  train_cfg.val_interval=${SEG_ITERS:-$((EPOCHS * 150))} default_hooks.checkpoint.interval=100
run_task det configs/det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py \
  train_cfg.max_epochs=$EPOCHS train_cfg.val_interval=$EPOCHS \
  default_hooks.checkpoint.interval=$EPOCHS default_hooks.checkpoint.iter_interval=100
run_task multitask configs/multitask/hrnet-w18-small-v1_1xb8-6e_synthetic-people-256.py \
  train_cfg.max_epochs=$EPOCHS train_cfg.val_interval=$EPOCHS \
  default_hooks.checkpoint.interval=$EPOCHS default_hooks.checkpoint.iter_interval=100
cat "$OUT/summary.txt"
fi
[ "$WHAT" = train ] && exit 0

$PY tools/analysis/benchmark_train.py --device "${DEVICE:-cuda}" --upstream \
  --steps "${BENCH_STEPS:-10}" --rounds "${BENCH_ROUNDS:-3}" ${BENCH_ARGS:-} \
  > "$OUT/bench.md" 2> "$OUT/bench.err"
tail -n 12 "$OUT/bench.md"; tail -n 5 "$OUT/bench.err"
