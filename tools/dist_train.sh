#!/usr/bin/env bash
# Distributed training over torchrun: bash tools/dist_train.sh CONFIG NPROC [train.py args...]
# NPROC processes per node: one per GPU, or on a machine without CUDA CPU processes over gloo
# (SyncBN becomes BN). Paths are taken relative to where you stand (see tools/dist_launch.sh).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
