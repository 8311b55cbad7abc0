"""The one-pass multi-task model against the three single-task models it replaces, end to end
as a user runs them: image files in, COCO JSON out (:func:`mmhrnet.apis.infer_to_dir`).

* Reference: the three torch models in one :class:`~mmhrnet.apis.HRNetInferencer` (the
  person detector, top-down pose on each of its boxes, the parsing segmentor on the image).
* Paths: the multi-task model (``mmhrnet.HRNetMultiTask``: boxes, masks, keypoints and the
  part map from one backbone pass) in torch and exported to ONNX Runtime / OpenVINO at fp32 and
  int8 (:mod:`mmhrnet.deploy.det`; int8 calibrated on the benchmark's own images).

Images: synthetic, a grid of exactly 1, 4 or 16 people
(:func:`~mmhrnet.analysis.pipeline_bench.crowd_images`). All models have random weights and BN
statistics (the same in every path), so the detectors of both sides keep their ``count`` best
boxes at any score and both sides decode keypoints for the same number of persons.
"""
import os
import os.path as osp
import statistics

from mmhrnet.analysis.pipeline_bench import (_cap_detections, _count_persons, _exported,
                                             _latencies, _time_run, crowd_images, plot_ratios,
                                             random_checkpoint)

MULTITASK = 'mmhrnet::multitask/hrnet-w18-small-v1_1xb8-6e_synthetic-people-256.py'
# The single-task models of the multi-task comparison (docs/multitask.md): the same
# W18-Small-v1 backbone and training images.
SPECIALISTS = dict(
    det='mmhrnet::det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py',
    pose='mmhrnet::pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py',
    seg='mmhrnet::seg/hrnetv2_w18-small_synthetic-parts-256x256.py')
REFERENCE = 'three torch models'
PATHS = ('torch', 'onnxruntime fp32', 'openvino fp32', 'onnxruntime int8', 'openvino int8')


def cap_persons(model, count):
    """Detections of ``model`` (a detector or the multi-task model, torch or exported): its
    ``count`` best at any score, and keypoints for each of them."""
    _cap_detections(model, count)
    head = getattr(getattr(model, 'model', model), 'keypoint_head', None)
    if head is not None:
        head.test_cfg.update(max_per_img=count, score_thr=0.0)


def _inferencer(**specs):
    from mmhrnet.apis import HRNetInferencer
    return HRNetInferencer(track=None, bbox_thr=0.0, **specs)


def benchmark_one_pass(mt_cfg, specialist_cfgs, workdir, counts=(1, 4, 16), images=4,
                       size=(256, 256), paths=PATHS, rounds=2, progress=None, log=print,
                       on_row=None):
    """Rows ``dict(persons, path, found, img_s, latency_ms, ratio)`` per persons count: the
    three single-task torch models (:data:`REFERENCE`) first, then the multi-task model on
    each path of ``paths``; ``ratio`` is the speed against the reference, ``found`` the persons
    per image the path wrote.

    Args:
        mt_cfg (Config): The multi-task config.
        specialist_cfgs (dict): ``{'det', 'pose', 'seg': Config}``.
        workdir (str): Images, checkpoints, exports (kept ones are reused) and outputs.
    """
    from mmhrnet.apis import infer_to_dir
    from mmhrnet.apis.sources import iter_frames
    from mmhrnet.deploy import export_model
    os.makedirs(workdir, exist_ok=True)
    specs = {}
    for name, cfg in dict(specialist_cfgs, multitask=mt_cfg).items():
        ckpt = osp.join(workdir, f'{name}_random.pth')
        random_checkpoint(cfg, ckpt)
        specs[name] = (cfg, ckpt)
    sets = {n: crowd_images(osp.join(workdir, f'images_{n}x{images}_{size[0]}x{size[1]}'),
                            n, images, size, seed=n) for n in counts}
    runners = {REFERENCE: _inferencer(**{k: specs[k] for k in specialist_cfgs})}
    for path in paths:
        if path == 'torch':
            runners[path] = _inferencer(multitask=specs['multitask'])
            continue
        backend, precision = path.split()
        folder = osp.join(workdir, f'export_multitask_{precision}')
        if not _exported(folder, backend, precision):  # a kept work dir: the same weights
            export_model(mt_cfg, specs['multitask'][1], folder, backend=backend,
                         precision=precision, calib=8,
                         calib_images=sets[max(counts)]['folder'], logger=lambda *a: None)
            log(f'exported multitask {backend} {precision}')
        runners[path] = _inferencer(multitask=folder, backend=backend)
    rows = []
    for n in counts:
        for inferencer in runners.values():
            for model in inferencer.models.values():
                cap_persons(model, n)
        folder = sets[n]['folder']
        frames = list(iter_frames(folder))
        ref_seconds = None
        for path, inferencer in runners.items():
            out = osp.join(workdir, 'out', f'{n}_{path.replace(" ", "_")}')
            seconds = _time_run(lambda: infer_to_dir(inferencer, folder, out, pictures=False,
                                                     progress=False), rounds)
            latency = statistics.median(_latencies(inferencer.predict, frames))
            ref_seconds = ref_seconds or seconds
            rows.append(dict(persons=n, path=path, found=_count_persons(out) / len(frames),
                             images=len(frames), img_s=len(frames) / seconds,
                             latency_ms=latency * 1e3, ratio=ref_seconds / seconds))
            if progress is not None:
                progress.update(1)
            if on_row is not None:
                on_row(rows)
            log(f"{n} persons, {path}: {rows[-1]['img_s']:.2f} img/s, "
                f"{rows[-1]['ratio']:.2f}x the three models")
    return rows


def format_rows(rows):
    lines = ['| persons / image | path | found / image | img/s | latency ms | '
             'vs three torch models |', '| --- | --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {r['persons']} | {r['path']} | {r['found']:.1f} | {r['img_s']:.2f} | "
                     f"{r['latency_ms']:.0f} | {r['ratio']:.2f}x |")
    return '\n'.join(lines)


def plot(rows, path):
    """Bars: each path's end-to-end speed against the three torch models, per persons count."""
    plot_ratios([dict(r, scenario='one pass') for r in rows], path, reference=REFERENCE,
                versus='the three torch models')
