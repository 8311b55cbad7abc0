# DeconvNet without fc6 / fc7 and the 7x7 deconvolution: the decoder unpools pool5 directly.
_base_ = ['../../../../configs/seg_baselines/deconvnet_vgg16-w16_synthetic-parts-256x256.py']
model = dict(decode_head=dict(fc_channels=None))
