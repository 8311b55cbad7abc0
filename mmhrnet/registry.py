"""mmhrnet's registries: children of mmengine's roots under the scope ``mmhrnet``.

Modules register lazily from ``locations``, so ``type='mmhrnet.HRNet'`` builds from inside
mmpose, mmseg or mmdet (whatever the default scope) with no ``custom_imports``: mmengine
imports ``mmhrnet.registry`` when it meets the ``mmhrnet.`` prefix. Nothing here is registered
under a name that mmpose, mmseg or mmdet already own in their own scopes. Task code lives in
``mmhrnet.pose`` / ``mmhrnet.seg`` / ``mmhrnet.det``.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

_TASKS = ['mmhrnet.pose', 'mmhrnet.seg', 'mmhrnet.det']

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmhrnet.models', *_TASKS])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=_TASKS)
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, locations=_TASKS)
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=_TASKS)
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['mmhrnet.engine'])
