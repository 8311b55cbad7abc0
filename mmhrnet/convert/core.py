"""Key renaming with a full account: every source key is mapped or dropped with its reason."""
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from mmhrnet.utils.checkpoint import compare_keys, state_dict_of, strip_prefix


@dataclass
class Conversion:
    """A converted state dict and what happened to each source key.

    Attributes:
        state_dict (OrderedDict): The converted weights.
        mapped (list[tuple[str, str]]): ``(source key, output key)`` of every kept weight.
        dropped (list[tuple[str, str]]): ``(source key, why)`` of every weight left out.
        source (str): The layout converted from (``SOURCES``).
    """
    state_dict: OrderedDict = field(default_factory=OrderedDict)
    mapped: list = field(default_factory=list)
    dropped: list = field(default_factory=list)
    source: str = ''

    def keep(self, old, new, value):
        if new in self.state_dict:
            raise KeyError(f'{self.source}: {old} and another key both map to {new}')
        self.state_dict[new] = value
        self.mapped.append((old, new))

    def drop(self, old, why):
        self.dropped.append((old, why))

    def check(self, model):
        """Compare with ``model.state_dict()``.

        Returns:
            dict: ``missing`` (model keys the output lacks), ``unexpected`` (output keys the
            model lacks) and ``mismatched`` (``key: output shape vs model shape``):
            :func:`mmhrnet.utils.checkpoint.compare_keys`.
        """
        return compare_keys(model.state_dict(), self.state_dict)

    def summary(self):
        """One line: how many keys were mapped and dropped, and why they were dropped."""
        reasons = {}
        for _, why in self.dropped:
            reasons[why] = reasons.get(why, 0) + 1
        dropped = '; '.join(f'{n} {why}' for why, n in reasons.items())
        return (f'{self.source}: {len(self.mapped)} keys mapped, {len(self.dropped)} dropped'
                + (f' ({dropped})' if dropped else ''))

    def lines(self):
        """Every key: ``mapped OLD -> NEW`` and ``dropped OLD (why)``."""
        return ([f'mapped {o} -> {n}' for o, n in self.mapped]
                + [f'dropped {o} ({why})' for o, why in self.dropped])


def unwrap(checkpoint):
    """The state dict of a checkpoint (``state_dict`` / ``model`` or the dict itself), with
    DataParallel's ``module.`` removed (:mod:`mmhrnet.utils.checkpoint`)."""
    return strip_prefix(state_dict_of(checkpoint))


def rename(state, rules, source, default=None):
    """Apply the first matching rule to each key.

    Args:
        state (dict): Source state dict.
        rules (list[tuple[str, str | None, str]]): ``(regex, replacement, why)``; a None
            replacement drops the key for ``why``.
        source (str): Name of the layout, for messages.
        default (str, optional): Replacement (``re.sub`` on ``^(.*)$``) for keys no rule
            matches; None: such a key raises an error naming it.

    Returns:
        Conversion
    """
    conv = Conversion(source=source)
    compiled = [(re.compile(p), r, why) for p, r, why in rules]
    for key, value in state.items():
        for pattern, repl, why in compiled:
            if pattern.match(key):
                if repl is None:
                    conv.drop(key, why)
                else:
                    conv.keep(key, pattern.sub(repl, key), value)
                break
        else:
            if default is None:
                raise KeyError(f'{source}: no rule for key {key!r}')
            conv.keep(key, re.sub(r'^(.*)$', default, key), value)
    return conv


def require(conv, keys, what):
    """Raise one clear error when the output lacks any of ``keys`` (wrong ``--from``)."""
    absent = [k for k in keys if k not in conv.state_dict]
    if absent:
        sources = [o for o, _ in conv.mapped][:5] + [o for o, _ in conv.dropped][:3]
        raise KeyError(f'not {what}: no {absent} after conversion (source keys start '
                       f'{sources})')
