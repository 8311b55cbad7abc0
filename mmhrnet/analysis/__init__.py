"""Measurement of the product rooms, kept apart from them (they never import it).

- :mod:`.backend_bench`: speed of every inference path (upstream, eager, fast torch, ONNX
  Runtime, OpenVINO) against the upstream eager model: timers, peak memory, CPU reference
  peaks, the upstream twins, tables and plots (``tools/analysis/benchmark.py``).
- :mod:`.accuracy`: the task metric of each exported path (``tools/deploy/accuracy.py``).
- :mod:`.export_bench`: whole-model speed and accuracy of the exported detector and
  multi-task model (``tools/analysis/benchmark_export.py``).
- :mod:`.pipeline_bench`: the end-to-end pipeline benchmark (``tools/analysis/benchmark_e2e.py``).
- :mod:`.seg_compare`, :mod:`.seg_diagnose`: the segmentation-baselines comparison and its
  one-batch diagnosis (``tools/analysis/compare_seg.py``).
- :mod:`.multitask_compare`: the multi-task vs single-task comparison and the per-task
  backbone gradients (``tools/analysis/compare_multitask.py``, ``task_gradients.py``).

Compute is counted by :mod:`mmhrnet.utils.complexity`.
"""
