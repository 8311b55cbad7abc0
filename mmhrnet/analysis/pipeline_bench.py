"""End-to-end speed of the person pipeline as a user runs it: image files in, COCO JSON out.

Two scenarios, each at an exact number of persons per image (synthetic images of a grid of
people, one per cell):

* ``given boxes``: top-down pose on the persons' boxes (a COCO detection file);
* ``det + pose``: a person detector, then pose on each of its boxes. The detector keeps its
  ``count`` best boxes at any score (random weights: no score means anything), so both
  pipelines see the same number of persons.

The reference is the upstream pipeline with the same weights: mmdet's ``inference_detector``
and mmpose's ``inference_topdown`` on mmdet's / mmpose's own HRNet (and HRFPN), one image at a
time, its results written as COCO JSON. The paths are ``mmhrnet.apis.infer_to_dir`` (what
``tools/infer.py`` runs) with the torch models, the optimised torch models
(``optimize_model``) and the exported models on each backend and precision
(``mmhrnet.deploy.load_backend_model``; whatever part of the detector that exports). Beside
each path's end-to-end speed is the speed of its network alone (detector network on the
image, pose network on every crop and its flip) against the upstream networks, from the same
run: ``e2e / network`` near 1 means the pipeline keeps its network's speed-up, i.e. the code
around the network shrank by as much as the network did (equal code around a faster network
gives less than 1).
"""
import json
import os
import os.path as osp
import statistics
import time

import cv2
import numpy as np
import torch

# The quick pose model at the COCO crop, 256x192: mmpose's HRNet fuses branches only where
# every stride divides the input (192x144 has a 4.5-pixel 1/32 branch).
_CROP_256x192 = {'model.head.decoder.input_size': (192, 256),
                 'model.head.decoder.heatmap_size': (48, 64),
                 'test_dataloader.dataset.pipeline.2.input_size': (192, 256)}
# mmdet's HRFPN has no norm (it ignores norm_cfg): the quick detector's pyramid without one,
# so that the upstream detector is mmdet's throughout.
_PLAIN_HRFPN = {'model.neck.norm_cfg': None}
# name -> (pose config, its overrides), (det config, its overrides), image (H, W)
PRESETS = {
    'quick': (('mmhrnet::pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-192x144.py',
               _CROP_256x192),
              ('mmhrnet::det/mask-rcnn_hrnetv2p-w18-small-v1_1xb8-6e_synthetic-people-128.py',
               _PLAIN_HRFPN), (256, 256)),
    'published': (('mmhrnet::pose/hrnet_w32_coco.py', None),
                  ('mmhrnet::det/faster-rcnn_hrnetv2p-w18-1x_coco.py', None), (480, 640)),
}


def preset_configs(name, pose_config=None, det_config=None):
    """The pose and det :class:`Config` of a preset (a given config file replaces the
    preset's, without its overrides)."""
    from mmhrnet.utils.build import config_file, load_config
    (pose, pose_options), (det, det_options), _ = PRESETS[name]
    return (load_config(pose_config) if pose_config else
            load_config(config_file(pose), pose_options),
            load_config(det_config) if det_config else
            load_config(config_file(det), det_options))
SCENARIOS = ('given boxes', 'det + pose')
UPSTREAM = 'upstream (mmdet + mmpose)'
PATHS = ('torch', 'torch optimize', 'onnxruntime fp32', 'openvino fp32', 'onnxruntime int8',
         'openvino int8')
BF16_PATHS = ('openvino bf16', )  # ONNX Runtime's CPU kernels have no bf16 convolutions


def default_paths(paths=PATHS):
    """``paths``, and OpenVINO bf16 where this CPU has bf16 units (AVX512-BF16 or AMX)."""
    from mmhrnet.utils.cpu import cpu_has_bf16
    return tuple(paths) + (BF16_PATHS if cpu_has_bf16() else ())


