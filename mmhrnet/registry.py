"""mmhrnet's registries: children of mmengine's roots under the scope ``mmhrnet``.

Modules register lazily, so ``type='mmhrnet.HRNet'`` builds from inside mmpose, mmseg or
mmdet (whatever the default scope) with no ``custom_imports``: mmengine imports
``mmhrnet.registry`` when it meets the ``mmhrnet.`` prefix. Nothing here is registered under a
name that mmpose, mmseg or mmdet already own in their own scopes.

Task code lives in ``mmhrnet.pose`` / ``mmhrnet.seg`` / ``mmhrnet.det``, which import mmpose,
mmseg and mmdet. A lookup imports them only when the name is not found yet, the default
scope's task first, so a pose user never imports mmseg or mmdet.
"""
from importlib import import_module

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import DefaultScope, Registry

from mmhrnet.tasks import TASKS

# Default scope -> the subpackage holding mmhrnet's modules for that upstream package.
TASK_PACKAGES = {t.scope: t.package for t in TASKS.values()}
# Rooms built on several task packages: imported after the task packages, on a miss only.
LATE_PACKAGES = ('mmhrnet.multitask', )


class TaskRegistry(Registry):
    """A registry that imports the task subpackages on a miss, one at a time."""

    def import_from_location(self) -> None:
        # With no locations mmengine would fall back to a `mmhrnet.utils.register_all_modules`.
        self._imported = self._imported or not self._locations
        super().import_from_location()

    def get(self, key: str):
        obj = super().get(key)
        scope = DefaultScope.get_current_instance()
        first = TASK_PACKAGES.get(scope.scope_name) if scope is not None else None
        packages = sorted(TASK_PACKAGES.values(), key=lambda p: p != first) + list(LATE_PACKAGES)
        for package in packages:
            if obj is not None:
                break
            import_module(package)
            obj = super().get(key)
        return obj


MODELS = TaskRegistry('model', parent=MMENGINE_MODELS, locations=['mmhrnet.models'])
DATASETS = TaskRegistry('dataset', parent=MMENGINE_DATASETS)
TRANSFORMS = TaskRegistry('transform', parent=MMENGINE_TRANSFORMS)
METRICS = TaskRegistry('metric', parent=MMENGINE_METRICS)
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['mmhrnet.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mmhrnet.engine'])
