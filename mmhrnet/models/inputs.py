"""Necks and heads that take their input channels from the module feeding them.

The backbone (or a neck) declares ``out_channels``; the module after it either leaves
``in_channels=None`` to have them filled in, or states them and gets them checked at build time,
with a message naming both.
"""
import copy


def inputs_from(cfg, feeder, in_index=None):
    """Return a copy of a neck or head config with ``in_channels`` read from ``feeder``.

    Args:
        cfg (dict): The neck or head config; ``in_channels`` None (fill) or given (check).
        feeder (nn.Module): The backbone or neck feeding it. When it declares no
            ``out_channels`` (e.g. an upstream backbone) the config's own ``in_channels`` stay.
        in_index (int | Sequence[int] | None): The feeder outputs the module reads, as mmseg's
            ``in_index``; None: all of them, as a list (necks).

    Returns:
        dict: The config with ``in_channels`` set.

    Raises:
        ValueError: The given ``in_channels`` differ from what ``feeder`` declares (the message
            names both), ``in_index`` does not fit its outputs, or neither side is known.
    """
    cfg = copy.deepcopy(cfg)
    given, declared = cfg.get('in_channels'), getattr(feeder, 'out_channels', None)
    name, source = cfg.get('type'), type(feeder).__name__
    if declared is None:
        if given is None:
            raise ValueError(f'{source} declares no out_channels: give {name} its in_channels')
        return cfg
    declared = [int(c) for c in ([declared] if isinstance(declared, int) else declared)]
    index = list(in_index) if isinstance(in_index, (list, tuple)) else in_index
    try:
        expected = (declared if index is None else
                    [declared[i] for i in index] if isinstance(index, list) else declared[index])
    except IndexError:
        raise ValueError(f'{name} in_index {in_index} does not fit the {len(declared)} outputs '
                         f'of {source} (out_channels {tuple(declared)})') from None
    if given is None:
        cfg['in_channels'] = expected
    elif (list(given) if isinstance(given, (list, tuple)) else given) != expected:
        shown = tuple(given) if isinstance(given, (list, tuple)) else given
        where = '' if index is None else f' (at in_index {in_index}: {expected})'
        raise ValueError(f'{name} in_channels {shown} do not match the out_channels '
                         f'{tuple(declared)} that {source} declares{where}')
    return cfg
