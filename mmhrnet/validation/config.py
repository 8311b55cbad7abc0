"""Config ``type`` typos: the config file and the closest registered names."""
import contextlib
import difflib
import re

from mmengine import registry as mmengine_registry

_NOT_IN = re.compile(r"`?'?([\w.]+)'?`? is not in the (?:([\w]+)::)?(\w+) registry")


def registered_names(root_name):
    """Every name registered in mmengine's root registry ``root_name`` and its children."""
    roots = [r for r in vars(mmengine_registry).values()
             if isinstance(r, mmengine_registry.Registry) and r.name == root_name
             and r.parent is None]
    names, todo = set(), list(roots)
    while todo:
        reg = todo.pop()
        names.update(reg.module_dict)
        prefix = f'{reg.scope}.' if reg.parent is not None else ''
        names.update(prefix + n for n in reg.module_dict)
        todo.extend(reg.children.values())
    return names


class UnregisteredTypeError(KeyError):
    """A config ``type`` that no registry knows (printed without KeyError's quotes)."""

    def __str__(self):
        return str(self.args[0])


def explain_unregistered(error, config_file):
    """An :class:`UnregisteredTypeError` naming ``config_file`` and the closest names for a
    registry miss in ``error``, or None when ``error`` is another error."""
    match = _NOT_IN.search(str(error))
    if match is None:
        return None
    name, scope, registry = match.groups()
    candidates = registered_names(registry)
    close = difflib.get_close_matches(name, sorted(candidates), n=3, cutoff=0.6)
    if not close:  # 'mmhrnet.HRNett': compare without the scope prefix
        bare = {c.split('.')[-1]: c for c in candidates}
        close = [bare[c] for c in difflib.get_close_matches(name.split('.')[-1], sorted(bare),
                                                            n=3, cutoff=0.6)]
    hint = f'; closest registered: {", ".join(close)}' if close else ''
    where = f' ({scope}::{registry} registry)' if scope else f' ({registry} registry)'
    return UnregisteredTypeError(f"{config_file}: type '{name}' is not registered{where}{hint}")


@contextlib.contextmanager
def explain_config_errors(config_file):
    """Re-raise a registry miss while building from ``config_file`` as one clear line."""
    try:
        yield
    except KeyError as e:
        clear = explain_unregistered(e, config_file)
        if clear is None:
            raise
        raise clear from None
