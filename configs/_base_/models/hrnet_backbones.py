# The HRNet backbone as each task uses it: `type='mmhrnet.HRNet'` plus the drop-in change of the
# task's upstream package (`DROP_IN_CHANGES` in mmhrnet/utils/fidelity.py; tests/test_configs.py
# checks these follow it): `defaults=` names the package whose defaults fill everything left out.
# Task configs take one with
#   _base_ = ['mmhrnet::_base_/models/hrnet_backbones.py']
#   model = dict(backbone=dict(_base_.hrnet_v1, arch='w48'))   # or {{_base_.hrnet_v1}}
hrnet_v1 = dict(  # pose (mmpose): only the 1/4 branch feeds the heatmap head
    type='mmhrnet.HRNet', arch='w32', defaults='mmpose')
hrnet_v2 = dict(  # segmentation (mmseg): four branches, fused with bilinear upsampling
    type='mmhrnet.HRNet', arch='w48', defaults='mmseg')
hrnet_v2p = dict(  # detection (mmdet): four branches, BN statistics frozen while training
    type='mmhrnet.HRNet', arch='w32', defaults='mmdet')
