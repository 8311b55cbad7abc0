"""Command-line helpers that `tools/` share: the one-error-line ``main`` wrapper, the runner
config of a command line, dataset retargeting and the overfit schedule."""
import contextlib
import os
import os.path as osp
import shutil
import signal
import sys

from mmhrnet.utils.build import load_config

from .dist import setup_cpu_distributed


TRACEBACK_ENV = 'MMHRNET_TRACEBACK'
_MAX_ERROR_CHARS = 800


def error_line(error):
    """One line for an exception: its message (KeyError's without quotes), on one line, with
    the exception's type where the message alone would not say what happened."""
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    if isinstance(error, OSError) and error.strerror and error.filename is None:
        text = error.strerror  # without the '[Errno 28] ' of OSError(errno, message)
    text = ' '.join(line.strip() for line in text.splitlines() if line.strip())
    if len(text) > _MAX_ERROR_CHARS:
        text = text[:_MAX_ERROR_CHARS - 3] + '...'
    if not text or type(error).__module__.split('.')[0] not in ('builtins', 'mmhrnet') or \
            type(error) in (KeyError, IndexError, TypeError, AttributeError):
        text = f'{type(error).__name__}: {text}' if text else type(error).__name__
    return text


def _sigterm_to_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f'signal {signum}')


def run_main(main, *args):
    """Runs a tool's ``main`` as a command: one ``error: ...`` line and exit status 1 instead of
    a traceback, exit status 130 after Ctrl-C or SIGTERM.

    SIGTERM raises KeyboardInterrupt (as Ctrl-C does), so the ``finally`` blocks of a run close
    what they write (the video and JSON of an inference run) before the process ends. Set
    ``MMHRNET_TRACEBACK=1`` to see the traceback.

    Args:
        main: The tool's function; its return value is the exit status (None: 0).
        *args: Passed to ``main``.

    Returns:
        int: The exit status, for ``sys.exit``.
    """
    with contextlib.suppress(ValueError):  # not the main thread: leave the handler alone
        signal.signal(signal.SIGTERM, _sigterm_to_keyboard_interrupt)
    try:
        status = main(*args)
    except KeyboardInterrupt:
        print('interrupted: stopped; the files written so far are complete', file=sys.stderr,
              flush=True)
        return 130
    except Exception as e:  # a command ends with one line; the library raises
        if os.environ.get(TRACEBACK_ENV):
            raise
        print(f'error: {error_line(e)}', file=sys.stderr, flush=True)
        return 1
    return 0 if status is None else status


@contextlib.contextmanager
def removed_on_failure(folder):
    """Whatever the block creates in ``folder`` (and ``folder`` itself, with any parents it
    needed) is removed when the block raises: a failed ``tools/test.py`` leaves no work dir."""
    folder = osp.abspath(folder)
    new_dirs, parent = [], folder
    while not osp.exists(parent):
        new_dirs.append(parent)
        parent = osp.dirname(parent)
    before = set(os.listdir(folder)) if osp.isdir(folder) else set()
    try:
        yield
    except BaseException:
        if osp.isdir(folder):
            for name in set(os.listdir(folder)) - before:
                path = osp.join(folder, name)
                with contextlib.suppress(OSError):
                    shutil.rmtree(path) if osp.isdir(path) and not osp.islink(path) \
                        else os.remove(path)
        for path in new_dirs:  # innermost first; only if nothing else was put there
            with contextlib.suppress(OSError):
                os.rmdir(path)
        raise


def parse_runner_args(parser, example):
    """Add the options both tools share (``--cfg-options``, ``--launcher``, ``--local_rank``),
    parse the command line and export ``LOCAL_RANK`` as torchrun's older launchers expect.

    Args:
        parser (argparse.ArgumentParser): The tool's parser, with its own options.
        example (str): An override shown in ``--cfg-options``' help.
    """
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config settings, e.g. {example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_runner_cfg(args):
    """Load ``args.config`` and apply ``--work-dir``, ``--launcher`` and ``--cfg-options``.

    The task's scope (mmpose, mmseg or mmdet) comes from the config's ``default_scope``,
    which the task's inherited runtime sets.
    """
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    setup_cpu_distributed(cfg, args.launcher)  # gloo, BN, DDP without device ids
    return cfg


def set_show_dir(cfg, show_dir, interval=1):
    """Turn on the task's visualisation hook (pose, detection or segmentation) for testing."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError('--show-dir needs default_hooks.visualization in the config')
    hook.interval = interval
    if hook.type == 'SegVisualizationHook':  # mmseg's hook saves through the visualizer
        hook.draw = True
        cfg.visualizer.save_dir = show_dir
    else:
        hook.enable = True
        hook['test_out_dir' if hook.type == 'DetVisualizationHook' else 'out_dir'] = show_dir


def retarget_dataset(loader_cfg, ann_file, img_dir, bbox_file=None):
    """Point a dataloader config at a COCO-format annotation file and image folder.

    Paths are made absolute (``data_root`` emptied), so the config's own ``data/coco/`` layout
    does not leak in; the image folder goes where the dataset reads it (mmseg: ``img_path``).
    ``bbox_file`` (top-down pose) sets the person boxes to test with; None tests with
    ground-truth boxes.
    """
    for path, what in ((ann_file, 'annotation file'), (img_dir, 'image folder'),
                       (bbox_file, 'detection file')):
        if path is not None and not os.path.exists(path):
            raise FileNotFoundError(f'{what} not found: {path}')
    dataset = loader_cfg.dataset
    dataset.data_root = ''
    dataset.ann_file = osp.abspath(ann_file)
    prefix = dict(dataset.get('data_prefix', {}))
    # mmseg's datasets name the image folder `img_path`; mmpose's and mmdet's `img`.
    prefix['img_path' if 'img_path' in prefix else 'img'] = osp.abspath(img_dir) + '/'
    dataset.data_prefix = prefix
    if 'bbox_file' in dataset or bbox_file is not None:
        dataset.bbox_file = osp.abspath(bbox_file) if bbox_file else None
    return loader_cfg


def overfit_schedule(cfg, epochs):
    """Set ``cfg`` to overfit in ``epochs`` epochs: 10-step warm-up then cosine decay, one
    validation and one checkpoint at the end, a log line per step, no lr auto-scaling."""
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=10),
                           dict(type='CosineAnnealingLR', T_max=epochs, by_epoch=True)]
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=cfg.train_dataloader.batch_size)
    return cfg
