"""The HRNetV2 representation: every branch upsampled to the highest-resolution one, then
concatenated (``sum(channels)``: 15C for HRNet-WC). Used by the segmentation head
(``mmhrnet.HRNetV2Head``) and the detection pyramid (``mmhrnet.HRFPN``)."""
import torch
import torch.nn.functional as F

UPSAMPLE_MODES = ('nearest', 'bilinear')


def check_upsample_mode(mode, owner):
    """Return ``mode`` if it is one of :data:`UPSAMPLE_MODES`, else raise naming ``owner``."""
    if mode not in UPSAMPLE_MODES:
        raise ValueError(f'{owner} upsample_mode = {mode!r}; expected one of '
                         f'{list(UPSAMPLE_MODES)}')
    return mode


def concat_branches(inputs, mode='bilinear', align_corners=False, expected=None, owner='V2'):
    """Upsample ``inputs[1:]`` to the size of ``inputs[0]`` and concatenate along channels.

    Args:
        inputs (Sequence[Tensor]): Branch maps, highest resolution first.
        mode (str): ``'bilinear'`` or ``'nearest'``.
        align_corners (bool, optional): For bilinear (ignored for nearest).
        expected (Sequence[int], optional): The channels each input must have; a mismatch
            raises an error naming ``owner`` and both channel lists.
        owner (str): The module, for messages.

    Returns:
        Tensor: ``(N, sum(C_i), H_0, W_0)``.

    Example:
        >>> feats = [torch.rand(1, c, 16 // 2**i, 24 // 2**i) for i, c in enumerate([18, 36])]
        >>> concat_branches(feats).shape
        torch.Size([1, 54, 16, 24])
    """
    got = tuple(x.shape[1] for x in inputs)
    if expected is not None and got != tuple(expected):
        raise ValueError(f'{owner} was built for input channels {tuple(expected)} but received '
                         f'{got}')
    size = inputs[0].shape[2:]
    corners = align_corners if mode == 'bilinear' else None
    return torch.cat([inputs[0]] + [F.interpolate(x, size=size, mode=mode, align_corners=corners)
                                    for x in inputs[1:]], dim=1)
