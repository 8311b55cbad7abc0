# DeconvNet with a tenth of the learning rate on fc6 / fc7 / the 7x7 deconvolution.
_base_ = ['../../../../configs/seg_baselines/deconvnet_vgg16-w16_synthetic-parts-256x256.py']
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'decode_head.fc': dict(lr_mult=0.1)}))