def crowd_images(out_dir, count, num, size=(256, 256), seed=0):
    """``num`` JPEG images of exactly ``count`` people each (a grid, one person inside each
    cell, drawn by :mod:`mmhrnet.synthetic`), and a COCO detection file of their boxes.

    Returns:
        dict: ``folder``, ``bbox_file`` and ``boxes`` (image id -> ``(count, 4)`` xyxy).
    """
    from mmhrnet.synthetic.render import render_people, sample_person
    rows = int(np.ceil(np.sqrt(count)))
    cols = int(np.ceil(count / rows))
    height, width = size
    cell = (height // rows, width // cols)
    rng = np.random.default_rng(seed)
    os.makedirs(out_dir, exist_ok=True)
    boxes, dets = {}, []
    for index in range(num):
        image = np.empty((height, width, 3), np.uint8)
        image[:] = rng.integers(40, 220, 3)
        image_boxes = []
        for k in range(count):
            y0, x0 = (k // cols) * cell[0], (k % cols) * cell[1]
            background = np.ascontiguousarray(image[y0:y0 + cell[0], x0:x0 + cell[1]])
            drawn, code = render_people(background, [sample_person(rng, cell, inside=True)])
            image[y0:y0 + cell[0], x0:x0 + cell[1]] = drawn
            ys, xs = np.nonzero(code)
            box = [x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1]
            image_boxes.append([float(v) for v in box])
        image_id = index + 1
        cv2.imwrite(osp.join(out_dir, f'{image_id:012d}.jpg'), image)
        boxes[image_id] = np.array(image_boxes, dtype=np.float32)
        dets += [dict(image_id=image_id, category_id=1, score=1.0,
                      bbox=[x1, y1, x2 - x1, y2 - y1]) for x1, y1, x2, y2 in image_boxes]
    bbox_file = osp.join(out_dir, 'boxes.json')
    with open(bbox_file, 'w') as f:
        json.dump(dets, f)
    return dict(folder=out_dir, bbox_file=bbox_file, boxes=boxes)


# A detector's box regression layers (mmdet's RPN and RoI box heads), zeroed in the random
# weights: random deltas throw boxes onto the image border (zero-width boxes at 640x480, where
# the two pipelines then keep different degenerate boxes); zeroed, the detections are the
# anchors the random scores rank, the same sizes as people, and the compute is unchanged.
BOX_REGRESSION = ('rpn_head.rpn_reg.', 'bbox_head.fc_reg.')
# And the RoI head's classifier set to call every box a person (class 0, logit 3, every other
# 0): random class weights saturate the softmax on some other of the 80 classes, and both
# pipelines keep persons only. The RPN's random scores still rank the boxes.
PERSON_LOGIT = 'bbox_head.fc_cls.'


def random_checkpoint(cfg, path, seed=0):
    """Builds ``cfg``'s model with random weights and BN statistics (the same in every
    path; box regression zeroed and persons first, :data:`BOX_REGRESSION`,
    :data:`PERSON_LOGIT`) and saves them to ``path``."""
    from mmhrnet.utils import fidelity
    from mmhrnet.utils.build import build_model
    torch.manual_seed(seed)
    model = build_model(cfg)
    state = fidelity.randomize(model, seed)
    for key, value in state.items():
        if any(part in key for part in BOX_REGRESSION):
            value.zero_()
        elif PERSON_LOGIT in key:
            value.zero_()
            if key.endswith('bias'):
                value[0] = 3.0
    model.load_state_dict(state, strict=True)
    torch.save({'state_dict': model.state_dict()}, path)


def _cap_detections(model, count):
    """The detector's ``count`` best boxes at any score (where its RoI head reads its test
    settings at run time); exported whole detectors keep theirs."""
    roi_head = getattr(getattr(model, 'model', model), 'roi_head', None)
    if roi_head is not None and getattr(roi_head, 'test_cfg', None) is not None:
        roi_head.test_cfg.max_per_img = count
        roi_head.test_cfg.score_thr = 0.0


class Upstream:
    """The upstream pipeline: mmdet's ``inference_detector`` then mmpose's
    ``inference_topdown`` on the upstream HRNets, results as COCO JSON per image."""

    def __init__(self, pose, det=None):
        self.pose, self.det = pose, det

    def predict(self, image, boxes=None):
        from mmdet.apis import inference_detector
        from mmengine.registry import DefaultScope
        from mmpose.apis import inference_topdown
        if boxes is None:
            with DefaultScope.overwrite_default_scope('mmdet'):
                inst = inference_detector(self.det, image).pred_instances
            person = inst.labels.numpy() == 0  # as mmpose's topdown_demo_with_mmdet.py
            boxes, scores = inst.bboxes.numpy()[person], inst.scores.numpy()[person]
        else:
            scores = np.ones(len(boxes))
        with DefaultScope.overwrite_default_scope('mmpose'):
            samples = inference_topdown(self.pose, image, boxes, bbox_format='xyxy')
        return [dict(bbox=b[:4].tolist(), bbox_score=float(s),
                     keypoints=p.pred_instances.keypoints[0].tolist(),
                     keypoint_scores=p.pred_instances.keypoint_scores[0].tolist())
                for b, s, p in zip(boxes, scores, samples)]

    def run(self, folder, out_dir, boxes=None):
        """Every image of ``folder`` to ``out_dir/predictions/<name>.json``."""
        from mmhrnet.apis.outputs import to_coco_results
        from mmhrnet.apis.sources import folder_images, read_image
        os.makedirs(osp.join(out_dir, 'predictions'), exist_ok=True)
        for path in folder_images(folder):
            name = osp.splitext(osp.basename(path))[0]
            persons = self.predict(read_image(path), None if boxes is None else
                                   boxes[int(name)])
            with open(osp.join(out_dir, 'predictions', name + '.json'), 'w') as f:
                json.dump(to_coco_results(dict(persons=persons), int(name)), f)


def upstream_models(pose_model, pose_cfg, det_model=None, det_cfg=None):
    """The upstream (mmpose / mmdet HRNet) models with our models' weights and test configs."""
    from mmhrnet.analysis.backend_bench import upstream_model
    models = []
    for ours, cfg, package in ((pose_model, pose_cfg, 'mmpose'), (det_model, det_cfg, 'mmdet')):
        if ours is None:
            models.append(None)
            continue
        up = upstream_model(cfg.copy(), package, ours)
        up.load_state_dict(ours.state_dict(), strict=True)
        up.cfg, up.dataset_meta = ours.cfg, ours.dataset_meta
        models.append(up.eval())
    return models


def export_paths(pose_cfg, pose_ckpt, det_cfg, det_ckpt, workdir, paths, calib_images,
                 calib_bbox_file=None, log=print):
    """Export folders of the pose and det models for every backend path in ``paths`` (pose
    with a dynamic batch: all crops of an image in one call; int8 calibrated on
    ``calib_images``, pose on the crops of ``calib_bbox_file``), one folder per task and
    precision, so that each folder's default precision is its own. Returns
    ``{(task, precision): folder}``."""
    from mmhrnet.deploy import export_model
    folders = {}
    for task, config, ckpt in (('pose', pose_cfg, pose_ckpt), ('det', det_cfg, det_ckpt)):
        for path in paths:
            if config is None or path.startswith('torch'):
                continue
            backend, precision = path.split()
            folder = folders[task, precision] = osp.join(workdir, f'export_{task}_{precision}')
            if _exported(folder, backend, precision):
                continue  # a kept work dir: the same seeded random weights, exported before
            export_model(config, ckpt, folder, backend=backend, precision=precision, calib=8,
                         calib_images=calib_images, logger=lambda *a: None,
                         calib_bbox_file=calib_bbox_file if task == 'pose' else None)
            log(f'exported {task} {backend} {precision}')
    return folders


def _exported(folder, backend, precision):
    from mmhrnet.deploy import read_meta
    try:
        return precision in read_meta(folder)['models'].get(backend, {})
    except (FileNotFoundError, ValueError, KeyError):
        return False


def build_inferencer(path, pose_spec, det_spec, folders):
    """The ``HRNetInferencer`` of a path (``det_spec`` None: pose on given boxes)."""
    from mmhrnet.apis import HRNetInferencer
    if path.startswith('torch'):
        return HRNetInferencer(pose=pose_spec, det=det_spec, track=None, bbox_thr=0.0,
                               optimize=path == 'torch optimize')
    backend, precision = path.split()
    return HRNetInferencer(pose=folders['pose', precision],
                           det=folders['det', precision] if det_spec is not None else None,
                           backend=backend, track=None, bbox_thr=0.0)


def _network(model, task):
    """The path's image network alone: pose backbone + head, det backbone + neck + RPN
    convolutions (``ExportedNet``); on a backend, the module calling the backend in the
    backbone's place (it runs that same exported graph)."""
    from mmhrnet.deploy import BackendModel
    from mmhrnet.deploy.task import ExportedNet
    if isinstance(model, BackendModel):
        return model.model.backbone
    return ExportedNet(model, task).eval()


def network_seconds(pose_model, det_model, pose_input, det_input, min_seconds):
    """Median seconds of the pose network on ``pose_input`` plus the det network on
    ``det_input``."""
    from mmhrnet.analysis.backend_bench import time_path
    total = 0.0
    for model, task, x in ((pose_model, 'pose', pose_input), (det_model, 'det', det_input)):
        if model is None:
            continue
        with torch.no_grad():
            total += time_path(_network(model, task), x, min_seconds)[0]
    return total


def _keypoints(out_dir):
    """image id -> (N, K, 2) keypoints of a run's predictions."""
    found = {}
    for name in os.listdir(osp.join(out_dir, 'predictions')):
        with open(osp.join(out_dir, 'predictions', name)) as f:
            entries = json.load(f)
        found[int(osp.splitext(name)[0])] = np.array(
            [np.reshape(e['keypoints'], (-1, 3))[:, :2] for e in entries]).reshape(
                len(entries), -1, 2) if entries else np.zeros((0, 0, 2))
    return found


def keypoint_diff(out_dir, ref_dir):
    """Largest keypoint distance (px) from the reference run, person by person in order; NaN
    when an image's person counts differ."""
    ours, ref = _keypoints(out_dir), _keypoints(ref_dir)
    worst = 0.0
    for image_id, kpts in ref.items():
        other = ours.get(image_id)
        if other is None or other.shape != kpts.shape:
            return float('nan')
        if kpts.size:
            worst = max(worst, float(np.abs(other - kpts).max()))
    return worst


def _time_run(run, rounds):
    """Best of ``rounds`` wall times of ``run()`` (after a first, untimed one)."""
    run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def benchmark_pipeline(pose_cfg, det_cfg, workdir, counts=(1, 4, 16), images=4,
                       size=(256, 256), paths=PATHS, scenarios=SCENARIOS, rounds=2,
                       net_seconds=1.0, progress=None, log=print, on_row=None):
    """Rows ``dict(scenario, persons, found, path, img_s, latency_ms, ratio, net_ratio,
    e2e_vs_net, kpt_diff_px)`` for the pose and det :class:`Config` (``found``: persons per
    image in the path's JSON; ``kpt_diff_px``: the largest keypoint distance from the upstream
    results, NaN where the person counts differ): ``ratio`` is the end-to-end speed against
    the upstream pipeline, ``net_ratio`` the network-only speed against the upstream networks
    (same run). ``on_row(rows)`` is called after each row (to save what is measured)."""
    from mmhrnet.apis import infer_to_dir
    from mmhrnet.apis.sources import iter_frames
    from mmhrnet.deploy.export import default_shape
    use_det = 'det + pose' in scenarios
    os.makedirs(workdir, exist_ok=True)
    pose_ckpt = osp.join(workdir, 'pose_random.pth')
    det_ckpt = osp.join(workdir, 'det_random.pth') if use_det else None
    random_checkpoint(pose_cfg, pose_ckpt)
    if use_det:
        random_checkpoint(det_cfg, det_ckpt)
    sets = {n: crowd_images(osp.join(workdir, f'images_{n}x{images}_{size[0]}x{size[1]}'),
                            n, images, size, seed=n) for n in counts}
    folders = export_paths(pose_cfg, pose_ckpt, det_cfg if use_det else None, det_ckpt,
                           workdir, paths, sets[max(counts)]['folder'],
                           sets[max(counts)]['bbox_file'], log)
    flip = 2 if pose_cfg.model.get('test_cfg', {}).get('flip_test') else 1
    crop = default_shape(pose_cfg, 'pose')
    rows = []
    for scenario in scenarios:
        det = scenario == 'det + pose'
        specs = ((pose_cfg, pose_ckpt), (det_cfg, det_ckpt) if det else None)
        runners = {path: build_inferencer(path, *specs, folders) for path in paths}
        # the torch models give the upstream ones their weights and test configs
        ours = (runners.get('torch') or build_inferencer('torch', *specs, folders)).models
        ours_det = ours.get('det')
        up_pose, up_det = upstream_models(ours['pose'], ours['pose'].cfg,
                                          *((ours_det, ours_det.cfg) if det else (None, None)))
        upstream = Upstream(up_pose, up_det)
        for n in counts:
            data = sets[n]
            for model in [up_det] + [r.models.get('det') for r in runners.values()]:
                if model is not None:
                    _cap_detections(model, n)
            frames = list(iter_frames(data['folder']))
            det_input = None
            if det:
                from mmhrnet.deploy.calibration import calibration_inputs
                det_input = torch.from_numpy(calibration_inputs(
                    ours_det.cfg, ours_det.data_preprocessor, 1,
                    images=frames[0].path)[0])
            pose_input = torch.randn(flip * n, 3, *crop,
                                     generator=torch.Generator().manual_seed(n))
            given = None if det else data['boxes']
            out_ref = osp.join(workdir, 'out', f'{scenario[:3]}_{n}_upstream')
            seconds = _time_run(lambda: upstream.run(data['folder'], out_ref, given), rounds)
            latency = statistics.median(_latencies(
                lambda f: upstream.predict(f.image, None if det else given[int(f.name)]),
                frames))
            ref_net = network_seconds(up_pose, up_det, pose_input, det_input, net_seconds)
            rows.append(_row(scenario, n, UPSTREAM, len(frames), seconds, latency, seconds,
                             ref_net, ref_net, 0.0, out_ref))
            _tick(progress, on_row, rows)
            for path, inferencer in runners.items():
                out = osp.join(workdir, 'out', f'{scenario[:3]}_{n}_{path.replace(" ", "_")}')
                bbox_file = None if det else data['bbox_file']
                seconds = _time_run(lambda: infer_to_dir(
                    inferencer, data['folder'], out, pictures=False, progress=False,
                    bbox_file=bbox_file), rounds)
                latency = statistics.median(_latencies(
                    lambda f: inferencer.predict(f, bboxes=None if det else
                                                 given[int(f.name)]), frames))
                net = network_seconds(inferencer.models['pose'], inferencer.models.get('det'),
                                      pose_input, det_input, net_seconds)
                rows.append(_row(scenario, n, path, len(frames), seconds, latency,
                                 _ref(rows, scenario, n)['seconds'], net, ref_net,
                                 keypoint_diff(out, out_ref), out))
                _tick(progress, on_row, rows)
                log(_describe(rows[-1]))
    return rows


def _ref(rows, scenario, n):
    return next(r for r in rows if r['scenario'] == scenario and r['persons'] == n and
                r['path'] == UPSTREAM)


def _latencies(fn, frames):
    out = []
    for frame in frames:
        start = time.perf_counter()
        fn(frame)
        out.append(time.perf_counter() - start)
    return out


def _tick(progress, on_row, rows):
    if progress is not None:
        progress.update(1)
    if on_row is not None:
        on_row(rows)


def _row(scenario, n, path, images, seconds, latency, ref_seconds, net, ref_net, diff, out):
    persons = _count_persons(out)
    ratio = ref_seconds / seconds
    net_ratio = ref_net / net if net and ref_net else float('nan')
    return dict(scenario=scenario, persons=n, found=persons / images, path=path,
                images=images, seconds=seconds, img_s=images / seconds,
                latency_ms=latency * 1e3, ratio=ratio, net_ratio=net_ratio,
                e2e_vs_net=ratio / net_ratio, kpt_diff_px=diff)


def _count_persons(out):
    total = 0
    for name in os.listdir(osp.join(out, 'predictions')):
        with open(osp.join(out, 'predictions', name)) as f:
            total += len(json.load(f))
    return total


def _describe(r):
    return (f"{r['scenario']}, {r['persons']} persons, {r['path']}: {r['img_s']:.2f} img/s, "
            f"{r['ratio']:.2f}x upstream (network {r['net_ratio']:.2f}x)")


def add_run_args(parser):
    """The arguments the end-to-end benchmark commands share: rounds, threads, work dir and
    outputs."""
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--work-dir', help='keep images, exports and outputs here')
    parser.add_argument('--out', help='chart PNG of the table')
    parser.add_argument('--json', help='also write the rows here')


def row_saver(path):
    """``save(rows)``: writes the rows measured so far to ``path`` (None: nothing), so that
    what is measured survives a stop."""
    def save(rows):
        if path:
            with open(path, 'w') as f:
                json.dump(rows, f, indent=1)
    return save


def count_rows(counts, paths, scenarios):
    return len(counts) * (len(paths) + 1) * len(scenarios)


def format_table(rows):
    lines = ['| scenario | persons / image | path | found / image | img/s | latency ms | '
             'vs upstream | network vs upstream | e2e / network | max keypoint diff px |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['persons']} | {r['path']} | {r['found']:.1f} | "
                     f"{r['img_s']:.2f} | "
                     f"{r['latency_ms']:.0f} | {r['ratio']:.2f}x | {r['net_ratio']:.2f}x | "
                     f"{r['e2e_vs_net']:.2f} | {r['kpt_diff_px']:.2g} |")
    return '\n'.join(lines)


def plot(rows, path):
    """Per scenario, the end-to-end speed of each path against upstream (bars) at each
    persons-per-image count, the network-only ratio as a tick on each bar."""
    plot_ratios(rows, path)


def plot_ratios(rows, path, reference=UPSTREAM, versus='upstream'):
    """Per scenario, bars of each path's ``ratio`` against ``reference`` at each persons count,
    ``net_ratio`` (where a row has one) as a tick on each bar."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    scenarios = list(dict.fromkeys(r['scenario'] for r in rows))
    counts = list(dict.fromkeys(r['persons'] for r in rows))
    names = list(dict.fromkeys(r['path'] for r in rows))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(6.5 * len(scenarios), 4.4),
                             squeeze=False, sharey=True)
    width = 0.8 / len(names)
    tab10 = plt.get_cmap('tab10').colors
    colours = [c for i, c in enumerate(tab10) if i != 7]  # grey (7) is the reference's
    for ax, scenario in zip(axes[0], scenarios):
        for j, name in enumerate(names):
            sel = {r['persons']: r for r in rows if r['scenario'] == scenario and
                   r['path'] == name}
            xs = [i + (j - (len(names) - 1) / 2) * width for i, n in enumerate(counts)
                  if n in sel]
            ratios = [sel[n]['ratio'] for n in counts if n in sel]
            colour = '#888' if name == reference else colours[j % len(colours)]
            ax.bar(xs, ratios, width, color=colour, label=name)
            nets = [sel[n].get('net_ratio', float('nan')) for n in counts if n in sel]
            if any(v == v for v in nets):  # NaN: no network-only measure
                ax.scatter(xs, nets, marker='_', s=120, color='k', zorder=3,
                           label='network alone' if j == len(names) - 1 else None)
        ax.axhline(1.0, color='k', lw=0.8)
        ax.set_xticks(range(len(counts)), [f'{n} / image' for n in counts])
        ax.set_title(f'{scenario}: end to end vs {versus}')
        ax.set_xlabel('persons per image')
    axes[0][0].set_ylabel(f'speed vs {versus} (x)')
    axes[0][-1].legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    tmp = path + '.tmp.png'
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    plt.close(fig)
