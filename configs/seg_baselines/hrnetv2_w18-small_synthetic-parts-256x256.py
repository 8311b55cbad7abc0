"""HRNetV2-W18-Small-v1 + 15C head on the synthetic human parsing task: the reference row of
the comparison (``tools/analysis/compare_seg.py``), unchanged from
``configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py`` (branch widths 16/32/64/128: the
widths the baselines of this folder are reduced to).
"""
_base_ = ['../seg/hrnetv2_w18-small_synthetic-parts-256x256.py']
