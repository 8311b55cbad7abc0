"""HRNet (Wang et al., "Deep High-Resolution Representation Learning", TPAMI 2020).

One implementation for pose (V1), segmentation (V2) and detection (V2p). Its state-dict keys
are those of the official repositories, mmpose, mmseg, mmdet and timm, and every behaviour in
which those copies differ is an explicit argument: the fusion upsampling (``upsample_mode``),
the stage-4 outputs (``multiscale_output``), ``norm_eval`` and the default ``init_cfg``.

``defaults='mmpose' | 'mmseg' | 'mmdet'`` takes one package's values (its column of
:data:`UPSTREAM_DEFAULTS`, the one record of how the three copies differ; ``docs/drop_in.md``
renders it) for every argument a config leaves out, including how that package reads
``extra``, so that an upstream config works after changing ``type='HRNet'`` to
``type='mmhrnet.HRNet'`` plus that one argument.
"""
import copy
import logging
import os.path as osp

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule, constant_init
from mmengine.runner.checkpoint import _load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm

from mmhrnet.models.v2 import check_upsample_mode
from mmhrnet.registry import MODELS
from mmhrnet.utils.checkpoint import (CLS_HEAD_PREFIXES, CheckpointError, load_state_strict,
                                      read_checkpoint, state_dict_of, strip_prefix)

