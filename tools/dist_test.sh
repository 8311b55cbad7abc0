#!/usr/bin/env bash
# Distributed testing over torchrun: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# As tools/dist_train.sh: GPUs or CPU processes over gloo, paths relative to where you stand.
set -euo pipefail
tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py="$tools/../.venv/bin/python"
[[ -x "$py" ]] || py=python
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
exec "$py" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" "$tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch \
    "${@:4}"
