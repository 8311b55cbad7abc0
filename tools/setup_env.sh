#!/usr/bin/env bash
# Creates or reuses the project virtualenv at .venv and installs the whole stack into it.
#
#   bash tools/setup_env.sh        # idempotent: seconds when everything is already there
#
# Versions live in requirements/stack.txt (a pip constraints file). mmcv 2.1.0 with compiled ops
# is taken from a wheel when PIP_FIND_LINKS (or .cache/wheels) offers one, else built from its
# source release with the C++20 fix that torch 2.14's headers need (about 20 minutes on 2 cores).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/.venv"
py="$venv/bin/python"
stamp="$venv/.mmhrnet-setup"
wheels="$root/.cache/wheels"
cons=(-c "$root/requirements/stack.txt")

digest=$(cat requirements/*.txt tools/setup_env.sh setup.py | sha256sum | cut -d' ' -f1)
if [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
    exit 0
fi

log() { printf '[setup] %s\n' "$*" >&2; }
[[ -x "$py" ]] || { log "creating $venv"; python3 -m venv "$venv"; }
mkdir -p "$wheels"
export PIP_FIND_LINKS="${PIP_FIND_LINKS:+$PIP_FIND_LINKS }$wheels"
pip=(quiet_pip install --disable-pip-version-check --progress-bar off -q "${cons[@]}")
# This machine's pip config names local indexes that lack most projects: drop those warnings.
quiet_pip() { "$py" -m pip "$@" 2> >(grep -v 'it is neither a file nor a directory' >&2); }

if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
    log "installing torch and torchvision (a few minutes)"
fi
"${pip[@]}" torch torchvision setuptools wheel ninja

if ! "$py" -c 'import mmcv.ops' 2>/dev/null; then
    if "${pip[@]}" --only-binary mmcv --no-deps mmcv 2>/dev/null; then
        log "mmcv installed from a prebuilt wheel"
    else
        log "no mmcv wheel found: building mmcv 2.1.0 with ops from source (about 20 minutes on 2 cores)"
        build=$(mktemp -d)
        trap 'rm -rf "$build"' EXIT
        quiet_pip download -q --no-deps --no-binary :all: "${cons[@]}" mmcv -d "$build"
        tar -xzf "$build"/mmcv-*.tar.gz -C "$build"
        src=$(find "$build" -maxdepth 1 -type d -name 'mmcv-*' | head -n1)
        # torch >= 2.10 headers need C++20; mmcv 2.1.0 asks for C++14/17.
        sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
        # mmcv's setup.py needs an older setuptools than torch asks for: only while building.
        quiet_pip install -q setuptools==69.5.1 2>/dev/null
        (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            quiet_pip wheel -q --no-deps --no-build-isolation . -w "$wheels")
        "${pip[@]}" setuptools
        "${pip[@]}" --no-deps --only-binary mmcv mmcv
    fi
fi

log "installing the OpenMMLab packages and their run-time dependencies"
"${pip[@]}" -r requirements/runtime.txt -r requirements/deploy.txt -r requirements/tests.txt mmcv
"${pip[@]}" --no-deps mmpose
"${pip[@]}" --no-deps --no-build-isolation -e .
"$py" -c 'import mmcv.ops, mmengine, mmpose, mmseg, mmdet, mmhrnet' \
    || { log "the stack installed but does not import: see the error above"; exit 1; }
echo "$digest" > "$stamp"
log "ready: $venv"