# One row per stage: (num_modules, num_branches, block, num_blocks, num_channels).
ARCH_ZOO = {
    # Official cls_hrnet_w18_small_v1: 16 wide, one 32-channel Bottleneck, 2 blocks per branch.
    'w18_small_v1': ((1, 1, 'BOTTLENECK', (1, ), (32, )),
                     (1, 2, 'BASIC', (2, 2), (16, 32)),
                     (1, 3, 'BASIC', (2, 2, 2), (16, 32, 64)),
                     (1, 4, 'BASIC', (2, 2, 2, 2), (16, 32, 64, 128))),
    # Official cls_hrnet_w18_small_v2 (mmseg's hr18s).
    'w18_small_v2': ((1, 1, 'BOTTLENECK', (2, ), (64, )),
                     (1, 2, 'BASIC', (2, 2), (18, 36)),
                     (3, 3, 'BASIC', (2, 2, 2), (18, 36, 72)),
                     (2, 4, 'BASIC', (2, 2, 2, 2), (18, 36, 72, 144))),
    **{
        f'w{c}': ((1, 1, 'BOTTLENECK', (4, ), (64, )),
                  (1, 2, 'BASIC', (4, 4), (c, 2 * c)),
                  (4, 3, 'BASIC', (4, 4, 4), (c, 2 * c, 4 * c)),
                  (3, 4, 'BASIC', (4, 4, 4, 4), (c, 2 * c, 4 * c, 8 * c)))
        for c in (18, 30, 32, 40, 44, 48, 64)
    },
}
STAGE_KEYS = ('num_modules', 'num_branches', 'block', 'num_blocks', 'num_channels')
KAIMING_INIT = [dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
# What each package's HRNet does with an argument or ``extra`` key that a config leaves out.
#   multiscale_output: the argument's default.
#   extra_multiscale: the default of ``extra['stage4']['multiscale_output']``, or None where the
#       package ignores that key (mmseg, mmdet: the argument alone decides).
#   upsample: fixed fusion (mode, align_corners), or None: ``extra['upsample']``, else nearest.
UPSTREAM_DEFAULTS = {
    'mmhrnet': dict(multiscale_output=True, extra_multiscale=True, upsample=None,
                    norm_eval=False, init_cfg=KAIMING_INIT),
    # mmpose has no multiscale_output argument: extra alone decides, one output when absent.
    'mmpose': dict(multiscale_output=True, extra_multiscale=False, upsample=None,
                   norm_eval=False,
                   init_cfg=[dict(type='Normal', std=0.001, layer=['Conv2d']),
                             dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]),
    'mmseg': dict(multiscale_output=True, extra_multiscale=None, upsample=('bilinear', False),
                  norm_eval=False, init_cfg=KAIMING_INIT),
    'mmdet': dict(multiscale_output=True, extra_multiscale=None, upsample=('nearest', None),
                  norm_eval=True, init_cfg=KAIMING_INIT),
}


def arch_to_extra(arch):
    """Return the upstream ``extra`` dict of a preset (a fresh copy)."""
    if arch not in ARCH_ZOO:
        raise KeyError(f"Unknown HRNet arch '{arch}'; expected one of {sorted(ARCH_ZOO)}")
    return {
        f'stage{i + 1}': {k: copy.deepcopy(v) for k, v in zip(STAGE_KEYS, row)}
        for i, row in enumerate(ARCH_ZOO[arch])
    }


def _check_extra(extra):
    """Raise one clear error for a malformed ``extra`` dict."""
    if not isinstance(extra, dict):
        raise TypeError(f'HRNet extra must be a dict, got {type(extra).__name__}')
    for s in range(1, 5):
        name = f'stage{s}'
        cfg = extra.get(name)
        if not isinstance(cfg, dict):
            raise KeyError(f"HRNet extra['{name}'] is missing or not a dict")
        missing = [k for k in STAGE_KEYS if k not in cfg]
        if missing:
            raise KeyError(f"HRNet extra['{name}'] lacks {missing}")
        if cfg['block'] not in BLOCKS:
            raise ValueError(f"HRNet extra['{name}']['block'] = {cfg['block']!r}; "
                             f'expected one of {sorted(BLOCKS)}')
        n = cfg['num_branches']
        for key in ('num_blocks', 'num_channels'):
            if len(cfg[key]) != n or not all(isinstance(v, int) and v > 0 for v in cfg[key]):
                raise ValueError(f"HRNet extra['{name}']['{key}'] = {tuple(cfg[key])} must "
                                 f'hold {n} positive ints (num_branches = {n})')
        prev = extra[f'stage{s - 1}']['num_branches'] if s > 1 else 0
        if n < max(prev, 1):
            raise ValueError(f"HRNet extra['{name}']['num_branches'] = {n} is fewer than the "
                             f'{prev} branches of the stage before')


class _ResidualBlock(BaseModule):
    """Residual block base: ``relu(residual(x) + shortcut(x))``, optionally checkpointed."""
    expansion = 1

    def __init__(self, downsample, with_cp, init_cfg):
        super().__init__(init_cfg)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    def _add_conv_norm(self, idx, in_channels, out_channels, kernel_size, stride, conv_cfg,
                       norm_cfg):
        """Add ``conv{idx}`` and its norm (``bn{idx}``/``gn{idx}``): the upstream key names."""
        setattr(self, f'conv{idx}', build_conv_layer(
            conv_cfg, in_channels, out_channels, kernel_size, stride=stride,
            padding=kernel_size // 2, bias=False))
        name, norm = build_norm_layer(norm_cfg, out_channels, postfix=idx)
        self.add_module(name, norm)
        self._norms.append(name)

    @property
    def last_norm(self):
        return getattr(self, self._norms[-1])

    def _inner(self, x):
        out = x
        for i, name in enumerate(self._norms, 1):
            out = getattr(self, name)(getattr(self, f'conv{i}')(out))
            if i < len(self._norms):
                out = self.relu(out)
        out += x if self.downsample is None else self.downsample(x)
        return out

    def forward(self, x):
        if self.with_cp and x.requires_grad:
            return self.relu(cp.checkpoint(self._inner, x, use_reentrant=False))
        return self.relu(self._inner(x))


class BasicBlock(_ResidualBlock):
    """3x3 -> 3x3 (``expansion = 1``)."""
    expansion = 1

    def __init__(self, in_channels, out_channels, stride=1, downsample=None, with_cp=False,
                 conv_cfg=None, norm_cfg=dict(type='BN'), init_cfg=None):
        super().__init__(downsample, with_cp, init_cfg)
        self._norms = []
        self._add_conv_norm(1, in_channels, out_channels, 3, stride, conv_cfg, norm_cfg)
        self._add_conv_norm(2, out_channels, out_channels, 3, 1, conv_cfg, norm_cfg)


class Bottleneck(_ResidualBlock):
    """1x1 -> 3x3 -> 1x1 (``expansion = 4``, stride on the 3x3 as in PyTorch style)."""
    expansion = 4

    def __init__(self, in_channels, out_channels, stride=1, downsample=None, with_cp=False,
                 conv_cfg=None, norm_cfg=dict(type='BN'), init_cfg=None):
        super().__init__(downsample, with_cp, init_cfg)
        mid = out_channels // self.expansion
        self._norms = []
        self._add_conv_norm(1, in_channels, mid, 1, 1, conv_cfg, norm_cfg)
        self._add_conv_norm(2, mid, mid, 3, stride, conv_cfg, norm_cfg)
        self._add_conv_norm(3, mid, out_channels, 1, 1, conv_cfg, norm_cfg)


BLOCKS = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}


def _conv_norm(in_channels, out_channels, kernel_size, stride, conv_cfg, norm_cfg, relu):
    """conv (no bias) + norm [+ ReLU], as an ``nn.Sequential`` keyed 0/1/2 like upstream."""
    layers = [
        build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size, stride=stride,
                         padding=kernel_size // 2, bias=False),
        build_norm_layer(norm_cfg, out_channels)[1]
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class HRModule(BaseModule):
    """Parallel branches of residual blocks followed by multi-resolution fusion.

    Output ``i`` is ``ReLU(sum_j f_ij(x_j))``: identity for ``j == i``; 1x1 conv + norm then
    upsampling by ``2**(j-i)`` for ``j > i``; ``i-j`` strided 3x3 convs for ``j < i``. When an
    upsampled map is larger than branch ``i`` (input sides not multiples of 32) it is resized
    to the exact size with the same mode, as mmseg does.
    """

    def __init__(self, num_branches, block, num_blocks, in_channels, num_channels,
                 multiscale_output=True, with_cp=False, conv_cfg=None,
                 norm_cfg=dict(type='BN'), upsample_mode='nearest', align_corners=None,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.num_branches = num_branches
        self.upsample_mode = upsample_mode
        self.align_corners = align_corners
        self.branches = nn.ModuleList()
        for i in range(num_branches):
            out = num_channels[i] * block.expansion
            downsample = None
            if in_channels[i] != out:
                downsample = _conv_norm(in_channels[i], out, 1, 1, conv_cfg, norm_cfg, False)
            layers = [block(in_channels[i], out, downsample=downsample, with_cp=with_cp,
                            conv_cfg=conv_cfg, norm_cfg=norm_cfg)]
            layers += [block(out, out, with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
                       for _ in range(1, num_blocks[i])]
            self.branches.append(nn.Sequential(*layers))
        self.out_channels = [c * block.expansion for c in num_channels]
        self.fuse_layers = None
        if num_branches > 1:
            self.fuse_layers = nn.ModuleList(
                self._make_fuse_layer(i, conv_cfg, norm_cfg)
                for i in range(num_branches if multiscale_output else 1))
        self.relu = nn.ReLU(inplace=True)

    def _make_fuse_layer(self, i, conv_cfg, norm_cfg):
        c = self.out_channels
        layers = nn.ModuleList()
        for j in range(self.num_branches):
            if j > i:
                layers.append(_conv_norm(c[j], c[i], 1, 1, conv_cfg, norm_cfg, False))
            elif j == i:
                layers.append(None)
            else:
                layers.append(nn.Sequential(*(
                    _conv_norm(c[j], c[i] if k == i - j - 1 else c[j], 3, 2, conv_cfg,
                               norm_cfg, relu=k != i - j - 1) for k in range(i - j))))
        return layers

    def _upsample(self, x, scale, size):
        kw = dict(mode=self.upsample_mode, align_corners=self.align_corners)
        x = F.interpolate(x, scale_factor=scale, **kw)
        # A traced graph (ONNX export) keeps the exact-size resize: whether it is needed depends
        # on the input size, which the trace would otherwise freeze. At equal sizes it is exact.
        if torch.jit.is_tracing() or x.shape[-2:] != size:
            x = F.interpolate(x, size=size, **kw)
        return x

    def forward(self, x):
        # Replace the inputs in the caller's list (as upstream does), so that each branch input
        # is freed as soon as its branch has consumed it.
        for i, branch in enumerate(self.branches):
            x[i] = branch(x[i])
        if self.fuse_layers is None:
            return x
        outs = []
        for i, fuse in enumerate(self.fuse_layers):
            y = None
            for j, xj in enumerate(x):
                if j == i:
                    t = xj
                elif j > i:
                    t = self._upsample(fuse[j](xj), 2**(j - i), x[i].shape[-2:])
                else:
                    t = fuse[j](xj)
                if y is None:
                    y = t
                elif y is x[i]:  # branch outputs feed every fusion: never add into them
                    y = y + t
                else:
                    y += t
            outs.append(self.relu(y))
        return outs


@MODELS.register_module()
class HRNet(BaseModule):
    """HRNet backbone: 4 stages of parallel branches at strides 4, 8, 16 and 32.

    Args:
        arch (str): Preset, one of :data:`ARCH_ZOO` (``'w18_small_v1'``, ``'w18_small_v2'``,
            ``'w18'``, ``'w30'``, ``'w32'``, ``'w40'``, ``'w44'``, ``'w48'``, ``'w64'``).
            Ignored when ``extra`` is given. Defaults to ``'w32'``.
        extra (dict, optional): The upstream ``extra`` dict (``stage1`` ... ``stage4``, each
            with ``num_modules``, ``num_branches``, ``block``, ``num_blocks``,
            ``num_channels``; optional ``stage4.multiscale_output`` and ``upsample``).
        in_channels (int): Input image channels. Defaults to 3.
        multiscale_output (bool, optional): Return all four branches (HRNetV2/V2p, mmseg,
            mmdet) or only the highest-resolution one (HRNetV1). ``False`` here or in
            ``extra['stage4']['multiscale_output']`` (where ``defaults`` reads that key) gives
            one output. Defaults to ``defaults``' reading: True, and with
            ``defaults='mmpose'`` the ``extra`` key, False when absent.
        upsample_mode (str, optional): Fusion upsampling, ``'nearest'`` (official pose /
            classification / detection code, mmpose, mmdet, timm) or ``'bilinear'`` (mmseg,
            official segmentation code). Defaults to bilinear for ``defaults='mmseg'``,
            nearest for ``'mmdet'``, else ``extra['upsample']['mode']`` if present, else
            ``'nearest'``.
        align_corners (bool, optional): ``align_corners`` of bilinear fusion upsampling.
            Defaults to ``extra['upsample']['align_corners']`` if read and present, else None
            for nearest and False for bilinear.
        conv_cfg (dict, optional): Convolution config. Defaults to None (``nn.Conv2d``).
        norm_cfg (dict): Normalisation config. Defaults to ``dict(type='BN')``.
        norm_eval (bool, optional): Keep norm layers in eval mode while training. Defaults
            to True for ``defaults='mmdet'``, else False.
        frozen_stages (int): Freeze the stem (0) and stages 1..n with their transitions;
            -1 freezes nothing. Defaults to -1.
        with_cp (bool): Gradient checkpointing in every block. Defaults to False.
        zero_init_residual (bool): Zero the last norm of every block (skipped when loading a
            pretrained checkpoint). Defaults to False.
        pretrained (str, optional): Deprecated alias of ``init_cfg=dict(type='Pretrained',
            checkpoint=pretrained)``, kept because mmseg models pass it down.
        init_cfg (dict | list[dict], optional): Defaults to Normal(std=0.001) for convs with
            ``defaults='mmpose'``, else Kaiming; 1 for norms.
            ``dict(type='Pretrained', checkpoint=..., prefix=...)`` loads backbone
            keys strictly and reports unused ImageNet classification keys in one line.
        defaults (str, optional): ``'mmpose'``, ``'mmseg'`` or ``'mmdet'``: the package whose
            defaults (:data:`UPSTREAM_DEFAULTS`) fill every argument left as None and decide
            how ``extra`` is read, so that the package's configs work unchanged. None:
            mmhrnet's own (four outputs unless ``extra`` says one, nearest, Kaiming).

    Example:
        >>> import torch
        >>> from mmhrnet.models import HRNet
        >>> model = HRNet(arch='w18').eval()
        >>> for out in model(torch.rand(1, 3, 64, 96)):
        ...     print(tuple(out.shape))
        (1, 18, 16, 24)
        (1, 36, 8, 12)
        (1, 72, 4, 6)
        (1, 144, 2, 3)
        >>> model.out_channels, model.strides
        ((18, 36, 72, 144), (4, 8, 16, 32))
    """

    def __init__(self,
                 arch='w32',
                 extra=None,
                 in_channels=3,
                 multiscale_output=None,
                 upsample_mode=None,
                 align_corners=None,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN'),
                 norm_eval=None,
                 frozen_stages=-1,
                 with_cp=False,
                 zero_init_residual=False,
                 pretrained=None,
                 init_cfg=None,
                 defaults=None):
        if defaults not in (None, *UPSTREAM_DEFAULTS):
            raise ValueError(f'HRNet defaults = {defaults!r}; expected None or one of '
                             f'{sorted(UPSTREAM_DEFAULTS)}')
        self.defaults = defaults or 'mmhrnet'
        pkg = UPSTREAM_DEFAULTS[self.defaults]
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError('HRNet: give init_cfg or pretrained, not both')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(copy.deepcopy(pkg['init_cfg']) if init_cfg is None else init_cfg)
        extra = arch_to_extra(arch) if extra is None else copy.deepcopy(dict(extra))
        _check_extra(extra)
        self.extra = extra
        upsample = {} if pkg['upsample'] else extra.get('upsample', {})
        fixed_mode, fixed_corners = pkg['upsample'] or (None, None)
        self.upsample_mode = upsample_mode or fixed_mode or upsample.get('mode', 'nearest')
        check_upsample_mode(self.upsample_mode, 'HRNet')
        if align_corners is None:
            align_corners = fixed_corners if self.upsample_mode == fixed_mode else upsample.get(
                'align_corners', None if self.upsample_mode == 'nearest' else False)
        self.align_corners = align_corners
        if multiscale_output is None:
            multiscale_output = pkg['multiscale_output']
        if pkg['extra_multiscale'] is not None:
            multiscale_output = multiscale_output and extra['stage4'].get(
                'multiscale_output', pkg['extra_multiscale'])
        self.multiscale_output = bool(multiscale_output)
        self.norm_eval = pkg['norm_eval'] if norm_eval is None else norm_eval
        self.frozen_stages = frozen_stages
        self.zero_init_residual = zero_init_residual
        self._layer_cfg = dict(conv_cfg=conv_cfg, norm_cfg=copy.deepcopy(norm_cfg))
        module_cfg = dict(with_cp=with_cp, upsample_mode=self.upsample_mode,
                          align_corners=self.align_corners, **self._layer_cfg)

        # Stem: two 3x3 stride-2 convs to 1/4 resolution.
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, 64, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, 64, postfix=2)
        self.conv1 = build_conv_layer(conv_cfg, in_channels, 64, 3, stride=2, padding=1,
                                      bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(conv_cfg, 64, 64, 3, stride=2, padding=1, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)

        # Stage 1 (``layer1``): one branch of blocks (Bottlenecks in every preset).
        s1 = extra['stage1']
        block = BLOCKS[s1['block']]
        out = s1['num_channels'][0] * block.expansion
        downsample = _conv_norm(64, out, 1, 1, conv_cfg, norm_cfg, False) if out != 64 else None
        self.layer1 = nn.Sequential(
            block(64, out, downsample=downsample, with_cp=with_cp, **self._layer_cfg),
            *(block(out, out, with_cp=with_cp, **self._layer_cfg)
              for _ in range(1, s1['num_blocks'][0])))
        channels = [out]

        # Stages 2-4, each after a transition that adapts widths and adds branches.
        for s in (2, 3, 4):
            cfg = extra[f'stage{s}']
            block = BLOCKS[cfg['block']]
            widths = [c * block.expansion for c in cfg['num_channels']]
            self.add_module(f'transition{s - 1}', self._make_transition(channels, widths))
            modules = []
            for m in range(cfg['num_modules']):
                last = s == 4 and m == cfg['num_modules'] - 1
                modules.append(HRModule(
                    cfg['num_branches'], block, cfg['num_blocks'], widths, cfg['num_channels'],
                    multiscale_output=self.multiscale_output or not last, **module_cfg))
            self.add_module(f'stage{s}', nn.Sequential(*modules))
            channels = widths

        n_out = len(channels) if self.multiscale_output else 1
        self.out_channels = tuple(channels[:n_out])
        self.strides = tuple(4 * 2**i for i in range(n_out))

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    @property
    def norm2(self):
        return getattr(self, self.norm2_name)

    def _make_transition(self, pre, cur):
        """Adapt existing branches whose width changes; derive new ones from the lowest."""
        layers = nn.ModuleList()
        for i, c in enumerate(cur):
            if i < len(pre):
                layers.append(None if pre[i] == c else _conv_norm(
                    pre[i], c, 3, 1, relu=True, **self._layer_cfg))
            else:
                n = i + 1 - len(pre)
                layers.append(nn.Sequential(*(
                    _conv_norm(pre[-1], c if k == n - 1 else pre[-1], 3, 2, relu=True,
                               **self._layer_cfg) for k in range(n))))
        return layers

    def forward(self, x):
        """Return a tuple of ``len(self.out_channels)`` maps, highest resolution first."""
        x = self.relu(self.norm1(self.conv1(x)))
        x = self.relu(self.norm2(self.conv2(x)))
        xs = [self.layer1(x)]
        for s in (2, 3, 4):
            transition = getattr(self, f'transition{s - 1}')
            xs = [xs[i] if t is None else t(xs[min(i, len(xs) - 1)])
                  for i, t in enumerate(transition)]
            xs = getattr(self, f'stage{s}')(xs)
        return tuple(xs)

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield from (self.conv1, self.norm1, self.conv2, self.norm2)
        for s in range(1, self.frozen_stages + 1):
            yield self.layer1 if s == 1 else getattr(self, f'stage{s}')
            if s < 4:
                yield getattr(self, f'transition{s}')

    def train(self, mode=True):
        """Set train mode, then keep frozen stages and (``norm_eval``) norms in eval mode."""
        super().train(mode)
        for m in self._frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def init_weights(self):
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            self.load_pretrained(self.init_cfg['checkpoint'], self.init_cfg.get('prefix'),
                                 self.init_cfg.get('map_location', 'cpu'))
            self._is_init = True
            return
        super().init_weights()
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, _ResidualBlock):
                    constant_init(m.last_norm, 0)

    def load_pretrained(self, filename, prefix=None, map_location='cpu'):
        """Load backbone weights strictly from an HRNet checkpoint.

        Accepts backbone-only state dicts (ImageNet, timm, official) and whole mmpose / mmseg
        / mmdet models (their ``backbone.`` keys). Classification-head keys and stage-4 fusion
        branches this configuration does not use are skipped and reported in one line; any
        other missing, unexpected or mis-shaped key raises an error naming it and the file.
        """
        ckpt = read_checkpoint(filename) if osp.isfile(filename) else \
            _load_checkpoint(filename, map_location)  # a URL
        state = strip_prefix(state_dict_of(ckpt, f'checkpoint {filename}'))
        if prefix:
            state = strip_prefix(state, prefix, only=True)
            if not state:
                raise CheckpointError(f'checkpoint {filename} has no {prefix!r} keys')
        own = self.state_dict()
        if not own.keys() & state.keys():
            sub = strip_prefix(state, 'backbone.', only=True)
            if own.keys() & sub.keys():
                state = sub
        skipped = {
            'classification head': [k for k in state if k.startswith(CLS_HEAD_PREFIXES)],
            'unused stage-4 fusion': [
                k for k in state if k.startswith('stage4.') and '.fuse_layers.' in k
                and k not in own and not self.multiscale_output],
        }
        ignored = {k for keys in skipped.values() for k in keys}
        state = {k: v for k, v in state.items() if k not in ignored}
        load_state_strict(self, state, filename, f'this HRNet backbone ({self.extra_summary()})')
        report = ', '.join(f'{len(v)} {k} keys' for k, v in skipped.items() if v)
        print_log(
            f'HRNet: loaded {len(state)} backbone keys from {filename}'
            + (f'; ignored {report}' if report else ''), logger='current', level=logging.INFO)

    def extra_summary(self):
        widths = self.extra['stage4']['num_channels']
        return f"branches {tuple(widths)}, {len(self.out_channels)} output(s)"
