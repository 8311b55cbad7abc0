#!/usr/bin/env bash
# Distributed testing over torchrun: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# As tools/dist_train.sh: GPUs or CPU processes over gloo, paths relative to where you stand.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
