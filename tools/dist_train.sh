#!/usr/bin/env bash
# Distributed training over torchrun: bash tools/dist_train.sh CONFIG NPROC [train.py args...]
# NPROC processes per node: one per GPU, or on a machine without CUDA CPU processes over gloo
# (SyncBN becomes BN). Paths are taken relative to where you stand; the project's .venv python
# is used when it exists. Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT.
set -euo pipefail
tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py="$tools/../.venv/bin/python"
[[ -x "$py" ]] || py=python
CONFIG=$1
NPROC=$2
exec "$py" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" "$tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
