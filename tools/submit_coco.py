"""Run a config on COCO test-dev (or any images-info file) and write the leaderboard files.

    python tools/submit_coco.py CONFIG CHECKPOINT --image-info image_info_test-dev2017.json \
        --img-dir data/coco/test2017 --bbox-file test-dev_person_dets.json --name myalg \
        [--out-dir submissions]

Pose configs (mmpose scope) test top-down on ``--bbox-file`` person boxes and write
``person_keypoints_test-dev2017_<name>_results.json``; detection configs (mmdet scope) write
``detections_test-dev2017_<name>_results.json`` (boxes, and a second ``segm`` folder for masks).
Each file is checked against the image info (known image ids, category ids, 51 finite
keypoint values, finite scores) before it is written, and zipped beside itself
(``mmhrnet.evaluation.submit_coco``).
"""
import argparse

from mmhrnet.engine import build_runner_cfg, parse_runner_args
from mmhrnet.evaluation import submit_coco


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
    results = submit_coco(build_runner_cfg(args), args.checkpoint, args.image_info, args.img_dir,
                          args.name, args.bbox_file, args.testset, args.out_dir)
    for task, paths in results.items():
        summary = paths['summary']
        print(f"{task}: {summary['entries']} results on {summary['images']} images -> "
              f"{paths['json']} and {paths['zip']}")


if __name__ == '__main__':
    main()
