"""What this CPU offers, in one place: read once from /proc/cpuinfo and used by the torch paths
(``--amp``, the fast path's bf16) and the exported ones (OpenVINO's bf16 hint, ONNX Runtime's
int8 range) alike, so that both always agree; the number of threads torch runs with, and the
cores the process may use."""
import contextlib
import functools
import os

import torch


@functools.lru_cache(maxsize=None)
def cpu_flags():
    """The feature flags of this CPU (``flags`` of /proc/cpuinfo); None where unknown."""
    try:
        with open('/proc/cpuinfo') as f:
            return frozenset(next(line for line in f if line.startswith('flags')).split()[2:])
    except (OSError, StopIteration):
        return None


def cpu_model():
    """This CPU's model name (``model name`` of /proc/cpuinfo), or the platform's processor."""
    try:
        with open('/proc/cpuinfo') as f:
            return next(line for line in f if line.startswith('model name')).split(':', 1)[1] \
                .strip()
    except (OSError, StopIteration):
        import platform
        return platform.processor() or 'unknown'


def _has(*names):
    flags = cpu_flags()
    return None if flags is None else bool(set(names) & flags)


def cpu_has_amx():
    """Whether this CPU has AMX bf16 tiles (``amx_bf16``); None where unknown."""
    return _has('amx_bf16')


def cpu_has_bf16():
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX); None where unknown."""
    return _has('avx512_bf16', 'amx_bf16')


def cpu_has_vnni():
    """Whether this CPU has 8-bit dot-product instructions (AVX512-VNNI, AVX-VNNI or AMX
    int8); None where unknown."""
    return _has('avx512_vnni', 'avx_vnni', 'amx_int8')


def cpu_summary():
    """One line: the model name and the features that decide the fast paths."""
    flags = cpu_flags() or set()
    features = ', '.join(f for f in ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni',
                                     'avx512_bf16', 'amx_bf16') if f in flags)
    return f'{cpu_model()} ({features or "features unknown"})'


@functools.lru_cache(maxsize=None)
def usable_cores():
    """The cores this process may run on (its affinity where the OS reports one)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextlib.contextmanager
def torch_threads(threads=None):
    """torch's intra-op threads set to ``threads`` inside the block (None: left as they are),
    restored after it."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        if threads:
            torch.set_num_threads(before)
