"""The COCO test-dev submission workflow: test a config on an images-info file, write the
leaderboard files, check and zip them (``tools/submit_coco.py`` parses the arguments)."""
import os.path as osp
import tempfile

from mmhrnet.tasks import BY_SCOPE

from .submission import package_submission, submission_filename



def submission_tasks(cfg, name, testset='test-dev2017', bbox_file=None):
    """The result kinds a config submits, after refusing a bad config, name or missing boxes
    (before any test run is spent).

    Returns:
        list[str]: ``['keypoints']`` for pose, the test metric (``bbox``, ``segm``) for det.
    """
    row = BY_SCOPE.get(cfg.get('default_scope'))
    if row is None or not row.submissions:
        raise ValueError(f'{cfg.filename}: COCO submissions are for pose (mmpose) and detection '
                         f"(mmdet) configs, not default_scope {cfg.get('default_scope')!r}")
    if row.name == 'pose' and not bbox_file:
        raise ValueError('pose submissions test on person boxes: give a bbox file')
    tasks = list(row.submissions[:1])
    if row.name == 'det':  # its test metric decides (bbox, or bbox and segm)
        metric = cfg.test_evaluator.get('metric', 'bbox')
        tasks = [metric] if isinstance(metric, str) else list(metric)
    for task in tasks:
        submission_filename(task, name, testset)
    return tasks


def submit_coco(cfg, checkpoint, image_info, img_dir, name, bbox_file=None,
                testset='test-dev2017', out_dir='submissions'):
    """Test ``cfg`` with ``checkpoint`` on the images of ``image_info`` and package the results.

    Pose configs test top-down on ``bbox_file`` person boxes and write
    ``person_keypoints_<testset>_<name>_results.json``; detection configs write
    ``detections_<testset>_<name>_results.json`` (masks in a ``segm`` folder, as the server
    names both files alike). Each file is checked against the image info and zipped beside
    itself.

    Args:
        cfg (Config): A runner config (``mmhrnet.engine.build_runner_cfg``).

    Returns:
        dict: task -> ``package_submission``'s paths and summary.
    """
    from mmengine.runner import Runner

    from mmhrnet.engine import retarget_dataset
    from mmhrnet.utils.checkpoint import load_checkpoint_strict
    tasks = submission_tasks(cfg, name, testset, bbox_file)
    cfg.load_from = None
    cfg.test_dataloader = retarget_dataset(cfg.test_dataloader, image_info, img_dir, bbox_file)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        prefix = osp.join(tmp, 'results')
        if cfg.get('default_scope') == 'mmdet':
            # The image info gives the COCO category ids (1..90) that labels map to; test-dev
            # has no annotations to load.
            cfg.test_evaluator = dict(type='CocoMetric', metric=tasks, format_only=True,
                                      outfile_prefix=prefix, ann_file=osp.abspath(image_info))
            dataset = cfg.test_dataloader.dataset
            dataset.pipeline = [t for t in dataset.pipeline if t['type'] != 'LoadAnnotations']
        else:
            cfg.test_evaluator = dict(type='CocoMetric', format_only=True, outfile_prefix=prefix)
        runner = Runner.from_cfg(cfg)
        load_checkpoint_strict(runner.model, checkpoint)
        runner.test()
        for task in tasks:
            task_dir = osp.join(out_dir, 'segm') if task == 'segm' else out_dir
            out[task] = package_submission(f'{prefix}.{task}.json', task_dir, name, task,
                                           image_info, testset)
    return out
