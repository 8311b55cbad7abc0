"""A stand-in for mmcv's compiled ``mmcv._ext``, for a machine where mmcv's ops are not built.

mmdet, mmseg and mmpose import ``mmcv.ops``, which needs ``mmcv._ext`` compiled for the local
torch and CUDA. Where no such build exists (a GPU machine with another torch than the CPU
wheelhouse's, and no time to compile mmcv's CUDA sources), ``tools/misc/gpu_check.sh`` copies
this file to ``mmcv/_ext.py`` of a python-only mmcv. The ops the HRNet configs train with then
run without it: ``nms`` and ``roi_align`` (Faster / Mask R-CNN, the multi-task model) through
torchvision's kernels, which compute the same functions (both follow Detectron2's RoIAlign), and
``roi_align_rotated`` (the multi-task model's rotated crops; fixed ``sampling_ratio`` only) in
plain torch, mmcv's kernel written with tensors; all in fp32, whatever the input's precision
(under fp16 autocast, box corners stay exact); every other op raises, naming itself.
``tests/test_mmcv_ext_stand_in.py`` checks each against mmcv's compiled ops. It is a harness for
measuring, never installed with mmhrnet.
"""
import torch
import torchvision  # noqa: F401  (registers torch.ops.torchvision)


def get_compiler_version():
    return 'none: mmcv._ext replaced by torchvision kernels'


def get_compiling_cuda_version():
    return 'none: mmcv._ext replaced by torchvision kernels'


def nms(boxes, scores, iou_threshold, offset=0):
    """mmcv's ``nms``: kept indices by decreasing score (offset 0 only, as mmdet 3 uses)."""
    if offset != 0:
        raise NotImplementedError('mmcv._ext stand-in: nms with offset != 0')
    return torch.ops.torchvision.nms(boxes.float(), scores.float(), float(iou_threshold))


def roi_align_forward(input, rois, output, argmax_y, argmax_x, aligned_height, aligned_width,
                      spatial_scale, sampling_ratio, pool_mode, aligned):
    """mmcv's ``roi_align_forward`` (average pooling) into ``output``."""
    if pool_mode != 1:
        raise NotImplementedError('mmcv._ext stand-in: roi_align with max pooling')
    output.copy_(torch.ops.torchvision.roi_align(
        input.float(), rois.float(), spatial_scale, aligned_height, aligned_width,
        sampling_ratio, aligned))


def roi_align_backward(grad_output, rois, argmax_y, argmax_x, grad_input, aligned_height,
                       aligned_width, spatial_scale, sampling_ratio, pool_mode, aligned):
    """mmcv's ``roi_align_backward`` (average pooling) into ``grad_input``."""
    if pool_mode != 1:
        raise NotImplementedError('mmcv._ext stand-in: roi_align with max pooling')
    n, c, h, w = grad_input.shape
    grad_input.copy_(torch.ops.torchvision._roi_align_backward(
        grad_output.float(), rois.float(), spatial_scale, aligned_height, aligned_width,
        n, c, h, w, sampling_ratio, aligned))


def _roi_align_rotated(input, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio,
                       aligned, clockwise):
    """mmcv's ``roi_align_rotated`` forward with tensors (differentiable in ``input``)."""
    if sampling_ratio <= 0:
        raise NotImplementedError('mmcv._ext stand-in: roi_align_rotated with an adaptive '
                                  'sampling_ratio')
    n, c, height, width = input.shape
    input, rois = input.float(), rois.float()
    offset = 0.5 if aligned else 0.0
    cx = rois[:, 1] * spatial_scale - offset
    cy = rois[:, 2] * spatial_scale - offset
    w, h = rois[:, 3] * spatial_scale, rois[:, 4] * spatial_scale
    theta = -rois[:, 5] if clockwise else rois[:, 5]
    if not aligned:
        w, h = w.clamp(min=1.0), h.clamp(min=1.0)
    steps_h = torch.arange(pooled_height * sampling_ratio, device=input.device) + 0.5
    steps_w = torch.arange(pooled_width * sampling_ratio, device=input.device) + 0.5
    yy = (-h / 2)[:, None] + steps_h[None] * (h / pooled_height / sampling_ratio)[:, None]
    xx = (-w / 2)[:, None] + steps_w[None] * (w / pooled_width / sampling_ratio)[:, None]
    cos, sin = theta.cos()[:, None, None], theta.sin()[:, None, None]
    y = yy[:, :, None] * cos - xx[:, None, :] * sin + cy[:, None, None]
    x = yy[:, :, None] * sin + xx[:, None, :] * cos + cx[:, None, None]
    inside = (y >= -1) & (y <= height) & (x >= -1) & (x <= width)
    y, x = y.clamp(min=0), x.clamp(min=0)
    y0, x0 = y.floor().long(), x.floor().long()
    top, right = y0 >= height - 1, x0 >= width - 1
    y0, x0 = y0.clamp(max=height - 1), x0.clamp(max=width - 1)
    y = torch.where(top, y0.to(y.dtype), y)
    x = torch.where(right, x0.to(x.dtype), x)
    y1, x1 = (y0 + 1).clamp(max=height - 1), (x0 + 1).clamp(max=width - 1)
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    flat = input.permute(0, 2, 3, 1).reshape(n * height * width, c)
    base = rois[:, 0].long()[:, None, None] * height * width

    def at(yi, xi):
        return flat[base + yi * width + xi]  # R, Hs, Ws, C

    value = (at(y0, x0) * (hy * hx)[..., None] + at(y0, x1) * (hy * lx)[..., None] +
             at(y1, x0) * (ly * hx)[..., None] + at(y1, x1) * (ly * lx)[..., None])
    value = value * inside[..., None]
    r = rois.shape[0]
    value = value.view(r, pooled_height, sampling_ratio, pooled_width, sampling_ratio, c)
    return value.mean(dim=(2, 4)).permute(0, 3, 1, 2)


def roi_align_rotated_forward(input, rois, output, pooled_height, pooled_width, spatial_scale,
                              sampling_ratio, aligned, clockwise):
    """mmcv's ``roi_align_rotated_forward`` into ``output``."""
    with torch.no_grad():
        output.copy_(_roi_align_rotated(input, rois, pooled_height, pooled_width, spatial_scale,
                                        sampling_ratio, aligned, clockwise))


def roi_align_rotated_backward(grad_output, rois, grad_input, pooled_height, pooled_width,
                               spatial_scale, sampling_ratio, aligned, clockwise):
    """mmcv's ``roi_align_rotated_backward`` into ``grad_input`` (the op is linear in its input,
    so the gradient of the tensor version at zeros is the gradient anywhere)."""
    with torch.enable_grad():
        x = grad_input.new_zeros(grad_input.shape, dtype=torch.float32, requires_grad=True)
        out = _roi_align_rotated(x, rois, pooled_height, pooled_width, spatial_scale,
                                 sampling_ratio, aligned, clockwise)
        grad_input.copy_(torch.autograd.grad(out, x, grad_output.float())[0])


def __getattr__(name):
    """Every other op of mmcv: importable (``mmcv.ops`` checks the names), raising when run."""
    if name.startswith('__'):
        raise AttributeError(name)

    def missing(*args, **kwargs):
        raise NotImplementedError(f'mmcv._ext stand-in: {name} is not available (mmcv\'s ops '
                                  'are not compiled on this machine)')
    return missing
