# DeconvNet's config unchanged, trained at twice its schedule (compare_seg.py --iters 2400).
_base_ = ['../../../../configs/seg_baselines/deconvnet_vgg16-w16_synthetic-parts-256x256.py']
