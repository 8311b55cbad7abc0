"""Run a config on COCO test-dev (or any images-info file) and write the leaderboard files.

    python tools/submit_coco.py CONFIG CHECKPOINT --image-info image_info_test-dev2017.json \
        --img-dir data/coco/test2017 --bbox-file test-dev_person_dets.json --name myalg \
        [--out-dir submissions]

Pose configs (mmpose scope) test top-down on ``--bbox-file`` person boxes and write
``person_keypoints_test-dev2017_<name>_results.json``; detection configs (mmdet scope) write
``detections_test-dev2017_<name>_results.json`` (boxes, and a second ``segm`` folder for masks).
Each file is checked against the image info (known image ids, category ids, 51 finite
keypoint values, finite scores) before it is written, and zipped beside itself.
"""
import argparse
import os.path as osp
import tempfile

from mmengine.runner import Runner

from mmhrnet.engine import build_runner_cfg, load_checkpoint_strict, parse_runner_args
from mmhrnet.engine import retarget_dataset
from mmhrnet.evaluation import package_submission, submission_filename


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--image-info', required=True, help='COCO images-info json')
    parser.add_argument('--img-dir', required=True, help='folder of the images it names')
    parser.add_argument('--bbox-file', help='person detections (required for pose)')
    parser.add_argument('--name', required=True, help='algorithm name in the file names')
    parser.add_argument('--testset', default='test-dev2017')
    parser.add_argument('--out-dir', default='submissions')
    parser.add_argument('--work-dir', help='where to save logs')
    return parse_runner_args(parser, example='test_dataloader.batch_size=8')


def main():
    args = parse_args()
    cfg = build_runner_cfg(args)
    tasks = {'mmpose': ['keypoints'], 'mmdet': ['bbox']}.get(cfg.get('default_scope'))
    if tasks is None:
        raise ValueError(f'{args.config}: COCO submissions are for pose (mmpose) and detection '
                         f"(mmdet) configs, not default_scope {cfg.get('default_scope')!r}")
    if tasks == ['keypoints'] and not args.bbox_file:
        raise ValueError('pose submissions test on person boxes: give --bbox-file')
    for task in tasks:  # refuse a bad name before spending the test run
        submission_filename(task, args.name, args.testset)
    cfg.load_from = None
    cfg.test_dataloader = retarget_dataset(cfg.test_dataloader, args.image_info, args.img_dir,
                                           args.bbox_file)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = osp.join(tmp, 'results')
        if tasks == ['bbox']:
            metric = cfg.test_evaluator.get('metric', 'bbox')
            tasks = [metric] if isinstance(metric, str) else list(metric)
            # The image info gives the COCO category ids (1..90) that labels map to; test-dev
            # has no annotations to load.
            cfg.test_evaluator = dict(type='CocoMetric', metric=tasks, format_only=True,
                                      outfile_prefix=prefix,
                                      ann_file=osp.abspath(args.image_info))
            dataset = cfg.test_dataloader.dataset
            dataset.pipeline = [t for t in dataset.pipeline if t['type'] != 'LoadAnnotations']
        else:
            cfg.test_evaluator = dict(type='CocoMetric', format_only=True,
                                      outfile_prefix=prefix)
        runner = Runner.from_cfg(cfg)
        load_checkpoint_strict(runner.model, args.checkpoint)
        runner.test()
        for task in tasks:
            # bbox and segm share a file name on the server: masks go to their own folder
            out_dir = osp.join(args.out_dir, 'segm') if task == 'segm' else args.out_dir
            paths = package_submission(f'{prefix}.{task}.json', out_dir, args.name, task,
                                       args.image_info, args.testset)
            summary = paths['summary']
            print(f"{task}: {summary['entries']} results on {summary['images']} images -> "
                  f"{paths['json']} and {paths['zip']}")


if __name__ == '__main__':
    main()
