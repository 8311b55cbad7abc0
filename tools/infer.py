"""Runs pose, person detection and segmentation on images, folders, videos or a webcam.

    python tools/infer.py demo.jpg --pose POSE_CFG POSE_CKPT --det DET_CFG DET_CKPT
    python tools/infer.py photos/ --pose CFG CKPT --seg SEG_CFG SEG_CKPT --out-dir out
    python tools/infer.py clip.mp4 --pose CFG CKPT --det DET_CFG DET_CKPT --every 2 --smooth
    python tools/infer.py 0 --pose CFG CKPT --det DET_CFG DET_CKPT --show      # webcam 0
    python tools/infer.py val/ --pose CFG CKPT --bbox-file detections.json     # boxes from a file
    python tools/infer.py demo.jpg --pose EXPORT_DIR --backend openvino        # exported model
    python tools/infer.py clip.mp4 --det DIR --pose DIR --backend openvino --threads det=2 pose=1
    python tools/infer.py photos/ --multitask MT_CFG MT_CKPT    # boxes, masks, keypoints, parts

Writes under --out-dir: predictions/<name>.json (COCO results: keypoints, bbox, segmentation),
vis/<name>.jpg (all tasks drawn), vis/<video>.mp4, seg/<name>.png (class maps). Prints a
progress bar with images/s and a summary line. A bad input or model stops with one error line;
the files of the images before it stay complete. Ctrl-C or SIGTERM stops a video with its JSON
and a playable video of the frames done (exit status 130). See docs/inference.md.
"""
import argparse
import glob
import os.path as osp
import sys

QUICKSTART_CONFIG = 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py'
QUICKSTART_CKPTS = 'work_dirs/quickstart/latest/best_coco_AP_epoch_*.pth'
# The models the inferencer takes, in the order their options are listed (mmhrnet.tasks'
# MODEL_TASKS; not imported here so that --help needs no model package).
TASKS = ('pose', 'det', 'seg', 'multitask')
COCO_EXAMPLE = ('--pose configs/pose/hrnet_w32_coco.py https://download.openmmlab.com/mmpose/v1/'
                'body_2d_keypoint/topdown_heatmap/coco/'
                'td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth')


def what_to_pass() -> str:
    """Example models to pass, printed when a model or its checkpoint is missing."""
    found = sorted(glob.glob(QUICKSTART_CKPTS))
    quick = (f'--pose {QUICKSTART_CONFIG} {found[-1]}' if found else
             f'--pose {QUICKSTART_CONFIG} {QUICKSTART_CKPTS} (after bash tools/quickstart.sh)')
    return (f'The quickstart\'s model: {quick}; COCO: {COCO_EXAMPLE} (see '
            'docs/inference.md)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='image, folder, video file or webcam index (several allowed)')
    for task, what in (('pose', 'top-down pose'), ('det', 'detection'),
                       ('seg', 'segmentation'),
                       ('multitask', 'multi-task (all three from one pass)')):
        parser.add_argument(f'--{task}', nargs='+', metavar=('CONFIG', 'CHECKPOINT'),
                            help=f'{what} model: config and checkpoint (file or URL); with an '
                                 f'exported --backend, the export folder')
    parser.add_argument('--backend', default='torch',
                        choices=('torch', 'onnxruntime', 'openvino'))
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--optimize', action='store_true',
                        help='torch: fold BatchNorm and use channels-last memory (same outputs)')
    parser.add_argument('--threads', nargs='+', metavar='N_OR_TASK=N',
                        help='CPU threads: N for every model, or per task (det=2 pose=1); '
                        'default: all cores for each model in turn')
    parser.add_argument('--out-dir', default='outputs/infer', help='output folder')
    parser.add_argument('--no-pictures', action='store_true', help='write the JSON only')
    parser.add_argument('--show', action='store_true', help='show the pictures in a window')
    parser.add_argument('--every', type=int, default=1, metavar='N',
                        help='keep every N-th video frame')
    parser.add_argument('--bbox-file', metavar='JSON',
                        help='person boxes from COCO detection results, by image id')
    parser.add_argument('--bbox-thr', type=float, default=0.3)
    parser.add_argument('--kpt-thr', type=float, default=0.3)
    parser.add_argument('--track', default='oks', choices=('oks', 'iou', 'none'),
                        help='person ids across video frames')
    parser.add_argument('--smooth', nargs='*', type=float, metavar=('MIN_CUTOFF', 'BETA'),
                        help='One Euro smoothing of video keypoints (defaults 1.0 0.05)')
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error('--every must be >= 1')
    if args.smooth is not None and len(args.smooth) > 2:
        parser.error('--smooth takes at most MIN_CUTOFF BETA')
    args.threads = parse_threads(parser, args.threads)
    return args


