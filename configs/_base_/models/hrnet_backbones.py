# The HRNet backbone as each task uses it, with the one setting where that task's upstream
# package differs from mmhrnet's defaults. Task configs take one with
#   _base_ = ['mmhrnet::_base_/models/hrnet_backbones.py']
#   model = dict(backbone=dict(_base_.hrnet_v1, arch='w48'))   # or {{_base_.hrnet_v1}}
hrnet_v1 = dict(  # pose (mmpose): only the 1/4 branch feeds the heatmap head
    type='mmhrnet.HRNet', arch='w32', multiscale_output=False)
hrnet_v2 = dict(  # segmentation (mmseg): four branches, fused with bilinear upsampling
    type='mmhrnet.HRNet', arch='w48', upsample_mode='bilinear', align_corners=False)
hrnet_v2p = dict(  # detection (mmdet): four branches, BN statistics frozen while training
    type='mmhrnet.HRNet', arch='w32', norm_eval=True)
