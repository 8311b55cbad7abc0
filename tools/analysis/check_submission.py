"""Checks a COCO results json against the upload format before it goes to the server.

    python tools/analysis/check_submission.py work_dirs/test/results.keypoints.json \\
        --image-info data/coco/annotations/image_info_test-dev2017.json --task keypoints
    python tools/analysis/check_submission.py work_dirs/test/results.bbox.json \\
        --image-info data/coco/annotations/image_info_test-dev2017.json --task bbox

Prints one OK line, or the problems and exits with status 1. Use
``mmhrnet.evaluation.package_submission`` to write the named json and zip.
"""
import argparse
import sys

from mmhrnet.evaluation.submission import (TASKS, SubmissionFormatError, check_results,
                                           load_image_ids, load_results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('results', metavar='RESULTS_JSON', help='results json to check')
    parser.add_argument('--image-info', required=True, metavar='IMAGE_INFO_JSON',
                        help='COCO image info (or annotation) json of the test set')
    parser.add_argument('--task', required=True, choices=TASKS)
    args = parser.parse_args(argv)
    try:
        image_ids, category_ids = load_image_ids(args.image_info)
        results = load_results(args.results)
        summary = check_results(results, image_ids, args.task,
                                category_ids=category_ids or None, source=args.results)
    except (SubmissionFormatError, OSError) as e:
        print(f'ERROR: {e}', file=sys.stderr)
        return 1
    print(f"OK: {args.results}: {summary['entries']} {summary['task']} results on "
          f"{summary['images']} of {summary['images_total']} images")
    return 0


if __name__ == '__main__':
    sys.exit(main())
