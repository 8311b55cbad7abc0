"""Config ``type`` typos: the config file and the closest registered names."""
import contextlib
import difflib
import importlib
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


class ConfigOptionError(KeyError):
    """A ``--cfg-options`` key that looks like a misspelling of a key of the config."""

    def __str__(self):
        return str(self.args[0])


# Similarity (difflib ratio) above which a new key is read as a misspelling of an existing one:
# 'flip_tset' / 'flip_test' is 0.89; 'val_dataloader' / 'test_dataloader' (a real new key) 0.76.
_TYPO_CUTOFF = 0.8


def _registered_classes(type_name):
    """The classes registered as ``type_name`` (``'mmhrnet.X'`` or ``'X'``) in any registry."""
    if not isinstance(type_name, str):
        return [type_name] if isinstance(type_name, type) else []
    scope, _, bare = type_name.rpartition('.')
    roots = [r for r in vars(mmengine_registry).values()
             if isinstance(r, mmengine_registry.Registry) and r.parent is None]
    for load in (False, True):  # a second pass imports the registries' modules first
        if load and scope:  # mmhrnet / mmpose / mmdet / mmseg make their registries there
            with contextlib.suppress(ImportError):
                importlib.import_module(f'{scope}.registry')
        found, todo = [], list(roots)
        while todo:
            reg = todo.pop()
            if load and (not scope or reg.scope == scope):
                with contextlib.suppress(Exception):  # an uninstalled package: not a type here
                    reg.import_from_location()
            if bare in reg.module_dict and (not scope or reg.scope == scope):
                found.append(reg.module_dict[bare])
            todo.extend(reg.children.values())
        if found:
            return found
    return []


def _accepts(cls, key):
    """Whether ``cls(**{key: ...})`` names ``key`` as a parameter (of its ``__init__`` or, where it
    passes ``**kwargs`` on, of a base class's)."""
    import inspect
    for klass in getattr(cls, '__mro__', (cls, )):
        init = vars(klass).get('__init__') if isinstance(klass, type) else klass
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            return False
        if key in params:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return False
    return False


def _parameters(type_name):
    """The keyword parameters of the classes registered as ``type_name`` (and of the bases
    they pass ``**kwargs`` to)."""
    import inspect
    names = []
    for cls in _registered_classes(type_name) if type_name else []:
        for klass in getattr(cls, '__mro__', ()):
            init = vars(klass).get('__init__')
            if init is None:
                continue
            try:
                params = inspect.signature(init).parameters.values()
            except (TypeError, ValueError):
                break
            names += [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                            p.KEYWORD_ONLY)]
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                break
    return [n for n in names if n != 'self']


def _runner_keys():
    """The top-level keys mmengine's ``Runner.from_cfg`` reads."""
    import inspect

    from mmengine.runner import Runner
    return set(inspect.signature(Runner.__init__).parameters) | {
        'default_scope', 'env_cfg', 'launcher', 'log_processor', 'randomness', 'resume',
        'load_from', 'custom_imports', 'auto_scale_lr', 'tta_model', 'tta_pipeline'}


def check_cfg_options(cfg, options, config_file=None):
    """Refuse a ``--cfg-options`` key that looks like a misspelling of one of the config's keys.

    A key the config lacks is allowed (``merge_from_dict`` adds it, as upstream options often
    are absent from a config) unless it is within one or two letters of an existing sibling
    (difflib ratio >= 0.8), and is not a parameter of the sibling dict's ``type`` (or, at the
    top level, a key the Runner reads): ``model.test_cfg.flip_tset=True`` is refused,
    ``default_hooks.checkpoint.max_keep_iter_ckpts=1`` is not.

    Args:
        cfg (Config): The loaded config, before the options are merged.
        options (dict): ``--cfg-options`` as mmengine's ``DictAction`` parses them.
        config_file (str, optional): The config's file, for the message.

    Raises:
        ConfigOptionError: naming the key and the closest valid key.
    """
    where = config_file or getattr(cfg, 'filename', None) or 'the config'
    root = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg  # a Config is not a dict
    for key in options or {}:
        node, path = root, []
        for part in str(key).split('.'):
            if isinstance(node, (list, tuple)):
                if not part.lstrip('-').isdigit():
                    break
                index = int(part)
                if not -len(node) <= index < len(node):
                    raise ConfigOptionError(f'--cfg-options {key}: {".".join(path)} in {where} '
                                            f'has {len(node)} items, no item {index}')
                node, path = node[index], path + [part]
                continue
            if not isinstance(node, dict) or part.startswith('_'):
                break
            if part in node:
                node, path = node[part], path + [part]
                continue
            known = [k for k in node if isinstance(k, str)] + _parameters(node.get('type'))
            close = difflib.get_close_matches(part, known, n=1, cutoff=_TYPO_CUTOFF)
            if close and not _known_new_key(node, part, top=not path):
                valid = '.'.join(path + close)
                raise ConfigOptionError(f'--cfg-options {key}: {where} has no key '
                                        f"'{'.'.join(path + [part])}'; closest valid key: "
                                        f"'{valid}'")
            break  # a new key: merged as given


def _known_new_key(node, key, top):
    if top:
        return key in _runner_keys()
    return any(_accepts(cls, key) for cls in _registered_classes(node.get('type')))
