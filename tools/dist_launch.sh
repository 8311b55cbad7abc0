#!/usr/bin/env bash
# What tools/dist_train.sh and tools/dist_test.sh share: torchrun over NPROC processes per node
# running tools/SCRIPT with --launcher pytorch (GPUs, or CPU processes over gloo, where SyncBN
# becomes BN). The project's .venv python is used when it exists; multi-node: NNODES,
# NODE_RANK, MASTER_ADDR, PORT.
#   bash tools/dist_launch.sh SCRIPT NPROC [SCRIPT args...]
set -euo pipefail
tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py="$tools/../.venv/bin/python"
[[ -x "$py" ]] || py=python
script=$1
nproc=$2
exec "$py" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --nproc_per_node="$nproc" \
    --master_port="${PORT:-29500}" "$tools/$script" --launcher pytorch "${@:3}"
