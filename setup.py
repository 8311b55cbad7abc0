"""Installs mmhrnet; `pip install -e .` links configs/ and tools/ into mmhrnet/.mim so that
`_base_ = 'mmhrnet::pose/...'` and `mim` find them, as in every OpenMMLab package."""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))


def get_version():
    with open(osp.join(ROOT, 'mmhrnet', 'version.py')) as f:
        scope = {}
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension():
    """Expose configs/ and tools/ under mmhrnet/.mim (links in develop mode, copies otherwise)."""
    if 'develop' in sys.argv or any('editable' in a for a in sys.argv):
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv or 'install' in sys.argv:
        mode = 'copy'
    else:
        return
    mim_path = osp.join(ROOT, 'mmhrnet', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src, dst = osp.join(ROOT, name), osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmhrnet',
        version=get_version(),
        description='One HRNet backbone for pose, segmentation and detection on OpenMMLab 2.0',
        long_description=open(osp.join(ROOT, 'README.md')).read(),
        long_description_content_type='text/markdown',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={
            'mmhrnet': ['.mim/model-index.yml', '.mim/configs/**/*.py', '.mim/tools/**/*']
        },
        python_requires='>=3.8',
        license='Apache License 2.0',
        zip_safe=False,
    )
