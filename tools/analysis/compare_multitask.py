"""The multi-task model vs the three single-task models: metrics from their work dirs, inference
multiply-adds and speed measured side by side on the same test images, one markdown table.

    python tools/analysis/compare_multitask.py \\
        --multitask configs/multitask/hrnet-w18-small-v1_1xb8-6e_synthetic-people-256.py W \\
        --pose configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py W \\
        --seg configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py W \\
        --det configs/det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py W \\
        [--multitask-given-boxes TEST_DIR] [--pose-on-detections TEST_DIR] \\
        [--num-images 20] [--out table.md]

Each work dir's last validation entry gives the metrics and its best (else last) checkpoint the
weights; the cost is measured with those weights (detections, hence crops and masks, depend on
them). The top-down pose model is timed on all person boxes of each image (its test boxes), and
the "three models" row adds pose, parsing and detection per image.

Keypoint AP comes in two columns, so that keypoint quality and detector quality are told apart:
on the given person boxes of the detection file (the single-task pose model's own validation;
for the multi-task model a ``tools/test.py`` run with ``test_dataloader.dataset.bbox_file`` set,
``--multitask-given-boxes``), and on the model's own detections (the multi-task model's
validation; for the single-task models, the pose model tested on the boxes of the single-task
Mask R-CNN, ``--pose-on-detections``).
"""
import argparse
import torch
from mmengine.config import DictAction

from mmhrnet.analysis.multitask_compare import (build_for_test, flip_test_of, inference_costs,
                                        keypoint_gmacs_per_person, last_val_metrics)
from mmhrnet.tasks import TASKS, multitask_key
from mmhrnet.utils.checkpoint import find_checkpoint

# metric of each column, per model kind: (key in the validation entry, scale to percent)
GIVEN, OWN = 'keypoint AP, given boxes', 'keypoint AP, detected boxes'
COLUMNS = (GIVEN, OWN, 'parsing mIoU', 'box AP', 'mask AP')
POSE, SEG, DET = TASKS['pose'], TASKS['seg'], TASKS['det']
KEYS = dict(
    multitask={OWN: (multitask_key('pose'), POSE.scale),
               'parsing mIoU': (multitask_key('seg'), SEG.scale),
               **{c: (multitask_key('det', c), DET.scale) for c in DET.metrics}},
    pose={GIVEN: (POSE.metric, POSE.scale)},
    seg={'parsing mIoU': (SEG.metric, SEG.scale)},
    det={c: (key, DET.scale) for c, key in DET.metrics.items()})
# optional test runs: option -> (model kind, column, metric key)
EXTRA = dict(multitask_given_boxes=('multitask', GIVEN, multitask_key('pose')),
             pose_on_detections=('pose', OWN, POSE.metric))


def checkpoint_of(work_dir):
    """The work dir's newest loadable best checkpoint, else its newest loadable one."""
    path, _, skipped = find_checkpoint(work_dir, best=True)
    if path is None:
        tried = '; '.join(f'{p}: {why}' for p, why in skipped) or 'none there'
        raise FileNotFoundError(f'no usable checkpoint in {work_dir} ({tried})')
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for kind in KEYS:
        parser.add_argument(f'--{kind}', nargs=2, metavar=('CONFIG', 'WORK_DIR'), required=True)
        parser.add_argument(f'--{kind}-cfg-options', nargs='+', action=DictAction,
                            help=f'config overrides of the {kind} model, as it was trained')
    parser.add_argument('--multitask-given-boxes', metavar='TEST_DIR',
                        help='tools/test.py work dir of the multi-task model on the given boxes')
    parser.add_argument('--pose-on-detections', metavar='TEST_DIR',
                        help="tools/test.py work dir of the pose model on Mask R-CNN's boxes")
    parser.add_argument('--num-images', type=int, default=20, help='test images timed')
    parser.add_argument('--threads', type=int, default=2, help='torch threads while timing')
    parser.add_argument('--out', help='also write the table to this markdown file')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows, models, flips = {}, {}, {GIVEN: {}, OWN: {}}

    def read(work_dir, kind, columns):
        """Metrics of a work dir's newest evaluation; notes the flip test of its keypoints."""
        metrics, cfg = last_val_metrics(work_dir, with_config=True)
        for column in set(columns) & set(flips):
            flips[column][kind] = flip_test_of(cfg)
        return metrics

    for kind in KEYS:
        config, work_dir = getattr(args, kind)
        metrics = read(work_dir, kind, KEYS[kind])
        options = getattr(args, f'{kind}_cfg_options')
        models[kind] = build_for_test(config, checkpoint_of(work_dir), options)
        rows[kind] = {col: metrics[key] * scale for col, (key, scale) in KEYS[kind].items()}
    for option, (kind, column, key) in EXTRA.items():
        if getattr(args, option):
            rows[kind][column] = read(getattr(args, option), kind, [column])[key] * POSE.scale
    for column, by_kind in flips.items():  # like with like: the same flip test on both sides
        if len(set(by_kind.values())) > 1:
            parser.error(f'{column}: the flip test differs between the runs compared '
                         f'({by_kind}); test both with the same setting')
    for kind, cost in inference_costs(models, args.num_images).items():
        rows[kind].update(cost)
        print(kind, rows[kind], flush=True)

    singles = [rows[k] for k in ('pose', 'seg', 'det')]
    three = dict(gmacs=sum(r['gmacs'] for r in singles),
                 s_per_img=sum(r['s_per_img'] for r in singles))
    lines = ['| model | ' + ' | '.join(COLUMNS) + ' | GMACs / image | img/s |',
             '| --- |' + ' --- |' * (len(COLUMNS) + 2)]

    def line(name, row):
        cells = [f'{row[c]:.1f}' if c in row else '' for c in COLUMNS]
        return (f'| {name} | ' + ' | '.join(cells) +
                f" | {row['gmacs']:.2f} | {1 / row['s_per_img']:.2f} |")

    lines.append(line('multi-task (one pass)', rows['multitask']))
    names = dict(pose='top-down pose (per image: all its person boxes)', seg='parsing',
                 det='Mask R-CNN')
    for kind in ('pose', 'seg', 'det'):
        lines.append(line(names[kind], rows[kind]))
    best_single = {c: rows[k][c] for k in ('pose', 'seg', 'det') for c in COLUMNS
                   if c in rows[k]}
    lines.append(line('three single-task models', dict(best_single, **three)))
    ratio = {c: f"{100 * rows['multitask'][c] / best_single[c]:.0f}%"
             if best_single.get(c) and c in rows['multitask'] else 'n/a' for c in COLUMNS}
    lines.append('| multi-task / three | ' + ' | '.join(ratio[c] for c in COLUMNS) +
                 f" | {100 * rows['multitask']['gmacs'] / three['gmacs']:.0f}% | "
                 f"{three['s_per_img'] / rows['multitask']['s_per_img']:.2f}x |")
    flip = {c: ('on' if any(v.values()) else 'off') for c, v in flips.items() if v}
    per_person = keypoint_gmacs_per_person(models['multitask'][0])
    pose = rows['pose']  # its steps hold every person box of an image
    pose_per_person = pose['gmacs'] * pose['images'] / pose['samples']
    lines += ['', f'Flip test: {flip}. GMACs per person, keypoints: multi-task '
              f"{per_person['keypoint_head']:.3f} (keypoint head) + "
              f"{per_person['mask_head']:.3f} (its mask, for given boxes); top-down "
              f"{pose_per_person:.3f}."]
    table = '\n'.join(lines)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')


if __name__ == '__main__':
    main()