def parse_threads(parser, values):
    """``--threads`` as the inferencer's ``threads=``: None, an int, or {task: int}."""
    if not values:
        return None
    if len(values) == 1 and values[0].isdigit() and int(values[0]) >= 1:
        return int(values[0])
    threads = {}
    for value in values:
        task, _, n = value.partition('=')
        if task not in TASKS or not n.isdigit() or int(n) < 1:
            parser.error(f'--threads {value}: give N, or TASK=N with TASK one of '
                         f'{", ".join(TASKS)} and N >= 1')
        threads[task] = int(n)
    return threads


def model_specs(args) -> dict:
    """The --pose/--det/--seg values as the inferencer's specs; SystemExit saying what is
    missing."""
    specs = {}
    for task in TASKS:
        values = getattr(args, task)
        if values is None:
            continue
        wanted = 2 if args.backend == 'torch' else (1, 2)
        if args.backend == 'torch' and len(values) == 1:
            raise SystemExit(f'error: --{task} {values[0]} needs its checkpoint: --{task} CONFIG '
                             f'CHECKPOINT. {what_to_pass()}')
        if len(values) not in ((wanted, ) if isinstance(wanted, int) else wanted):
            raise SystemExit(f'error: --{task} takes CONFIG CHECKPOINT (torch) or EXPORT_DIR, '
                             f'got {len(values)} values')
        specs[task] = tuple(values)
    if not specs:
        raise SystemExit('error: give at least one model: --pose CONFIG CHECKPOINT, --det '
                         'CONFIG CHECKPOINT, --seg CONFIG CHECKPOINT, or --multitask CONFIG '
                         f'CHECKPOINT. {what_to_pass()}')
    if 'multitask' in specs and len(specs) > 1:
        raise SystemExit('error: --multitask gives pose, detection and segmentation from one '
                         'model: pass it without --pose / --det / --seg')
    return specs


def main(argv=None):
    args = parse_args(argv)
    specs = model_specs(args)
    from mmhrnet.apis import (HRNetInferencer, InferenceInputError, ModelLoadError,
                              infer_to_dir)
    smooth = None
    if args.smooth is not None:
        smooth = dict(zip(('min_cutoff', 'beta'), args.smooth))
        smooth = smooth or True
    try:
        inferencer = HRNetInferencer(**specs, backend=args.backend, device=args.device,
                                     bbox_thr=args.bbox_thr, kpt_thr=args.kpt_thr,
                                     track=None if args.track == 'none' else args.track,
                                     smooth=smooth, optimize=args.optimize,
                                     threads=args.threads)
        inputs = [int(i) if i.isdigit() and not osp.exists(i) else i for i in args.inputs]
        summary = infer_to_dir(inferencer, inputs, args.out_dir, every=args.every,
                               show=args.show, pictures=not args.no_pictures,
                               bbox_file=args.bbox_file)
    except (InferenceInputError, ModelLoadError, OSError) as e:
        from mmhrnet.engine import error_line
        print(f'error: {error_line(e)}', file=sys.stderr)
        return 1
    for line in summary['warnings']:
        print(f'warning: {line}', file=sys.stderr)
    backends = ', '.join(f'{t} {b}' for t, b in inferencer.backends.items())
    backends += ' optimized' if args.optimize else ''
    print(f'{summary["images"]} images, {summary["persons"]} persons in '
          f'{summary["seconds"]:.1f} s ({summary["images_per_s"]:.2f} img/s; {backends}); '
          f'results in {args.out_dir} (predictions/, vis/'
          f'{", seg/" if "seg" in inferencer.tasks else ""})')
    return 0


if __name__ == '__main__':
    from mmhrnet.engine import run_main
    sys.exit(run_main(main))  # SIGTERM stops like Ctrl-C: the files written stay complete
