"""Semantic segmentation and human parsing (HRNetV2) on mmseg."""
