"""Seconds per image of a detection config's inference on this machine (random weights).

    python tools/misc/det_speed.py [CONFIG] [--shape 800 1333] [--runs 3] [--threads N]

Builds the config's model (no checkpoint download), feeds one image-sized input through its
data preprocessor (padding to a multiple of 32, as in testing) and ``predict`` (RPN, box head,
mask head and mask pasting at the input size), and prints the mean wall time of ``--runs``
runs after one warm-up, with the number of detections of the last run. ``--score-thr``
defaults to 0 so that random weights give ``max_per_img`` (100) detections and the mask head
runs on all of them, as in COCO evaluation of a trained model on a busy image (with the
config's 0.05, random weights give none and only the box stage is timed).
"""
import argparse
import os.path as osp
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='?',
                        default=osp.join(ROOT, 'configs/det/mask_rcnn_hrnetv2p_w32_coco.py'))
    parser.add_argument('--shape', type=int, nargs=2, default=(800, 1333), metavar=('H', 'W'))
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--score-thr', type=float, default=0.0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from mmdet.structures import DetDataSample

    from mmhrnet.utils.build import build_model, load_config
    cfg = load_config(args.config)
    cfg.model.backbone.init_cfg = None
    cfg.model.test_cfg.rcnn.score_thr = args.score_thr
    torch.manual_seed(0)
    model = build_model(cfg)
    h, w = args.shape
    image = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                         scale_factor=(1.0, 1.0), img_id=0))
    data = dict(inputs=[image], data_samples=[sample])
    times = []
    with torch.no_grad():
        for i in range(args.runs + 1):
            start = time.perf_counter()
            batch = model.data_preprocessor(data, False)
            result = model(**batch, mode='predict')[0]
            if i:  # the first run warms up
                times.append(time.perf_counter() - start)
    padded = tuple(batch['inputs'].shape[-2:])
    print(f'{osp.basename(args.config)} at {h}x{w} (padded {padded[0]}x{padded[1]}), '
          f'{torch.get_num_threads()} thread(s): {sum(times) / len(times):.2f} s/img '
          f'(runs: {", ".join(f"{t:.2f}" for t in times)}; '
          f'{len(result.pred_instances)} detections)')


if __name__ == '__main__':
    main()
